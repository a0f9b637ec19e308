"""`manage.py reconcile [--tenant SLUG] [--json]`: check the books (SPEC §5); exit 1 on drift."""

import json

from django.core.management.base import BaseCommand, CommandError

from points.reconcile import reconcile


class Command(BaseCommand):
    help = "Check every invariant of the points books; print one line per tenant; exit 1 on any drift."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Check only this tenant.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the reports as JSON.")

    def handle(self, *args, tenant=None, as_json=False, **options):
        reports = reconcile(tenant_slug=tenant)
        if tenant and not reports:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        if as_json:
            self.stdout.write(json.dumps([r.as_dict() for r in reports], indent=2))
        else:
            for report in reports:
                style = self.style.SUCCESS if report.ok else self.style.ERROR
                self.stdout.write(style(report.line()))
            if not reports:
                self.stdout.write("No tenants.")
        if any(not r.ok for r in reports):
            raise SystemExit(1)
