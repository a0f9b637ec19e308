"""`manage.py insights_rollups [--tenant SLUG] [--days N]`: build the insights rollups of the last N
closed days (default 1: what the nightly job does), the closed months they cover, and the members'
last recognition received. Idempotent; `--days 366` fills a year for a tenant that has none."""

from django.core.management.base import BaseCommand, CommandError

from insights.rollups import refresh
from tenants.models import Tenant


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="one tenant's slug (default: every active tenant)")
        parser.add_argument("--days", type=int, default=1, help="closed days to (re)build, 1–366")

    def handle(self, *args, tenant=None, days=1, **options):
        if not 1 <= days <= 366:
            raise CommandError("--days is 1 to 366.")
        tenants = Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("slug")
        if tenant:
            tenants = Tenant.objects.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug '{tenant}'.")
        for t in tenants:
            refresh(t, days=days)
            self.stdout.write(f"{t.slug}: {days} day(s) built")
