"""Jobs on the database queue (django-tasks with its database backend), with retries.

The queue's rows live in the same database as everything else, so
`some_job.enqueue(...)` inside `transaction.atomic()` is part of that
transaction: a job is never enqueued for a change that rolled back, and never
lost for one that committed. Workers (`manage.py worker`, any number, on any
machine) claim ready rows with `SELECT … FOR UPDATE SKIP LOCKED`.

The library runs a job once; this module adds what it lacks:

- `@job(...)` declares a task whose failure re-enqueues it with exponential
  backoff (`backoff_seconds × 2^(attempt-1)`, capped at `max_backoff`, with
  jitter) until `max_attempts`; every failed attempt stays visible in the
  console (Task results) with its traceback, and the last one is retried by
  hand there ("Run again").
- `requeue_stale()` puts a job whose worker died mid-run (still RUNNING after
  `JOB_TIMEOUT`) back in the queue, so it runs again. Every job must therefore
  be safe to run twice: the consumers key what they write (a notice per
  member and event, an e-mail per key) and skip what is already done.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("perksu.jobs")

ATTEMPT = "attempt"
"""The keyword argument every `@job` receives from the queue (1 on the first run)."""


def backoff_delay(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait before attempt `attempt + 1`: base × 2^(attempt-1), capped, ±10 % jitter."""
    delay = min(cap, base * (2 ** (attempt - 1)))
    return delay * random.uniform(0.9, 1.1)  # noqa: S311 (jitter, not a secret)


def job(
    *,
    max_attempts: int = 8,
    backoff_seconds: float = 30,
    max_backoff: float = 6 * 3600,
    queue_name: str = "default",
    priority: int = 0,
) -> Callable[[Callable[..., Any]], Task]:
    """Declare a job: a django-tasks `Task` retried with exponential backoff when it raises.

    The decorated function must be safe to run twice and take JSON arguments.
    Enqueue it as any task: `deliver.enqueue(event_id=str(event.id))`.
    """

    def decorate(func: Callable[..., Any]) -> Task:
        @functools.wraps(func)
        def run(*args: Any, attempt: int = 1, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception:
                if attempt < max_attempts:
                    delay = backoff_delay(attempt, base=backoff_seconds, cap=max_backoff)
                    the_task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
                        *args, attempt=attempt + 1, **kwargs
                    )
                    logger.warning(
                        "job %s failed (attempt %d of %d), runs again in %.0f s",
                        the_task.name,
                        attempt,
                        max_attempts,
                        delay,
                    )
                else:
                    logger.error("job %s failed for the last time (attempt %d)", the_task.name, attempt)
                raise

        the_task = task(queue_name=queue_name, priority=priority)(run)
        return the_task

    return decorate


def job_timeout() -> timedelta:
    return timedelta(seconds=getattr(settings, "JOB_TIMEOUT_SECONDS", 900))


def requeue_stale(*, now=None) -> int:
    """Put back in the queue every job still RUNNING after `JOB_TIMEOUT_SECONDS`: its worker died.

    One conditional UPDATE, safe to run from every worker at once.
    """
    now = now or timezone.now()
    count = DBTaskResult.objects.filter(status="RUNNING", started_at__lt=now - job_timeout()).update(
        status="READY", started_at=None
    )
    if count:
        logger.warning("requeued %d job(s) whose worker stopped mid-run", count)
    return count


def run_again(result: DBTaskResult) -> DBTaskResult:
    """Enqueue a finished (usually FAILED) job again as a first attempt; the old row stays as history."""
    kwargs = dict(result.args_kwargs.get("kwargs", {}))
    kwargs.pop(ATTEMPT, None)
    the_task = result.task.using(run_after=None)
    new = the_task.enqueue(*result.args_kwargs.get("args", []), **kwargs)
    return DBTaskResult.objects.get(pk=new.id)
