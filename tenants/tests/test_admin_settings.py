"""The console's programme settings of a tenant (SPEC §9) and its lists of company values and
comments (§10): platform admins edit what the managers edit, validated by the same form and
service and logged in the same SettingsChangeLog; a bad value names its field and changes nothing."""

from __future__ import annotations

import pytest

from recognition.engagement import comment_create, comment_hide, value_create, value_update
from tenants.models import SettingsChangeLog, Tenant, User
from tenants.services import SETTINGS_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, platform_admin):
    client.force_login(platform_admin)
    return client


def settings_url(tenant) -> str:
    return f"/admin/tenants/tenant/{tenant.pk}/settings/"


def form_data(tenant, **changes) -> dict:
    """The settings form as the page would post it: the tenant's values with `changes`."""
    data = {name: getattr(tenant, name) for name in SETTINGS_FIELDS}
    data.update(changes)
    # A checkbox is sent only when ticked; None is an empty field.
    return {k: ("on" if v is True else "" if v is None else v) for k, v in data.items() if v is not False}


def logged() -> set[tuple]:
    # The actor may be platform staff, in another tenant than the row: read apart, never joined (docs/SCALING.md).
    rows = list(SettingsChangeLog.objects.values_list("tenant__slug", "actor_id", "field", "old_value", "new_value"))
    emails = dict(User._base_manager.filter(pk__in={r[1] for r in rows}).values_list("pk", "email"))
    return {(slug, emails[actor], *rest) for slug, actor, *rest in rows}


def test_the_page_shows_every_setting_and_is_linked_from_the_tenant(console, tenant):
    page = console.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    assert f'href="{settings_url(tenant)}"' in page
    response = console.get(settings_url(tenant))
    assert response.status_code == 200
    body = response.content.decode()
    for name in SETTINGS_FIELDS:
        assert f'name="{name}"' in body, name
    assert "No change yet." in body


def test_a_platform_admin_changes_settings_each_change_logged_as_the_managers_page_logs_it(
    console, client, tenant, other_tenant, platform_admin, manager
):
    changes = {
        "timezone": "Asia/Kolkata",
        "locale": "en-IN",
        "allowance_period": "WEEK",
        "allowance_employee": 100,
        "allowance_lead": 250,
        "require_value": True,
        "max_award_points": 5_000,
        "leaver_policy": "FORFEIT",
        "leaver_forfeit_days": 30,
    }
    response = console.post(settings_url(tenant), form_data(tenant, **changes))
    assert response.status_code == 302 and response["Location"] == settings_url(tenant)
    tenant.refresh_from_db()
    assert {name: getattr(tenant, name) for name in changes} == changes
    admin = platform_admin.email
    assert logged() == {
        ("triton-energy", admin, "timezone", "UTC", "Asia/Kolkata"),
        ("triton-energy", admin, "locale", "en", "en-IN"),
        ("triton-energy", admin, "allowance_period", "MONTH", "WEEK"),
        ("triton-energy", admin, "allowance_employee", "0", "100"),
        ("triton-energy", admin, "allowance_lead", "0", "250"),
        ("triton-energy", admin, "require_value", "False", "True"),
        ("triton-energy", admin, "max_award_points", "", "5000"),
        ("triton-energy", admin, "leaver_policy", "KEEP", "FORFEIT"),
        ("triton-energy", admin, "leaver_forfeit_days", "90", "30"),
    }
    assert Tenant.objects.get(pk=other_tenant.pk).allowance_employee == 0
    # The page lists them; the tenant's managers see the same log on their own page.
    page = console.get(settings_url(tenant)).content.decode()
    assert page.count(f"<td>{admin}</td>") == len(changes)
    client.force_login(manager)
    assert (
        f"<td>{platform_admin.full_name}</td><td>allowance_employee</td>"
        in client.get("/manage/settings/").content.decode()
    )
    # Posting the same values again changes and logs nothing.
    console.post(settings_url(tenant), form_data(tenant))
    assert SettingsChangeLog.objects.count() == len(changes)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("allowance_employee", "-5", "greater than or equal to 0"),
        ("allowance_manager", "ten", "Enter a whole number"),
        ("leaver_forfeit_days", "-1", "greater than or equal to 0"),
        ("low_balance_threshold", "-100", "greater than or equal to 0"),
        ("max_award_points", "0", "greater than or equal to 1"),
        ("timezone", "Mars/Olympus", "Unknown time zone"),
        ("locale", "xx-XX", "Select a valid choice"),
        ("allowance_period", "DAY", "Select a valid choice"),
    ],
)
def test_a_bad_value_is_refused_next_to_its_field_and_nothing_changes(console, tenant, field, value, message):
    # A good change posted with the bad one is not saved either.
    response = console.post(settings_url(tenant), form_data(tenant, allowance_lead=40, **{field: value}))
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]
    body = response.content.decode()
    assert "Nothing was saved" in body and form[field].label in body
    assert f"field-{field}" in body.split('class="form-row errors')[1][:40]
    refreshed = Tenant.objects.get(pk=tenant.pk)
    assert {name: getattr(refreshed, name) for name in SETTINGS_FIELDS} == {
        name: getattr(tenant, name) for name in SETTINGS_FIELDS
    }
    assert not SettingsChangeLog.objects.exists()


