"""The console: who gets in, the tenant list, allocate and claw back (SPEC §7)."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from points.models import AllocationLog, LeadBudget, PlatformBillingLog, PlatformIdempotencyRecord
from points.services import tenant_allocate
from tenants.models import Role, Tenant, User
from tenants.services import user_create
from tenants.tests.factories import PASSWORD, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, platform_admin):
    client.force_login(platform_admin)
    return client


def url(tenant, action):
    return f"/admin/tenants/tenant/{tenant.pk}/{action}/"


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the form carries a one-time token"
    return match.group(1)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def pool(tenant) -> int:
    return Tenant.objects.values_list("points_allocation_balance", flat=True).get(pk=tenant.pk)


# --- who gets in -------------------------------------------------------------------------------


def test_platform_admin_sees_the_index_with_the_books_links(console):
    response = console.get("/admin/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/admin/ledger-health/"' in body
    assert 'href="/admin/liability/"' in body
    assert 'href="/admin/tenants/tenant/"' in body


def test_platform_admin_by_role_without_superuser_gets_the_whole_console(client, tenant):
    staff = user_create(email="ops@perksu.test", full_name="Ops", role=Role.PLATFORM_ADMIN, password=PASSWORD)
    assert staff.is_staff and not staff.is_superuser
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    response = client.get("/admin/tenants/tenant/")
    assert response.status_code == 200
    assert "Triton Energy" in response.content.decode()
    assert client.get(url(tenant, "allocate")).status_code == 200


@pytest.mark.parametrize("who", ["manager", "lead", "employee"])
def test_tenant_members_are_refused_everywhere_in_the_console(client, request, funded_tenant, who):
    member = request.getfixturevalue(who)
    client.force_login(member)
    for path in ["/admin/", "/admin/tenants/tenant/", "/admin/ledger-health/", "/admin/liability/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/?next="), path
    response = client.post(url(funded_tenant, "allocate"), {"amount": "100", "token": "t-1"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert pool(funded_tenant) == 50_000
    assert AllocationLog.objects.count() == 1


def test_manager_login_at_admin_is_refused(client, manager):
    response = client.post("/admin/login/", {"username": manager.email, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200
    # The right password of a tenant member: told where to sign in, not that the password is wrong.
    assert "This console is for Perksu platform staff only." in response.content.decode()
    assert "_auth_user_id" not in client.session
    wrong = client.post("/admin/login/", {"username": manager.email, "password": "wrong", "next": "/admin/"})
    assert "Please enter the correct email and password for a staff account" in wrong.content.decode()


def test_staff_flag_alone_does_not_let_a_manager_in(client, manager):
    """Even with is_staff set by mistake, a tenant member is not platform staff."""
    User.objects.filter(pk=manager.pk).update(is_staff=True)
    response = client.post("/admin/login/", {"username": manager.email, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    client.force_login(User.objects.get(pk=manager.pk))
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_platform_admin_logs_in_with_email_and_password(client, platform_admin):
    response = client.post("/admin/login/", {"username": platform_admin.email, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --- the tenant list ---------------------------------------------------------------------------


def test_tenant_list_shows_pool_delegated_wallets_and_liability(console, funded_lead, lead, employee, award, tenant):
    award(lead, employee, 1_500)  # paid by the lead budget: 10,000 → 8,500; wallets 1,500
    response = console.get("/admin/tenants/tenant/")
    assert response.status_code == 200
    row = next(t for t in response.context["cl"].result_list if t.pk == tenant.pk)
    assert (row.points_allocation_balance, row.delegated_total, row.wallets_total) == (40_000, 8_500, 1_500)
    body = response.content.decode()
    for text in ["40,000", "8,500", "1,500", "INR 50,000.00", "Active", "Pool balance", "Liability value"]:
        assert text in body


def test_tenant_list_query_count_does_not_grow_with_tenants(console, platform_admin):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert console.get("/admin/tenants/tenant/").status_code == 200
        return len(ctx)

    for n in range(2):
        tenant = TenantFactory()
        tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=1_000 + n)
    few = count_queries()
    for n in range(8):
        tenant = TenantFactory()
        UserFactory(tenant=tenant)
        tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=500 + n)
    many = count_queries()
    assert many == few
    assert many <= 8


def test_tenant_list_search_and_filters(console, tenant, other_tenant):
    from tenants.services import tenant_set_status

    tenant_set_status(tenant=other_tenant, status=Tenant.Status.SUSPENDED)
    names = lambda r: sorted(t.name for t in r.context["cl"].result_list)  # noqa: E731
    assert names(console.get("/admin/tenants/tenant/", {"q": "triton"})) == ["Triton Energy"]
    assert names(console.get("/admin/tenants/tenant/", {"q": "other-corp"})) == ["Other Corp"]
    assert names(console.get("/admin/tenants/tenant/", {"status__exact": "SUSPENDED"})) == ["Other Corp"]
    assert names(console.get("/admin/tenants/tenant/", {"currency": "INR"})) == ["Other Corp", "Triton Energy"]


def test_suspend_and_reactivate_actions(console, tenant, other_tenant):
    response = console.post(
        "/admin/tenants/tenant/",
        {"action": "suspend", "_selected_action": [str(tenant.pk), str(other_tenant.pk)]},
        follow=True,
    )
    assert Tenant.objects.get(pk=tenant.pk).status == "SUSPENDED"
    assert Tenant.objects.get(pk=other_tenant.pk).status == "SUSPENDED"
    assert "Tenants suspended: 2." in messages_of(response)
    response = console.post(
        "/admin/tenants/tenant/", {"action": "reactivate", "_selected_action": [str(tenant.pk)]}, follow=True
    )
    assert Tenant.objects.get(pk=tenant.pk).status == "ACTIVE"
    assert Tenant.objects.get(pk=other_tenant.pk).status == "SUSPENDED"
    assert "Tenants reactivated: 1." in messages_of(response)


def test_tenants_cannot_be_deleted_from_the_console(console, tenant):
    assert console.get(f"/admin/tenants/tenant/{tenant.pk}/delete/").status_code == 403
    assert Tenant.objects.filter(pk=tenant.pk).exists()


# --- creating and editing a tenant ------------------------------------------------------------

NEW_TENANT = {
    "name": "  Nimbus Labs ",
    "slug": "Nimbus-Labs",
    "currency": "usd",
    "currency_label": "Kudos",
    "point_value": "0.0125",
    "low_balance_threshold": "500",
    "max_award_points": "",
}


def test_create_tenant_goes_through_the_service(console):
    response = console.post("/admin/tenants/tenant/add/", {**NEW_TENANT, "points_allocation_balance": "999999"})
    tenant = Tenant.objects.get(slug="nimbus-labs")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/tenant/{tenant.pk}/change/"
    assert (tenant.name, tenant.currency, tenant.currency_label) == ("Nimbus Labs", "USD", "Kudos")
    assert str(tenant.point_value) == "0.0125"
    assert tenant.points_allocation_balance == 0  # the pool is never a form field
    assert tenant.status == "ACTIVE"


def test_create_tenant_refuses_a_duplicate_slug_and_a_bad_currency(console, tenant):
    response = console.post("/admin/tenants/tenant/add/", {**NEW_TENANT, "slug": "TRITON-energy"})
    assert response.status_code == 200
    assert "Tenant with this Slug already exists." in response.content.decode()
    response = console.post("/admin/tenants/tenant/add/", {**NEW_TENANT, "currency": "rupees"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["currency"]
    assert Tenant.objects.count() == 1


def test_change_tenant_keeps_the_pool_and_sets_status_through_the_service(console, funded_tenant):
    page = console.get(f"/admin/tenants/tenant/{funded_tenant.pk}/change/")
    body = page.content.decode()
    assert f'href="/admin/tenants/tenant/{funded_tenant.pk}/allocate/"' in body
    assert f'href="/admin/tenants/tenant/{funded_tenant.pk}/clawback/"' in body
    assert "50,000" in body
    assert 'name="points_allocation_balance"' not in body
    response = console.post(
        f"/admin/tenants/tenant/{funded_tenant.pk}/change/",
        {
            "name": "Triton Energy Ltd",
            "slug": "triton-energy",
            "status": "SUSPENDED",
            "currency_label": "Points",
            "point_value": "2",
            "low_balance_threshold": "100",
            "max_award_points": "",
            "points_allocation_balance": "1",
        },
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(pk=funded_tenant.pk)
    assert (tenant.name, tenant.status, str(tenant.point_value)) == ("Triton Energy Ltd", "SUSPENDED", "2.0000")
    assert tenant.points_allocation_balance == 50_000
    assert tenant.currency == "INR"


# --- allocate ----------------------------------------------------------------------------------


def test_allocate_page_shows_the_pool_and_a_one_time_token(console, funded_tenant):
    response = console.get(url(funded_tenant, "allocate"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="amount"' in body and 'name="reference_note"' in body
    first = token_of(response)
    assert len(first) >= 40
    assert token_of(console.get(url(funded_tenant, "allocate"))) != first
    assert '<strong id="pool-balance">50,000</strong>' in body


def test_allocate_moves_points_writes_both_logs_and_says_the_new_balance(console, funded_tenant, platform_admin):
    token = token_of(console.get(url(funded_tenant, "allocate")))
    response = console.post(
        url(funded_tenant, "allocate"), {"amount": "5000", "reference_note": "Invoice #9001", "token": token}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/tenant/{funded_tenant.pk}/change/"
    assert messages_of(response) == [
        "Allocated 5,000 points to Triton Energy. New pool balance: 55,000 points.",
    ]
    assert pool(funded_tenant) == 55_000
    log = AllocationLog.objects.get(reference_note="Invoice #9001")
    assert (log.kind, log.amount, log.balance_after, log.actor_id) == ("ALLOCATION", 5_000, 55_000, platform_admin.pk)
    billing = PlatformBillingLog.objects.get(allocation_log=log)
    assert (billing.transaction_type, billing.amount, billing.currency) == ("CREDIT_INJECTION", 5_000, "INR")


def test_allocate_double_submit_moves_points_once(console, funded_tenant):
    token = token_of(console.get(url(funded_tenant, "allocate")))
    data = {"amount": "7000", "reference_note": "Invoice #9002", "token": token}
    first = console.post(url(funded_tenant, "allocate"), data)
    second = console.post(url(funded_tenant, "allocate"), data)
    assert first.status_code == second.status_code == 302
    assert pool(funded_tenant) == 57_000
    assert AllocationLog.objects.filter(reference_note="Invoice #9002").count() == 1
    assert PlatformBillingLog.objects.filter(reference_note="Invoice #9002").count() == 1
    assert messages_of(second)[-1:] == [
        "Allocated 7,000 points to Triton Energy. New pool balance: 57,000 points. "
        "(This form had already been submitted: the points moved once.)"
    ]
    record = PlatformIdempotencyRecord.objects.get(key=token)
    assert (record.scope, record.state, record.response_body["balance_after"]) == ("admin:allocate", "DONE", 57_000)


def test_allocate_token_reused_with_other_values_is_refused(console, funded_tenant):
    token = token_of(console.get(url(funded_tenant, "allocate")))
    console.post(url(funded_tenant, "allocate"), {"amount": "100", "token": token})
    response = console.post(url(funded_tenant, "allocate"), {"amount": "900", "token": token})
    assert response.status_code == 200
    assert "already submitted with other values" in response.content.decode()
    assert token_of(response) != token  # a fresh token to submit the corrected form
    assert pool(funded_tenant) == 50_100
    assert AllocationLog.objects.count() == 2


@pytest.mark.parametrize(
    "amount",
    ["", "abc", "10.5", "10.0", "1e3", "0", "-5", "1000000001", "1,000", " "],
)
def test_allocate_refuses_a_bad_amount_with_nothing_written(console, funded_tenant, amount):
    response = console.post(url(funded_tenant, "allocate"), {"amount": amount, "token": "tok-bad-amount"})
    assert response.status_code == 200
    errors = response.context["form"].errors["amount"]
    expected = "This field is required." if not amount.strip() else "from 1 to 1,000,000,000"
    assert expected in errors[0]
    assert pool(funded_tenant) == 50_000
    assert AllocationLog.objects.count() == 1
    assert not PlatformIdempotencyRecord.objects.exists()


def test_allocate_accepts_the_largest_amount(console, tenant):
    response = console.post(url(tenant, "allocate"), {"amount": "1000000000", "token": "tok-max"})
    assert response.status_code == 302
    assert pool(tenant) == 1_000_000_000


def test_allocate_without_token_is_refused(console, funded_tenant):
    response = console.post(url(funded_tenant, "allocate"), {"amount": "100"})
    assert response.status_code == 200
    assert "This form has expired" in response.content.decode()
    assert pool(funded_tenant) == 50_000


def test_allocate_to_unknown_or_malformed_tenant_is_404(console):
    assert console.get("/admin/tenants/tenant/00000000-0000-0000-0000-000000000000/allocate/").status_code == 404
    assert console.post("/admin/tenants/tenant/not-a-uuid/allocate/", {"amount": "5"}).status_code == 404


# --- claw back ---------------------------------------------------------------------------------


def test_clawback_beyond_the_pool_is_a_form_error_with_nothing_written(console, funded_lead, tenant):
    # pool 40,000 after the lead's 10,000 budget; the budget cannot be clawed back
    token = token_of(console.get(url(tenant, "clawback")))
    data = {"amount": "45000", "reason": "Contract ended", "token": token}
    response = console.post(url(tenant, "clawback"), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Insufficient company allocation pool. Available: 40,000, Required: 45,000."
    ]
    assert "Insufficient company allocation pool. Available: 40,000, Required: 45,000." in response.content.decode()
    assert pool(tenant) == 40_000
    assert not AllocationLog.objects.filter(kind="CLAWBACK").exists()
    assert not PlatformBillingLog.objects.filter(transaction_type="CLAWBACK").exists()
    # The same submit again (a double click) shows the same refusal and still writes nothing.
    again = console.post(url(tenant, "clawback"), data)
    assert again.context["form"].non_field_errors() == [
        "Insufficient company allocation pool. Available: 40,000, Required: 45,000."
    ]
    assert pool(tenant) == 40_000


def test_clawback_of_an_amount(console, funded_tenant, platform_admin):
    token = token_of(console.get(url(funded_tenant, "clawback")))
    response = console.post(url(funded_tenant, "clawback"), {"amount": "12000", "reason": "Overbilled", "token": token})
    assert response.status_code == 302
    assert messages_of(response) == ["Clawed back 12,000 points from Triton Energy. New pool balance: 38,000 points."]
    log = AllocationLog.objects.get(kind="CLAWBACK")
    assert (log.amount, log.balance_after, log.reference_note, log.actor_id) == (
        12_000,
        38_000,
        "Overbilled",
        platform_admin.pk,
    )
    assert PlatformBillingLog.objects.get(allocation_log=log).transaction_type == "CLAWBACK"


def test_clawback_with_empty_amount_asks_naming_the_pool_then_takes_the_whole_pool_only(console, funded_lead, tenant):
    response = console.post(url(tenant, "clawback"), {"amount": "", "reason": "Offboarded", "token": "tok-all"})
    assert response.status_code == 200
    assert "Claw back the whole pool of 40,000 points from Triton Energy?" in response.content.decode()
    assert pool(tenant) == 40_000
    confirmed = {"amount": "", "reason": "Offboarded", "confirm_all": "40000", "token": "tok-all-2"}
    response = console.post(url(tenant, "clawback"), confirmed)
    assert response.status_code == 302
    assert messages_of(response) == ["Clawed back 40,000 points from Triton Energy. New pool balance: 0 points."]
    assert pool(tenant) == 0
    assert AllocationLog.objects.get(kind="CLAWBACK").amount == 40_000
    assert LeadBudget.objects.get(lead=funded_lead).balance == 10_000  # delegated budgets are never clawed back


@pytest.mark.parametrize("reason", ["", "   "])
def test_clawback_requires_a_reason(console, funded_tenant, reason):
    response = console.post(url(funded_tenant, "clawback"), {"amount": "10", "reason": reason, "token": "tok-r"})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["A reason is required."]
    assert pool(funded_tenant) == 50_000
    assert not AllocationLog.objects.filter(kind="CLAWBACK").exists()


def test_clawback_of_an_empty_pool_is_refused(console, tenant):
    response = console.post(url(tenant, "clawback"), {"amount": "", "reason": "Close", "token": "tok-empty"})
    assert response.status_code == 200
    assert "Insufficient company allocation pool. Available: 0, Required: 1." in response.content.decode()
    assert not AllocationLog.objects.exists()


def test_clawback_double_submit_moves_points_once(console, funded_tenant):
    data = {"amount": "1000", "reason": "Adjustment", "token": "tok-double-clawback"}
    console.post(url(funded_tenant, "clawback"), data)
    second = console.post(url(funded_tenant, "clawback"), data)
    assert second.status_code == 302
    assert pool(funded_tenant) == 49_000
    assert AllocationLog.objects.filter(kind="CLAWBACK").count() == 1
    assert "the points moved once" in messages_of(second)[-1]


def test_allocate_and_clawback_tokens_are_separate_scopes(console, funded_tenant):
    console.post(url(funded_tenant, "allocate"), {"amount": "100", "token": "same"})
    response = console.post(url(funded_tenant, "clawback"), {"amount": "100", "reason": "x", "token": "same"})
    assert response.status_code == 302
    assert pool(funded_tenant) == 50_000
    assert AllocationLog.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_moves_points_once(platform_admin, tenant):
    """Four submits of one allocate form racing on their own connections: the points move once."""
    from django.test import Client

    from perksu.testing import run_together

    clients = [Client() for _ in range(4)]
    for client in clients:
        client.force_login(platform_admin)
    responses = run_together(
        4, lambda i: clients[i].post(url(tenant, "allocate"), {"amount": "2500", "token": "tok-race"})
    )

    assert pool(tenant) == 2_500
    assert AllocationLog.objects.filter(tenant=tenant).count() == 1
    assert PlatformBillingLog.objects.filter(tenant=tenant).count() == 1
    moved = [r for r in responses if r.status_code == 302]
    assert moved, "at least the first submit succeeds"
    for response in responses:
        if response.status_code == 200:  # lost the race while the first was still running
            assert "This form is being processed" in response.content.decode()
        else:
            assert response["Location"] == f"/admin/tenants/tenant/{tenant.pk}/change/"


def test_a_service_refusal_while_saving_is_a_message_and_nothing_is_written(console, monkeypatch):
    """Between the form's checks and the insert another admin may take the slug: the service's
    refusal comes back as a message on the same page and no tenant is written."""
    import tenants.admin
    from perksu.errors import DomainError

    def taken(**kwargs):
        Tenant.objects.create(name="Sneaky", slug="sneaky")  # written inside the admin's transaction
        raise DomainError("A tenant with slug 'nimbus-labs' already exists.", code="duplicate_slug")

    monkeypatch.setattr(tenants.admin, "tenant_create", taken)
    response = console.post("/admin/tenants/tenant/add/", NEW_TENANT)
    assert response.status_code == 302
    assert response["Location"] == "/admin/tenants/tenant/add/"
    assert messages_of(response) == ["A tenant with slug 'nimbus-labs' already exists."]
    assert not Tenant.objects.exists()  # the admin's transaction rolled back


def test_tenant_list_sorts_by_liability_and_pool(console, platform_admin, tenant, other_tenant, allocate):
    from tenants.services import tenant_create

    cheap = tenant_create(name="Cheap Points", slug="cheap", point_value=Decimal("0.01"))
    allocate(tenant, 1_000)
    allocate(other_tenant, 5_000)
    allocate(cheap, 50_000)  # most points, least value: 500.00
    columns = list(console.get("/admin/tenants/tenant/").context["cl"].list_display)

    def order(field: str, descending: bool = True) -> list[str]:
        index = columns.index(field)
        response = console.get("/admin/tenants/tenant/", {"o": f"{'-' if descending else ''}{index}"})
        return [t.slug for t in response.context["cl"].result_list]

    assert order("liability_value") == ["other-corp", "triton-energy", "cheap"]
    assert order("pool_balance") == ["cheap", "other-corp", "triton-energy"]
    assert order("pool_balance", descending=False) == ["triton-energy", "other-corp", "cheap"]


def test_console_edits_timezone_and_locale_logs_the_change_and_lists_read_in_the_locale(
    console, funded_tenant, platform_admin
):
    from tenants.models import SettingsChangeLog

    page = console.get(f"/admin/tenants/tenant/{funded_tenant.pk}/change/").content.decode()
    assert 'name="timezone"' in page and 'name="locale"' in page
    data = {
        "name": "Triton Energy",
        "slug": "triton-energy",
        "status": "ACTIVE",
        "currency_label": "Points",
        "point_value": "1",
        "low_balance_threshold": "100",
        "max_award_points": "",
        "timezone": "Asia/Kolkata",
        "locale": "en-IN",
    }
    assert console.post(f"/admin/tenants/tenant/{funded_tenant.pk}/change/", data).status_code == 302
    tenant = Tenant.objects.get(pk=funded_tenant.pk)
    assert (tenant.timezone, tenant.locale) == ("Asia/Kolkata", "en-IN")
    logged = {(row.field, row.old_value, row.new_value, row.actor_id) for row in SettingsChangeLog.objects.all()}
    assert logged == {
        ("timezone", "UTC", "Asia/Kolkata", platform_admin.pk),
        ("locale", "en", "en-IN", platform_admin.pk),
    }
    # An unknown zone is refused next to its field, and nothing changes.
    bad = console.post(f"/admin/tenants/tenant/{funded_tenant.pk}/change/", {**data, "timezone": "Mars/Olympus"})
    assert bad.status_code == 200 and "timezone" in bad.context["adminform"].form.errors
    # The tenant list and the allocation log read in en-IN: lakhs grouped 1,00,000 style.
    allocate_page = console.get(f"/admin/tenants/tenant/{funded_tenant.pk}/allocate/")
    token = re.search(r'name="token" value="([^"]+)"', allocate_page.content.decode()).group(1)
    console.post(f"/admin/tenants/tenant/{funded_tenant.pk}/allocate/", {"amount": "100000", "token": token})
    assert "1,50,000" in console.get("/admin/tenants/tenant/").content.decode()
    assert "1,00,000" in console.get("/admin/points/allocationlog/").content.decode()
