"""`manage.py worker`: run jobs and dispatch events (many may run, on many machines)."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

from events.worker import Worker


class Command(BaseCommand):
    help = "Run a job worker: dispatch recorded events and run queued jobs (e-mail, notices, webhooks)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue-name", default="*", help="Queues to work, comma-separated; * for all.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds to sleep when there is nothing to do.")
        parser.add_argument("--batch", action="store_true", help="Exit when nothing is left to do.")
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after this many jobs.")
        parser.add_argument(
            "--schedule-every",
            type=float,
            default=0,
            help="Also run the scheduler (run_schedule) every N seconds; 0 (default) leaves it to cron.",
        )
        parser.add_argument("--worker-id", default=None)

    def handle(self, *args, **options) -> None:
        for name in ("perksu.jobs", "django_tasks", "django_tasks_db"):
            logger = logging.getLogger(name)
            logger.setLevel(logging.INFO if options["verbosity"] else logging.WARNING)
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or get_random_string(32),
            excluded_queue_names=[],
            schedule_every=options["schedule_every"],
        )
        if not options["batch"]:
            worker.configure_signals()
        worker.run()