def test_a_refusal_of_the_service_names_the_field_and_nothing_changes(console, tenant, monkeypatch):
    """Should the service refuse what the form let through, its error shows on the field it names."""
    from perksu.errors import DomainError
    from tenants import admin_settings

    def refuse(**kwargs):
        raise DomainError("allowance_lead: too generous for this tenant.", code="invalid", field="allowance_lead")

    monkeypatch.setattr(admin_settings, "tenant_settings_update", refuse)
    response = console.post(settings_url(tenant), form_data(tenant, allowance_lead=5))
    assert response.status_code == 400
    assert response.context["form"].errors == {"allowance_lead": ["allowance_lead: too generous for this tenant."]}
    assert Tenant.objects.get(pk=tenant.pk).allowance_lead == 0
    assert not SettingsChangeLog.objects.exists()


def test_members_of_a_tenant_cannot_open_the_console_settings(client, tenant, manager):
    client.force_login(manager)
    response = client.post(settings_url(tenant), form_data(tenant, allowance_employee=1_000))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Tenant.objects.get(pk=tenant.pk).allowance_employee == 0
    assert not SettingsChangeLog.objects.exists()


def test_an_unknown_tenant_is_a_404(console):
    assert console.get("/admin/tenants/tenant/00000000-0000-0000-0000-000000000000/settings/").status_code == 404


def test_the_tenant_form_logs_its_rule_changes_through_the_same_service(console, tenant, platform_admin):
    data = {
        "name": tenant.name,
        "slug": tenant.slug,
        "status": "ACTIVE",
        "currency_label": "Points",
        "point_value": "1",
        "low_balance_threshold": "2500",
        "max_award_points": "800",
    }
    assert console.post(f"/admin/tenants/tenant/{tenant.pk}/change/", data).status_code == 302
    tenant.refresh_from_db()
    assert (tenant.low_balance_threshold, tenant.max_award_points) == (2_500, 800)
    assert logged() == {
        ("triton-energy", platform_admin.email, "low_balance_threshold", "100", "2500"),
        ("triton-energy", platform_admin.email, "max_award_points", "", "800"),
    }


def test_the_setting_changes_are_a_console_list_filtered_by_tenant(console, tenant, other_tenant, platform_admin):
    console.post(settings_url(tenant), form_data(tenant, allowance_employee=100))
    console.post(settings_url(other_tenant), form_data(other_tenant, allowance_employee=7))
    response = console.get("/admin/tenants/settingschangelog/", {"tenant__id__exact": tenant.pk})
    rows = list(response.context["cl"].result_list)
    assert [(r.tenant_id, r.field, r.new_value) for r in rows] == [(tenant.pk, "allowance_employee", "100")]


# --- company values and comments -----------------------------------------------------------------


def test_the_console_lists_a_tenants_company_values(console, tenant, manager, other_tenant):
    from tenants.tests.factories import UserFactory

    owner = value_create(actor=manager, name="Ownership", hashtag="ownership", description="Own the outcome")
    value_create(actor=manager, name="Customer first", hashtag="customers")
    value_update(actor=manager, value_id=owner.pk, is_active=False)
    other_manager = UserFactory(tenant=other_tenant, role="tenant_manager", email="boss@other.test")
    value_create(actor=other_manager, name="Speed", hashtag="speed")

    page = console.get(f"/admin/tenants/tenant/{tenant.pk}/settings/").content.decode()
    assert f'href="/admin/recognition/companyvalue/?tenant__id__exact={tenant.pk}"' in page
    response = console.get("/admin/recognition/companyvalue/", {"tenant__id__exact": tenant.pk})
    assert response.status_code == 200
    rows = [(v.name, v.hashtag, v.is_active) for v in response.context["cl"].result_list]
    assert rows == [("Ownership", "ownership", False), ("Customer first", "customers", True)]
    body = response.content.decode()
    assert "#ownership" in body and "Own the outcome" in body and "Speed" not in body
    # Read-only: values are the managers' to change.
    assert console.get(f"/admin/recognition/companyvalue/{owner.pk}/change/").status_code == 200
    assert console.post(f"/admin/recognition/companyvalue/{owner.pk}/change/", {"name": "X"}).status_code == 403
    assert console.get("/admin/recognition/companyvalue/add/").status_code == 403


def test_the_console_lists_a_tenants_comments_with_their_hidden_state(
    console, funded_tenant, manager, employee, other_employee, award
):
    result = award(manager, employee, 10)
    kind = comment_create(author=other_employee, recognition_id=result.group_id, text="Well deserved!")
    rude = comment_create(author=other_employee, recognition_id=result.group_id, text="Not again…")
    comment_hide(actor=manager, comment_id=rude.pk)

    page = console.get(f"/admin/tenants/tenant/{funded_tenant.pk}/settings/").content.decode()
    assert f'href="/admin/recognition/comment/?tenant__id__exact={funded_tenant.pk}"' in page
    response = console.get("/admin/recognition/comment/", {"tenant__id__exact": funded_tenant.pk})
    assert response.status_code == 200
    rows = [(c.text, c.is_hidden, c.hidden_by_id) for c in response.context["cl"].result_list]
    assert rows == [("Not again…", True, manager.pk), ("Well deserved!", False, None)]
    body = response.content.decode()
    assert manager.email in body  # who hid it
    hidden = console.get("/admin/recognition/comment/", {"tenant__id__exact": funded_tenant.pk, "is_hidden__exact": 1})
    assert [c.pk for c in hidden.context["cl"].result_list] == [rude.pk]
    shown = console.get("/admin/recognition/comment/", {"is_hidden__exact": 0})
    assert [c.pk for c in shown.context["cl"].result_list] == [kind.pk]
    assert console.post(f"/admin/recognition/comment/{kind.pk}/change/", {"text": "edited"}).status_code == 403
