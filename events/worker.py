"""The worker loop: the library's database worker plus the dispatcher and the stale-job sweep.

Each turn: dispatch pending events (outbox → jobs), then claim and run one
ready job (`FOR UPDATE SKIP LOCKED`); when there is nothing to do, sleep for
`interval`. Every minute it also requeues jobs whose worker died.
"""

from __future__ import annotations

import logging
import time

from django.db import close_old_connections
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from .dispatch import dispatch_pending
from .jobs import requeue_stale
from .registry import periodic

logger = logging.getLogger("perksu.jobs")

STALE_SWEEP_SECONDS = 60


class Worker(DatabaseWorker):
    def __init__(self, *, schedule_every: float = 0, manage_connections: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.schedule_every = schedule_every
        # Off when run inside a test's transaction, whose connection must stay open.
        self.manage_connections = manage_connections
        self._last_sweep = 0.0
        self._last_schedule = 0.0
        self._last_periodic: dict[str, float] = {}

    def claim_one(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None
            raise

    def housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep >= STALE_SWEEP_SECONDS:
            self._last_sweep = now
            requeue_stale()
        for entry in periodic():
            if now - self._last_periodic.get(entry.name, 0.0) >= entry.every_seconds:
                self._last_periodic[entry.name] = now
                try:
                    entry.func()
                except Exception:  # one failing hook must not stop the worker; it runs again next time
                    logger.exception("periodic %s failed", entry.name)
        if self.schedule_every and now - self._last_schedule >= self.schedule_every:
            self._last_schedule = now
            from .schedule import run_schedule

            run_schedule()

    def run(self) -> None:
        logger.info("worker %s started (queues %s)", self.worker_id, ",".join(self.queue_names))
        while self.running:
            if self.manage_connections:
                close_old_connections()
            self.housekeeping()
            try:
                dispatched = dispatch_pending()
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                dispatched = 0
            task_result = self.claim_one()
            if task_result is not None:
                self.run_task(task_result)
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if task_result is None and not dispatched:
                if self.batch:
                    return
                if self.running:
                    time.sleep(self.interval)
