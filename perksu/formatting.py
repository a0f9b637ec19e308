"""Numbers and times as a person of the tenant reads them (SPEC §9: `locale`, `timezone`).

Every figure on a page, in the console and in an e-mail goes through these functions, so "15000" in one place and
"15,000" in another cannot happen, and `en-IN` groups lakhs (1,00,000). Formatting uses Babel's CLDR data: Django's
own number formatting knows no `en-IN` or `hi-IN` grouping and no relative times.

The tenant in force is held in a context variable: `TenantFormattingMiddleware` sets it for a request from the
signed-in member's tenant; code outside a request (e-mails, jobs, console rows of several tenants) uses
`override(tenant)` or passes `locale=` / `tz=` explicitly. With nothing in force: locale `en`, time zone UTC.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.dates import format_timedelta as babel_format_timedelta
from babel.dates import get_datetime_format
from babel.numbers import format_decimal as babel_format_decimal
from django.utils import timezone

DEFAULT_LOCALE = "en"
DEFAULT_TIMEZONE = "UTC"
RELATIVE_WITHIN = dt.timedelta(hours=24)
"""A time closer to now than this reads as "3 hr. ago"; an older one as an absolute date and time with its zone."""
ONE_SECOND = dt.timedelta(seconds=1)
CLOCK_SKEW = dt.timedelta(minutes=1)  # a stamp this far in the future still reads as just now


@dataclass(frozen=True)
class Formatting:
    locale: str = DEFAULT_LOCALE
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def of(cls, tenant) -> Formatting:
        if tenant is None:
            return cls()
        return cls(
            locale=getattr(tenant, "locale", None) or DEFAULT_LOCALE,
            timezone=getattr(tenant, "timezone", None) or DEFAULT_TIMEZONE,
        )


_DEFAULT = Formatting()
_active: ContextVar[Formatting | Callable[[], Formatting] | None] = ContextVar("perksu_formatting", default=None)


def active() -> Formatting:
    current = _active.get()
    if current is None:
        return _DEFAULT
    if callable(current):
        # Resolved on first use, so a request that formats nothing costs no query.
        current = current()
        _active.set(current)
    return current


def activate(tenant) -> None:
    """Make `tenant`'s locale and time zone the ones in force (for the rest of this request or task)."""
    _active.set(Formatting.of(tenant))


def deactivate() -> None:
    _active.set(Formatting())


@contextlib.contextmanager
def override(tenant=None, *, locale: str | None = None, tz: str | None = None) -> Iterator[Formatting]:
    """Format with `tenant`'s settings (or the given locale / time zone) inside the block."""
    base = Formatting.of(tenant) if tenant is not None else active()
    chosen = Formatting(locale=locale or base.locale, timezone=tz or base.timezone)
    token = _active.set(chosen)
    try:
        yield chosen
    finally:
        _active.reset(token)


@lru_cache(maxsize=64)
def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=128)
def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def format_number(value: int | Decimal | float | None, *, locale: str | None = None) -> str:
    """`1234567` → `1,234,567` (en), `12,34,567` (en-IN), `1.234.567` (de-DE). None and "" stay empty."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            return value
    return babel_format_decimal(value, locale=_babel_locale(locale or active().locale))


def format_percent(value: int | Decimal | float | None, *, digits: int = 1, locale: str | None = None) -> str:
    """A percentage (60 means 60 %, not 6,000 %) with `digits` decimals in the locale's percent
    pattern: `60.0%` (en, en-IN), `60,0 %` (de-DE, a no-break space). None and "" stay empty."""
    if value is None or value == "":
        return ""
    loc = _babel_locale(locale or active().locale)
    pattern = copy.copy(loc.percent_formats[None])
    pattern.frac_prec = (digits, digits)
    return pattern.apply(Decimal(str(value)) / 100, loc)


def format_money(value: int | Decimal | None, currency: str, *, locale: str | None = None) -> str:
    """An amount of money with its ISO 4217 code and two decimals, grouped in the locale:
    `INR 34,000.00` (en), `INR 50,00,000.50` (en-IN), `EUR 5.000.000,50` (de-DE). The code, not a symbol:
    the console lists tenants billed in several currencies side by side."""
    if value is None or value == "":
        return ""
    loc = _babel_locale(locale or active().locale)
    pattern = copy.copy(loc.decimal_formats[None])
    pattern.frac_prec = (2, 2)
    return f"{currency} {pattern.apply(Decimal(str(value)), loc)}"


def _localtime(value: dt.datetime, tz: str | None) -> dt.datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value.astimezone(_zone(tz or active().timezone))


def format_datetime(value: dt.datetime | None, *, tz: str | None = None, locale: str | None = None) -> str:
    """Date and time in the tenant's zone with the zone shown: `3 Dec 2026, 3:09 AM IST`, `2 Dez. 2026, 22:39 MEZ`."""
    if value is None:
        return ""
    loc = _babel_locale(locale or active().locale)
    local = _localtime(value, tz)
    date_part = babel_format_date(local.date(), "medium", locale=loc)
    time_part = babel_format_time(local, "short", tzinfo=local.tzinfo, locale=loc)
    zone_part = babel_format_datetime(local, "z", tzinfo=local.tzinfo, locale=loc)
    combined = get_datetime_format("medium", locale=loc).replace("{1}", date_part).replace("{0}", time_part)
    return f"{combined} {zone_part}"


def format_date(value: dt.date | dt.datetime | None, *, tz: str | None = None, locale: str | None = None) -> str:
    """A date (a datetime is first taken to the tenant's zone): `3 Dec 2026`."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _localtime(value, tz).date()
    return babel_format_date(value, "medium", locale=_babel_locale(locale or active().locale))


def format_relative(
    value: dt.datetime | None,
    *,
    now: dt.datetime | None = None,
    tz: str | None = None,
    locale: str | None = None,
) -> str:
    """`3 hr. ago` within the last day; otherwise the absolute date and time with the zone."""
    if value is None:
        return ""
    now = now or timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    delta = value - now
    if -ONE_SECOND < delta < CLOCK_SKEW:
        # Just written (or stamped by a server a moment ahead): "1 sec. ago", never "in 0 sec.".
        delta = -ONE_SECOND
    if abs(delta) >= RELATIVE_WITHIN:
        return format_datetime(value, tz=tz, locale=locale)
    # threshold=1: "90 min. ago" stays in minutes only below one hour, then whole hours.
    loc = _babel_locale(locale or active().locale)
    return babel_format_timedelta(delta, add_direction=True, format="short", threshold=1, locale=loc)


class TenantFormattingMiddleware:
    """Puts the signed-in member's tenant in force for formatting (read lazily, on the first figure formatted)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def resolve() -> Formatting:
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return Formatting()
            return Formatting.of(getattr(user, "tenant", None))

        token = _active.set(resolve)
        try:
            return self.get_response(request)
        finally:
            _active.reset(token)
