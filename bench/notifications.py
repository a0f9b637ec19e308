"""Award throughput with notifications on against the same run with them off (SPEC §12, docs/PERFORMANCE.md).

"off" sets EVENTS_ENABLED=False: no event row is written. "on" writes the
`recognition.created` row in the award's statement — the whole cost notifications
add to an award; the consumers run in workers, which in production run on their own
machines. "on + worker" also runs one job worker (`manage.py worker`, e-mail to a
dummy backend) on the same machine beside the load, so its dispatching, notices and
e-mails compete for the same cores and database: the worst case of one small host.
The runs alternate off, on, on + worker… on one tenant, so a change in the machine's
load (it is shared) touches every side; the ratios are of the summed awards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _worker() -> subprocess.Popen:
    env = dict(os.environ, EMAIL_URL="dummymail://", EVENTS_ENABLED="True")
    return subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), "worker", "--interval", "0.2", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def phase_notifications(run, *, rounds: int = 2) -> None:
    from bench.fixtures import bench_tenant
    from bench.load import run_service
    from events.models import Event, Notification

    c = run.config
    t = bench_tenant("ntf", members=c.recipients, pool=1_000_000_000)
    totals = {"off": [0, 0.0], "on": [0, 0.0], "on + worker": [0, 0.0]}
    for n in range(rounds):
        for side in totals:
            os.environ["EVENTS_ENABLED"] = "False" if side == "off" else "True"
            worker = _worker() if side == "on + worker" else None
            try:
                result = run_service(
                    manager_id=t.manager_id, recipient_ids=t.member_ids, workers=c.clients, duration=c.duration
                )
            finally:
                if worker is not None:
                    worker.terminate()
                    worker.wait(timeout=30)
            totals[side][0] += result.calls
            totals[side][1] += result.seconds
            run.say(
                f"  notifications {side} (round {n + 1}): {result.per_second:.0f} awards/s, "
                f"p50 {result.percentile(50):.1f} ms, errors {result.errors}"
            )
    os.environ["EVENTS_ENABLED"] = "True"
    off, on, beside = (totals[k][0] / totals[k][1] for k in totals)
    run.figures["awards_per_s_notifications_off"] = round(off, 1)
    run.figures["awards_per_s_notifications_on"] = round(on, 1)
    run.figures["awards_per_s_notifications_on_worker_beside"] = round(beside, 1)
    run.figures["notifications_ratio"] = round(on / off, 3)
    run.figures["notifications_ratio_worker_beside"] = round(beside / off, 3)
    run.figures["events_recorded"] = Event.objects.filter(tenant_id=t.tenant_id).count()
    run.figures["notices_written"] = Notification.objects.filter(tenant_id=t.tenant_id).count()
    run.say(f"  on ÷ off = {on / off:.3f}; on + worker ÷ off = {beside / off:.3f}")
