"""Every insights table as CSV, each cell safe to open in a spreadsheet.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
prefixed with `'` (OWASP's CSV-injection advice), so a member named
`=HYPERLINK(…)` is shown, never run. Numbers stay numbers. Times are written in
the tenant's timezone, ISO 8601.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from perksu.admin_base import csv_cell

from . import selectors
from .periods import Period
from .scope import Scope


class Echo:
    """A file-like object whose `write` hands the line back, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def cell(value, tz: ZoneInfo | None = None):
    if isinstance(value, dt.datetime) and tz is not None:
        return value.astimezone(tz).isoformat()
    return csv_cell(value)


@dataclass(frozen=True)
class Table:
    slug: str
    title: str
    headers: list[str]
    rows: Callable[[Scope, Period], Iterable[list]]
    needs_leaderboard: bool = False
    needs_pool: bool = False


def _buckets(rows):
    return [[b.label, b.recognitions, b.points] for b in rows]


def _week_rows(scope, period):
    return [[b.key, b.recognitions, b.points] for b in selectors.by_week(scope, period)]


def _team_rows(scope, period):
    return _buckets(selectors.by_team(scope, period) or [])


def _value_rows(scope, period):
    return _buckets(selectors.by_value(scope, period))


def _ranked(rows):
    return [[r.user_id, r.full_name, r.email, r.recognitions, r.points] for r in rows]


def _forgotten_rows(scope, period):
    as_of = period.as_of()
    for pk, full_name, email, last in selectors.forgotten_members(scope, as_of):
        yield [pk, full_name, email, last]


def _participation_rows(scope, period):
    p = selectors.participation(scope, period)
    return [
        ["active members", p.active_members],
        ["members who gave", p.givers],
        ["members who received", p.receivers],
        ["gave (%)", p.gave],
        ["received (%)", p.received],
        ["recognitions received", p.recognitions],
        ["points received", p.points],
    ]


def _allowance_rows(scope, period):
    return [
        [a.label, a.members, a.limit, a.given, a.utilisation]
        for a in selectors.allowance_utilisation(scope, period) or []
    ]


def _burn_rows(scope, period):
    burn = selectors.pool_burn(scope)
    if burn is None:
        return []
    return [[burn.pool, burn.outflow, burn.window_days, burn.per_day, burn.runway_days]]


def _redemption_rows(scope, period):
    return [
        [r.reward_id, r.name, r.redemptions, r.refunded, r.points]
        for r in selectors.redemptions_by_reward(scope, period)
    ]


TABLES: dict[str, Table] = {
    t.slug: t
    for t in [
        Table("participation", "Participation", ["figure", "value"], _participation_rows),
        Table("by-week", "By week", ["week starting", "recognitions", "points"], _week_rows),
        Table("by-team", "By team", ["team", "recognitions", "points"], _team_rows),
        Table("by-value", "By value", ["value", "recognitions", "points"], _value_rows),
        Table(
            "top-givers",
            "Top givers",
            ["member id", "full name", "email", "recognitions given", "points given"],
            lambda s, p: _ranked(selectors.top_givers(s, p)),
            needs_leaderboard=True,
        ),
        Table(
            "top-receivers",
            "Top receivers",
            ["member id", "full name", "email", "recognitions received", "points received"],
            lambda s, p: _ranked(selectors.top_receivers(s, p)),
            needs_leaderboard=True,
        ),
        Table(
            "not-recognised",
            "Not recognised in 30 days",
            ["member id", "full name", "email", "last recognised at"],
            _forgotten_rows,
        ),
        Table(
            "allowance",
            "Allowance utilisation",
            ["role", "members", "allowance", "given", "utilisation (%)"],
            _allowance_rows,
        ),
        Table(
            "pool-burn",
            "Pool burn rate",
            ["pool", "outflow (30 days)", "window (days)", "per day", "runway (days)"],
            _burn_rows,
            needs_pool=True,
        ),
        Table(
            "redemptions",
            "Redemptions by reward",
            ["reward id", "reward", "redemptions", "refunded", "points spent"],
            _redemption_rows,
        ),
    ]
}


def table_csv(table: Table, scope: Scope, period: Period) -> Iterator[str]:
    writer = csv.writer(Echo())
    tz = period.tz
    yield writer.writerow(table.headers)
    for row in table.rows(scope, period):
        yield writer.writerow([cell(value, tz) for value in row])


def table_filename(table: Table, scope: Scope, period: Period) -> str:
    return f"insights-{table.slug}-{scope.tenant.slug}-{period.date_from:%Y%m%d}-{period.date_to:%Y%m%d}.csv"
