"""Template side of `perksu.formatting`: `{% load formatting %}`.

{{ amount|number }}                 12,34,567 in en-IN, 1,234,567 in en (the tenant in force)
{{ amount|number:row.tenant.locale }}  a given locale (console rows of several tenants)
{{ value|money:tenant.currency }}   ₹34,000.00
{{ share|percent }}                 60.0% in en, 60,0 % in de (a percentage, one decimal)
{{ when|datetime_local }}           3 Dec 2026, 3:09 AM IST (the zone always shown)
{{ when|date_local }}               3 Dec 2026
{% timestamp when %}                <time> reading "3 hr ago" within a day, else the absolute time;
                                    the absolute time with its zone is always the title
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from perksu import formatting

register = template.Library()


@register.filter
def number(value, locale: str | None = None) -> str:
    try:
        return formatting.format_number(value, locale=locale or None)
    except (TypeError, ValueError):
        return value


@register.filter
def percent(value) -> str:
    try:
        return formatting.format_percent(value)
    except (TypeError, ValueError, ArithmeticError):
        return value


@register.filter
def money(value, currency: str) -> str:
    try:
        return formatting.format_money(value, currency)
    except (TypeError, ValueError):
        return value


@register.filter
def datetime_local(value) -> str:
    return formatting.format_datetime(value) if value else ""


@register.filter
def date_local(value) -> str:
    return formatting.format_date(value) if value else ""


@register.simple_tag
def timestamp(value, tz: str | None = None, locale: str | None = None) -> str:
    if not value:
        return ""
    absolute = formatting.format_datetime(value, tz=tz, locale=locale)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        absolute,
        formatting.format_relative(value, tz=tz, locale=locale),
    )


@register.simple_tag
def locale_code() -> str:
    """The locale in force, for `lang`-style attributes and the pages' JavaScript (`Intl.NumberFormat`)."""
    return formatting.active().locale
