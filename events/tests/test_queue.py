"""The outbox, the dispatcher and the job queue: transactional, retried with backoff, surviving a dead worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from events import event_types
from events.dispatch import dispatch_pending
from events.jobs import backoff_delay, requeue_stale, run_again
from events.models import Event
from events.registry import consumers
from events.services import record_event
from events.testing import run_jobs

from . import jobs_for_tests

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_calls():
    jobs_for_tests.CALLS.clear()


def test_an_event_rolled_back_with_its_change_is_never_recorded(tenant):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(tenant_id=tenant.pk, name=event_types.USER_CREATED, payload={"user": {"id": "x"}})
        raise RuntimeError("the change failed")
    assert Event.objects.count() == 0
    record_event(tenant_id=tenant.pk, name=event_types.USER_CREATED, payload={"user": {"id": "x"}})
    assert Event.objects.count() == 1


def test_unknown_event_names_are_refused(tenant):
    with pytest.raises(ValueError, match="Unknown event"):
        record_event(tenant_id=tenant.pk, name="recognition.made", payload={})


def test_dispatch_enqueues_one_job_per_listening_consumer_once(tenant):
    event = record_event(tenant_id=tenant.pk, name=event_types.REDEMPTION_REFUNDED, payload={"x": 1})
    listening = [c for c in consumers() if c.hears(event.name)]
    assert listening, "the in-app consumer hears refunds"
    assert dispatch_pending() == 1
    assert dispatch_pending() == 0  # dispatched once only
    jobs = DBTaskResult.objects.filter(status="READY")
    assert sorted(j.task_path for j in jobs) == sorted(c.job.module_path for c in listening)
    assert all(j.args_kwargs["kwargs"] == {"event_id": str(event.pk)} for j in jobs)
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_enqueue_is_part_of_the_callers_transaction(tenant):
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs_for_tests.flaky.enqueue(name="rolled-back", fail_times=0)
        raise RuntimeError
    assert DBTaskResult.objects.count() == 0


def test_a_failing_job_runs_again_with_exponential_backoff_until_it_succeeds():
    jobs_for_tests.flaky.enqueue(name="a", fail_times=2)
    before = timezone.now()
    assert run_jobs() == 1
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "a failed on purpose" in failed.traceback
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    first_delay = (retry.run_after - before).total_seconds()
    assert 54 <= first_delay <= 67  # 60 s ± 10 % jitter

    # Not before its time: a worker finds nothing ready.
    assert run_jobs() == 0
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    before = timezone.now()
    assert run_jobs() == 1
    second = DBTaskResult.objects.get(status="READY")
    assert second.args_kwargs["kwargs"]["attempt"] == 3
    assert 108 <= (second.run_after - before).total_seconds() <= 133  # doubled: 120 s ± 10 %

    DBTaskResult.objects.filter(pk=second.pk).update(run_after=timezone.now())
    assert run_jobs() == 1
    assert DBTaskResult.objects.get(pk=second.pk).status == "SUCCESSFUL"
    assert DBTaskResult.objects.filter(status="FAILED").count() == 2
    assert list(jobs_for_tests.CALLS) == [("a", 1), ("a", 2), ("a", 3)]


def test_after_the_last_attempt_the_job_stays_failed_and_runs_again_by_hand():
    jobs_for_tests.flaky.enqueue(name="b", fail_times=10)
    for _ in range(3):
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_jobs()
    assert DBTaskResult.objects.filter(status="FAILED").count() == 3
    assert not DBTaskResult.objects.filter(status="READY").exists()  # max_attempts=3: no fourth

    last = DBTaskResult.objects.filter(status="FAILED").order_by("-enqueued_at").first()
    again = run_again(last)
    assert again.status == "READY"
    assert "attempt" not in again.args_kwargs["kwargs"]


def test_backoff_grows_exponentially_and_is_capped():
    assert 27 <= backoff_delay(1, base=30, cap=3600) <= 33
    assert 216 <= backoff_delay(4, base=30, cap=3600) <= 264
    assert backoff_delay(20, base=30, cap=3600) <= 3960


def test_a_job_whose_worker_died_runs_again():
    jobs_for_tests.flaky.enqueue(name="c", fail_times=0)
    job = DBTaskResult.objects.get()
    # A worker claimed it and died: RUNNING, never finished.
    DBTaskResult.objects.filter(pk=job.pk).update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=1), worker_ids=["dead"]
    )
    assert requeue_stale() == 1
    assert DBTaskResult.objects.get(pk=job.pk).status == "READY"
    DBTaskResult.objects.filter(pk=job.pk).update(status="RUNNING", started_at=timezone.now() - timedelta(hours=1))
    assert run_jobs() == 1  # a worker sweeps stale jobs when it starts, then runs it
    job.refresh_from_db()
    assert job.status == "SUCCESSFUL"
    assert job.worker_ids == ["dead", "test-worker"]


def test_a_job_running_within_its_timeout_is_left_alone():
    jobs_for_tests.flaky.enqueue(name="d", fail_times=0)
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now() - timedelta(minutes=1))
    assert requeue_stale() == 0
