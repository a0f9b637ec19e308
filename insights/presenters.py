"""One `Insights` as the plain dictionary the API answers and the page reads."""

from __future__ import annotations

from .selectors import Insights


def insights_body(data: Insights) -> dict:
    scope, period, p = data.scope, data.period, data.participation
    burn = data.burn
    return {
        "tenant_id": scope.tenant_id,
        "from": period.date_from,
        "to": period.date_to,
        "team_id": scope.team_id,
        "team_name": scope.team_name,
        "timezone": period.tz.key,
        "participation": {"gave": p.gave, "received": p.received},
        "members": {"active": p.active_members, "gave": p.givers, "received": p.receivers},
        "totals": {"recognitions": p.recognitions, "points": p.points},
        "by_week": [{"week_start": b.key, "recognitions": b.recognitions, "points": b.points} for b in data.by_week],
        "by_team": None
        if data.by_team is None
        else [
            {"team_id": b.key, "team_name": b.label, "recognitions": b.recognitions, "points": b.points}
            for b in data.by_team
        ],
        "by_value": [
            {"value_id": b.key, "name": b.label, "recognitions": b.recognitions, "points": b.points}
            for b in data.by_value
        ],
        "leaderboard_enabled": data.leaderboard_enabled,
        "top_givers": _ranked(data.top_givers),
        "top_receivers": _ranked(data.top_receivers),
        "not_recognised": {
            "as_of": data.not_recognised.as_of,
            **{f"days_{days}": n for days, n in data.not_recognised.counts.items()},
            "members": [
                {"user_id": m.user_id, "full_name": m.full_name, "last_recognised_at": m.last_recognised_at}
                for m in data.not_recognised.members
            ],
        },
        "allowance": None
        if data.allowance is None
        else [
            {"role": a.role, "members": a.members, "limit": a.limit, "given": a.given, "utilisation": a.utilisation}
            for a in data.allowance
        ],
        "pool_burn": None
        if burn is None
        else {
            "pool": burn.pool,
            "outflow_30_days": burn.outflow,
            "burn_per_day": burn.per_day,
            "runway_days": burn.runway_days,
        },
        "redemptions_by_reward": [
            {
                "reward_id": r.reward_id,
                "reward_name": r.name,
                "redemptions": r.redemptions,
                "refunded": r.refunded,
                "points": r.points,
            }
            for r in data.redemptions
        ],
    }


def _ranked(rows):
    if rows is None:
        return None
    return [
        {"user_id": r.user_id, "full_name": r.full_name, "recognitions": r.recognitions, "points": r.points}
        for r in rows
    ]
