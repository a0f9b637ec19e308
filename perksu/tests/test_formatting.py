"""Numbers and times in the tenant's locale and time zone (SPEC §9)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template

from perksu import formatting
from tenants.models import Tenant, User
from tenants.tests.factories import UserFactory

NOW = dt.datetime(2026, 12, 2, 21, 40, tzinfo=dt.UTC)


class _Tenant:
    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale
        self.timezone = timezone


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "10,000,000"), ("en-IN", "1,00,00,000"), ("hi-IN", "1,00,00,000"), ("de-DE", "10.000.000")],
)
def test_numbers_group_in_the_locale(locale, expected):
    assert formatting.format_number(10_000_000, locale=locale) == expected


def test_en_in_groups_lakhs():
    assert formatting.format_number(100000, locale="en-IN") == "1,00,000"
    assert formatting.format_number(37400, locale="en-IN") == "37,400"


def test_nothing_in_force_is_english_and_utc():
    assert formatting.format_number(1234567) == "1,234,567"
    assert formatting.format_datetime(NOW) == "Dec 2, 2026, 9:40\u202fPM UTC"


def test_absolute_time_is_in_the_tenant_zone_with_the_zone_shown():
    with formatting.override(_Tenant("en-IN", "Asia/Kolkata")):
        assert formatting.format_datetime(NOW).startswith("3 Dec 2026, 3:10")
        assert formatting.format_datetime(NOW).endswith(" IST")
        assert formatting.format_date(NOW) == "3 Dec 2026"


def test_recent_times_are_relative_older_ones_absolute():
    with formatting.override(locale="en", tz="UTC"):
        assert formatting.format_relative(NOW - dt.timedelta(hours=3), now=NOW) == "3 hr. ago"
        assert formatting.format_relative(NOW - dt.timedelta(minutes=5), now=NOW) == "5 min. ago"
        assert formatting.format_relative(NOW, now=NOW) == "1 sec. ago"
        assert formatting.format_relative(NOW + dt.timedelta(seconds=2), now=NOW) == "1 sec. ago"
        assert formatting.format_relative(NOW - dt.timedelta(days=3), now=NOW) == "Nov 29, 2026, 9:40\u202fPM UTC"


def test_override_restores_what_was_in_force():
    with formatting.override(locale="de-DE"):
        assert formatting.format_number(1000) == "1.000"
    assert formatting.format_number(1000) == "1,000"


def test_unknown_locale_and_zone_fall_back_instead_of_failing():
    assert formatting.format_number(1000, locale="xx-YY") == "1,000"
    assert formatting.format_datetime(NOW, tz="Mars/Olympus").endswith("UTC")


def test_empty_values_stay_empty():
    assert formatting.format_number(None) == ""
    assert formatting.format_datetime(None) == ""
    assert formatting.format_money(Decimal("5000000.5"), "INR", locale="en-IN") == "INR 50,00,000.50"
    assert formatting.format_money(49700, "EUR", locale="de-DE") == "EUR 49.700,00"


def test_template_filters_and_timestamp_tag():
    template = Template(
        "{% load formatting %}{{ n|number }}|{{ n|number:'en' }}|{{ when|date_local }}|{% timestamp when %}"
    )
    with formatting.override(_Tenant("en-IN", "Asia/Kolkata")):
        out = template.render(Context({"n": 150000, "when": NOW}))
    number_in, number_en, day, stamp = out.split("|")
    assert (number_in, number_en, day) == ("1,50,000", "150,000", "3 Dec 2026")
    assert stamp.startswith('<time datetime="2026-12-02T21:40:00+00:00" title="3 Dec 2026, ')
    assert "IST" in stamp


@pytest.mark.django_db
def test_the_middleware_puts_the_member_tenant_in_force_for_the_request():
    member = UserFactory()
    Tenant.objects.filter(pk=member.tenant_id).update(locale="en-IN", timezone="Asia/Kolkata")
    request = type("Request", (), {"user": User.objects.select_related("tenant").get(pk=member.pk)})()
    seen = []
    middleware = formatting.TenantFormattingMiddleware(lambda request: seen.append(formatting.active()) or "ok")

    assert middleware(request) == "ok"
    assert seen == [formatting.Formatting(locale="en-IN", timezone="Asia/Kolkata")]
    assert formatting.active() == formatting.Formatting()
