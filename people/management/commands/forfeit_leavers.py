"""`manage.py forfeit_leavers [--tenant SLUG]`: return due leavers' wallets to their pools.

Safe to run twice, or from two schedulers at once: each wallet is forfeited under its
row lock and an emptied wallet is not forfeited again. Run it daily."""

from django.core.management.base import BaseCommand, CommandError

from people.leavers import forfeit_leavers
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Return the wallets of deactivated members to the pool once their tenant's forfeit days have passed."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant.")

    def handle(self, *args, tenant=None, **options):
        scope = None
        if tenant:
            scope = Tenant.objects.filter(slug=tenant).first()
            if scope is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
        count, points = forfeit_leavers(tenant=scope)
        self.stdout.write(f"Forfeited {count} wallet(s), {points} point(s) returned to the pool.")
