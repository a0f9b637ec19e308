"""The period an insights view or a payroll export covers, in the tenant's timezone.

A period is a range of whole days, `date_from` to `date_to` inclusive, as the
tenant's members read a calendar: it starts at midnight of `date_from` in the
tenant's timezone and ends at midnight after `date_to` (half-open), so a
recognition given at 23:30 in Kolkata on 31 March belongs to March there even
though it is 18:00 UTC. Weeks start on Monday, in the same timezone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from perksu.errors import DomainError

DEFAULT_DAYS = 30
MAX_DAYS = 366
"""The longest period one request covers (a year, leap day included)."""


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date
    tz: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.tz)

    @property
    def end(self) -> dt.datetime:
        """Midnight after `date_to`: the first instant not in the period."""
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def weeks(self) -> list[dt.date]:
        """The Mondays of every week the period touches, oldest first."""
        monday = self.date_from - dt.timedelta(days=self.date_from.weekday())
        weeks = []
        while monday <= self.date_to:
            weeks.append(monday)
            monday += dt.timedelta(days=7)
        return weeks

    def as_of(self, now: dt.datetime | None = None) -> dt.datetime:
        """The instant "the last N days" count back from: the period's end, or now if that is earlier."""
        now = now or timezone.now()
        return min(self.end, now)


def tenant_today(tz: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(tz).date()


def period_for(
    tz_name: str, date_from: dt.date | None = None, date_to: dt.date | None = None, *, now: dt.datetime | None = None
) -> Period:
    """The period the request names; by default the last 30 days, today included, in the tenant's timezone.

    Refuses (400, the field named) a `from` after `to` or a period longer than `MAX_DAYS`.
    """
    tz = ZoneInfo(tz_name)
    if date_to is None:
        date_to = tenant_today(tz, now) if date_from is None else date_from + dt.timedelta(days=DEFAULT_DAYS - 1)
    if date_from is None:
        date_from = date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise DomainError("`from` must not be after `to`.", code="invalid_period", field="from")
    period = Period(date_from, date_to, tz)
    if period.days > MAX_DAYS:
        raise DomainError(
            f"A period covers at most {MAX_DAYS} days; this one covers {period.days}.",
            code="invalid_period",
            field="to",
        )
    return period
