"""`manage.py devserver [addr:port]`: the development server with a job worker beside it.

The worker runs as a child process (`manage.py worker`, running the scheduler
every 5 minutes too), so e-mails, printed by the console e-mail backend, appear
in the same terminal; both stop with Ctrl-C.
"""

from __future__ import annotations

import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the development server and a job worker beside it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, **options) -> None:
        worker = None
        # runserver's autoreloader runs this command again in a child (RUN_MAIN=true): one worker only.
        if os.environ.get("RUN_MAIN") != "true":
            manage = os.path.abspath(sys.argv[0])
            worker = subprocess.Popen([sys.executable, manage, "worker", "--schedule-every", "300"])  # noqa: S603
            self.stdout.write(f"Job worker started (pid {worker.pid}); e-mails are printed below.")
        try:
            call_command("runserver", options["addrport"])
        finally:
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=10)
