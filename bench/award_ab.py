"""The award function against the one statement it replaced, on plain PostgreSQL (docs/PERFORMANCE.md).

`AWARD_SQL=function` runs a plain award as one call of the PL/pgSQL function `perksu_award`
(routable by tenant on Citus); `AWARD_SQL=statement` as the one statement with data-modifying
CTEs. The same N service processes award as one manager from one tenant pool, each cycling
through its own slice of recipients, alternating function, statement, statement, function
(A/B/B/A: a load on the shared machine that rises or falls through the phase weighs on both
sides alike), `rounds` times over; the ratio is of the summed awards over the summed seconds.
Target: function ≥ 0.9 × statement. Before the runs it records, for each side, the statements
of one award and the CPU per award and pool-lock hold one call at a time; the machine's load
(`uptime`) is recorded before and after each run.
"""

from __future__ import annotations

import os
import subprocess

SIDES = ("function", "statement")


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S607
    except (OSError, subprocess.CalledProcessError):
        return ""


def load_1min() -> float | None:
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return None


def alternate(run, label: str, sides: tuple[str, str], use, *, manager_id, recipient_ids, rounds: int = 2) -> dict:
    """The service award, A/B/B/A `rounds` times over the two `sides`, `use(side)` called before each
    phase; each phase recorded in `run.figures[label + "_runs"]` with the machine's load. Returns
    {side: [awards, seconds, errors]} summed over its phases."""
    from bench.load import run_service

    c = run.config
    a, b = sides
    totals = {side: [0, 0.0, 0] for side in sides}
    order = [s for _ in range(rounds) for s in (a, b, b, a)]
    for n, side in enumerate(order, start=1):
        use(side)
        load_before = load_1min()
        result = run_service(manager_id=manager_id, recipient_ids=recipient_ids, workers=c.clients, duration=c.duration)
        load_after = load_1min()
        totals[side][0] += result.calls
        totals[side][1] += result.seconds
        totals[side][2] += result.errors
        run.figures.setdefault(f"{label}_runs", []).append(
            {
                "run": n,
                "side": side,
                "per_s": round(result.per_second, 1),
                "p50_ms": round(result.percentile(50), 2),
                "p99_ms": round(result.percentile(99), 2),
                "errors": result.errors,
                "load_1min": [load_before, load_after],
            }
        )
        if result.errors:
            run.notes.append(f"{label} {side}: {result.errors} failed calls, first: {result.first_error}")
        run.say(
            f"  {n}. {side}: {result.calls} awards in {result.seconds:.1f} s = {result.per_second:.0f}/s, "
            f"p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms, errors {result.errors}, "
            f"load {load_before} → {load_after}"
        )
    return totals


def phase_award_ab(run, *, rounds: int = 2) -> None:
    from django.conf import settings

    from bench.fixtures import bench_tenant
    from bench.points import _analyze, cpu_per_award, statements_per_award

    c = run.config
    t = bench_tenant("aab", members=c.recipients, pool=1_000_000_000)
    _analyze()
    calls = 150 if c.quick else 500
    cpu, hold, statements = {}, {}, {}
    for side in SIDES:
        settings.AWARD_SQL = side
        statements[side] = len(statements_per_award(t.manager_id, t.member_ids[0]))
        client_ms, server_ms, hold_ms = cpu_per_award(t.manager_id, t.member_ids, calls=calls)
        cpu[side] = {"client": round(client_ms, 2), "server": server_ms and round(server_ms, 2)}
        hold[side] = round(hold_ms, 3)
    settings.AWARD_SQL = "function"
    run.figures["award_ab_statements_per_award"] = statements
    run.figures["award_ab_cpu_ms_per_award"] = cpu
    run.figures["award_ab_pool_lock_hold_ms"] = hold
    run.say(f"  one award at a time: statements {statements}, CPU ms {cpu}, pool lock hold ms {hold}")
    run.say(
        f"award A/B: {c.clients} processes, one manager, one pool, function against statement, "
        f"{rounds} × A/B/B/A of {c.duration} s each"
    )
    saved = os.environ.get("AWARD_SQL")

    def use(side: str) -> None:
        os.environ["AWARD_SQL"] = side  # the spawned service processes read it when Django starts

    try:
        totals = alternate(
            run, "award_ab", SIDES, use, manager_id=t.manager_id, recipient_ids=t.member_ids, rounds=rounds
        )
    finally:
        if saved is None:
            os.environ.pop("AWARD_SQL", None)
        else:
            os.environ["AWARD_SQL"] = saved
    function, statement = (totals[s][0] / totals[s][1] for s in SIDES)
    run.figures["award_function_per_s"] = round(function, 1)
    run.figures["award_statement_per_s"] = round(statement, 1)
    run.figures["award_function_ratio"] = round(function / statement, 3)
    run.figures["award_function_errors"] = totals["function"][2]
    run.figures["award_statement_errors"] = totals["statement"][2]
    run.say(
        f"  function {function:.0f}/s, statement {statement:.0f}/s: ratio {function / statement:.3f} (target ≥ 0.9)"
    )
