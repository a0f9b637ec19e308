"""Allowance gifts against pool awards on one tenant pool (SPEC §10, docs/PERFORMANCE.md).

N service processes, each giving as its own employee from its own allowance (one
`AllowanceUsage` row per giver, so no two gifts contend on it): every gift still
debits the one tenant pool, the only shared lock, like a manager's pool award.
The runs alternate on the same tenant and recipients in the order pool, allowance,
allowance, pool (ABBA: a load on the shared machine that rises or falls through
the phase weighs on both sides alike, where pool, allowance, pool, allowance would
give the pool the quieter start every time); the ratio is of the summed calls over
the summed seconds.
Target: allowance gifts/s ≥ 0.8 × pool awards/s.
"""

from __future__ import annotations

ALLOWANCE = 100_000_000
"""Each giver's allowance per period: more than any run can give, so no gift is refused for it."""


def allowance_tenant(run):
    """A funded tenant with a manager, the recipients, and one employee giver per client, with the allowance set
    through the settings service (logged, as a manager's change would be)."""
    from bench.fixtures import bench_tenant, platform_admin
    from tenants.models import Role, Tenant
    from tenants.services import tenant_settings_update, user_create

    c = run.config
    t = bench_tenant("alw", members=c.recipients, pool=1_000_000_000)
    tenant = Tenant.objects.get(pk=t.tenant_id)
    tenant_settings_update(actor=platform_admin(), tenant=tenant, changes={"allowance_employee": ALLOWANCE})
    givers = [
        user_create(
            email=f"giver{i}@alw.bench.test", full_name=f"Giver {i}", role=Role.EMPLOYEE, password=None, tenant=tenant
        ).pk
        for i in range(c.clients)
    ]
    return t, givers


def phase_allowance(run, *, rounds: int = 2) -> None:
    from bench.load import run_service
    from bench.points import _analyze, cpu_per_award, statements_per_award
    from recognition.models import AllowanceUsage, Recognition

    c = run.config
    t, givers = allowance_tenant(run)
    _analyze()
    # One gift first, so the giver's usage row of the period exists (a first gift creates it
    # on the general path): from then on every gift is the steady state measured below.
    run.figures["statements_per_allowance_gift_first"] = len(statements_per_award(givers[0], t.member_ids[0]))
    run.figures["statements_per_allowance_gift"] = len(statements_per_award(givers[0], t.member_ids[1]))
    run.figures["statements_per_pool_award"] = len(statements_per_award(t.manager_id, t.member_ids[2]))
    calls = 150 if c.quick else 500
    cpu, hold = {}, {}
    for side, giver in (("pool", t.manager_id), ("allowance", givers[0])):
        client_ms, server_ms, hold_ms = cpu_per_award(giver, t.member_ids, calls=calls)
        cpu[side] = {"client": round(client_ms, 2), "server": server_ms and round(server_ms, 2)}
        hold[side] = round(hold_ms, 3)
    run.figures["allowance_cpu_ms_per_call"] = cpu
    run.figures["allowance_pool_lock_hold_ms"] = hold
    run.say(f"  one call at a time: CPU ms {cpu}, pool lock hold ms {hold}")
    run.say(
        f"allowance: {c.clients} processes, pool award (one manager) against allowance gift "
        f"({c.clients} employees, each its own allowance), one pool, {rounds} rounds of {c.duration} s each; "
        f"statements: gift {run.figures['statements_per_allowance_gift']} "
        f"(first of a period {run.figures['statements_per_allowance_gift_first']}), "
        f"award {run.figures['statements_per_pool_award']}"
    )
    totals = {"pool": [0, 0.0, 0], "allowance": [0, 0.0, 0]}
    for n in range(rounds):
        for side in ("pool", "allowance") if n % 2 == 0 else ("allowance", "pool"):
            if side == "pool":
                result = run_service(
                    manager_id=t.manager_id, recipient_ids=t.member_ids, workers=c.clients, duration=c.duration
                )
            else:
                result = run_service(
                    giver_ids=givers, recipient_ids=t.member_ids, workers=c.clients, duration=c.duration
                )
            totals[side][0] += result.calls
            totals[side][1] += result.seconds
            totals[side][2] += result.errors
            run.figures.setdefault("allowance_rounds", []).append(
                {
                    "side": side,
                    "round": n + 1,
                    "per_s": round(result.per_second, 1),
                    "p50_ms": round(result.percentile(50), 2),
                    "p99_ms": round(result.percentile(99), 2),
                    "errors": result.errors,
                }
            )
            if result.errors:
                run.notes.append(f"allowance {side}: {result.errors} failed calls, first: {result.first_error}")
            run.say(
                f"  {side} (round {n + 1}): {result.calls} calls in {result.seconds:.1f} s = "
                f"{result.per_second:.0f}/s, p50 {result.percentile(50):.1f} ms, "
                f"p99 {result.percentile(99):.1f} ms, errors {result.errors}"
            )
    pool, gift = (totals[k][0] / totals[k][1] for k in totals)
    run.figures["alw_pool_awards_per_s"] = round(pool, 1)
    run.figures["allowance_gifts_per_s"] = round(gift, 1)
    run.figures["allowance_ratio"] = round(gift / pool, 3)
    run.figures["alw_pool_errors"], run.figures["allowance_errors"] = totals["pool"][2], totals["allowance"][2]
    given = sorted(
        AllowanceUsage.objects.filter(tenant_id=t.tenant_id, user_id__in=givers).values_list("given", flat=True)
    )
    gifts = Recognition.objects.filter(
        tenant_id=t.tenant_id, funding_source=Recognition.FundingSource.ALLOWANCE
    ).count()
    run.figures["allowance_given_total"] = sum(given)
    run.figures["allowance_gifts_written"] = gifts
    if sum(given) != gifts:
        run.notes.append(f"allowance: usage rows say {sum(given)} given, {gifts} gift rows written")
    run.say(
        f"  pool awards {pool:.0f}/s, allowance gifts {gift:.0f}/s: ratio {gift / pool:.3f} (target ≥ 0.8); "
        f"{gifts:,} gifts, Σ given {sum(given):,}"
    )
