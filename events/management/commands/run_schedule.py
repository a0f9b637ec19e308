"""`manage.py run_schedule`: enqueue the scheduled jobs that are due (idempotent; run it from cron every 10 minutes)."""

from django.core.management.base import BaseCommand

from events.schedule import run_schedule


class Command(BaseCommand):
    help = "Enqueue the scheduled jobs that are due: reminders, digests, the nightly reconcile, forfeits, purges."

    def handle(self, *args, **options) -> None:
        enqueued = run_schedule()
        for line in enqueued:
            self.stdout.write(f"enqueued {line}")
        self.stdout.write(f"{len(enqueued)} job(s) enqueued.")
