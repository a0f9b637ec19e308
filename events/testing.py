"""Run the queue in-process, for tests and the benchmark: what `manage.py worker --batch` does."""

from __future__ import annotations

from .worker import Worker


def run_jobs(*, max_tasks: int | None = None) -> int:
    """Dispatch pending events and run every ready job until none is left; returns how many jobs ran."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="test-worker",
        excluded_queue_names=[],
        manage_connections=False,
    )
    worker.run()
    return worker._run_tasks
