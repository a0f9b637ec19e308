"""`manage.py issue_api_token <email> [--name NAME]`: a new API token for an active member, printed once.

For scripts and operators (CI's fuzzing signs in each role with it). The token is
stored only as a hash, like one from `POST /api/v1/auth/token/`, and expires after
`API_TOKEN_TTL`. DRF's `drf_create_token` writes DRF's own clear-text table, which
the API no longer reads: use this instead.
"""

from django.core.management.base import BaseCommand, CommandError

from identity.services import api_token_issue
from perksu.errors import DomainError
from tenants.models import User


class Command(BaseCommand):
    help = "Issue an API token for the member with this e-mail and print it (it is not shown again)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="manage.py issue_api_token", help="a label for the token")

    def handle(self, *args, email: str, name: str, **options):
        user = User.objects.for_email(email)
        if user is None:
            raise CommandError(f"No member with the e-mail {email!r}.")
        try:
            _, secret = api_token_issue(user=user, name=name)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(secret)
