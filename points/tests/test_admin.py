"""The console's logs and ledgers (read-only, filtered, exported) and the books pages."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog
from points.services import lead_delegate, tenant_clawback
from recognition.models import Recognition
from tenants.tests.factories import UserFactory
from wallets.models import Redemption, Wallet, WalletLedger
from wallets.services import redemption_create, reward_create

pytestmark = pytest.mark.django_db

LEDGERS = [
    ("points", "allocationlog", AllocationLog),
    ("points", "platformbillinglog", PlatformBillingLog),
    ("points", "delegationlog", DelegationLog),
    ("points", "leadbudget", LeadBudget),
    ("wallets", "wallet", Wallet),
    ("wallets", "walletledger", WalletLedger),
    ("wallets", "redemption", Redemption),
    ("recognition", "recognition", Recognition),
]


@pytest.fixture
def console(client, platform_admin):
    client.force_login(platform_admin)
    return client


@pytest.fixture
def books(funded_lead, manager, lead, employee, other_employee, award):
    """Every kind of row: allocation, delegation, awards from pool and budget, a redemption."""
    award(manager, employee, 2_000)
    award(lead, [employee, other_employee], 500)
    reward = reward_create(actor=manager, name="Coffee voucher", points_cost=300, stock=10)
    redemption_create(user=employee, reward_id=reward.pk)
    return funded_lead.tenant


def read_csv(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# --- read-only for everyone ---------------------------------------------------------------------


@pytest.mark.parametrize(("app", "model", "cls"), LEDGERS)
def test_ledgers_are_viewable_but_refuse_add_change_delete_even_for_superusers(console, books, app, model, cls):
    obj = cls.objects.first()
    before = cls.objects.count()
    base = f"/admin/{app}/{model}/"
    listing = console.get(base)
    assert listing.status_code == 200
    assert f'href="{base}add/"' not in listing.content.decode()
    page = console.get(f"{base}{obj.pk}/change/")
    assert page.status_code == 200  # the view-only page
    assert 'name="_save"' not in page.content.decode()
    assert console.get(f"{base}add/").status_code == 403
    assert console.post(f"{base}add/", {}).status_code == 403
    assert console.post(f"{base}{obj.pk}/change/", {}).status_code == 403
    assert console.get(f"{base}{obj.pk}/delete/").status_code == 403
    assert console.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = console.post(base, {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"})
    assert bulk.status_code == 302  # an unknown action: nothing happens
    assert cls.objects.count() == before


def test_balances_are_not_form_fields(console, books, lead):
    budget = LeadBudget.objects.get(lead=lead)
    page = console.get(f"/admin/points/leadbudget/{budget.pk}/change/").content.decode()
    assert '<div class="readonly">9000</div>' in page
    assert 'name="balance"' not in page


# --- filters, search, date hierarchy ------------------------------------------------------------


def test_allocation_log_filters_by_tenant_kind_search_and_date(console, platform_admin, tenant, other_tenant, allocate):
    allocate(tenant, 1_000, note="Invoice #1")
    allocate(other_tenant, 2_000, note="Invoice #2")
    tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, amount=300, reason="Overbilled")

    def notes(params) -> list[str]:
        response = console.get("/admin/points/allocationlog/", params)
        assert response.status_code == 200
        return sorted(log.reference_note for log in response.context["cl"].result_list)

    assert notes({"tenant__id__exact": str(tenant.pk)}) == ["Invoice #1", "Overbilled"]
    assert notes({"kind__exact": "CLAWBACK"}) == ["Overbilled"]
    assert notes({"q": "other-corp"}) == ["Invoice #2"]
    today = timezone.localdate()
    assert len(notes({"created_at__year": today.year, "created_at__month": today.month})) == 3
    assert notes({"created_at__year": today.year - 1}) == []


def test_wallet_ledger_filters_by_source_and_type(console, books):
    response = console.get("/admin/wallets/walletledger/", {"source__exact": "REDEMPTION"})
    rows = response.context["cl"].result_list
    assert [(r.entry_type, r.amount, r.balance_after) for r in rows] == [("DEBIT", 300, 2_200)]
    response = console.get("/admin/wallets/walletledger/", {"entry_type__exact": "CREDIT"})
    assert sorted(r.amount for r in response.context["cl"].result_list) == [500, 500, 2_000]


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/admin/points/allocationlog/", "allocations"),
        ("/admin/points/delegationlog/", "delegations"),
        ("/admin/wallets/walletledger/", "awards"),
        ("/admin/recognition/recognition/", "awards"),
        ("/admin/wallets/redemption/", "redemptions"),
        ("/admin/wallets/wallet/", "awards"),
    ],
)
def test_ledger_lists_do_not_grow_queries_with_rows(console, funded_tenant, manager, lead, allocate, path, make):
    people = [UserFactory(tenant=funded_tenant) for _ in range(3)]
    reward = reward_create(actor=manager, name="Mug", points_cost=1)

    def add_rows(n: int) -> None:
        for i in range(n):
            if make == "allocations":
                allocate(funded_tenant, 10 + i)
            elif make == "delegations":
                lead_delegate(actor=manager, lead_id=lead.pk, amount=10 + i)
            else:
                from recognition.services import recognition_create

                recognition_create(giver=manager, recipient_ids=[people[i % 3].pk], points=5, message="Thanks")
                if make == "redemptions":
                    redemption_create(user=people[i % 3], reward_id=reward.pk)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert console.get(path).status_code == 200
        return len(ctx)

    add_rows(2)
    few = count()
    add_rows(12)
    assert count() == few


# --- CSV export ---------------------------------------------------------------------------------


def test_export_link_carries_the_current_filters(console, tenant):
    response = console.get("/admin/points/allocationlog/", {"tenant__id__exact": str(tenant.pk)})
    assert f'href="/admin/points/allocationlog/export/?tenant__id__exact={tenant.pk}"' in response.content.decode()


def test_csv_export_of_the_filtered_list(console, platform_admin, tenant, other_tenant, allocate):
    allocate(tenant, 1_000, note="Invoice #1")
    allocate(other_tenant, 2_000, note="Invoice #2")
    tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, amount=300, reason='=HYPERLINK("http://x")')
    response = console.get("/admin/points/allocationlog/export/", {"tenant__id__exact": str(tenant.pk)})
    assert response.status_code == 200
    today = timezone.localdate()
    assert response["Content-Disposition"] == f'attachment; filename="allocation-logs-{today:%Y%m%d}.csv"'
    rows = read_csv(response)
    assert [(r["tenant"], r["kind"], r["amount"], r["pool_balance_after"]) for r in rows] == [
        ("triton-energy", "CLAWBACK", "300", "700"),
        ("triton-energy", "ALLOCATION", "1000", "1000"),
    ]
    # A note a spreadsheet would run as a formula is exported as text.
    assert rows[0]["reference_note"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["reference_note"] == "Invoice #1"
    assert rows[1]["actor"] == "admin@platform.test"
    assert list(rows[0]) == [
        "id",
        "created_at",
        "tenant",
        "kind",
        "amount",
        "pool_balance_after",
        "reference_note",
        "actor",
    ]
    everything = read_csv(console.get("/admin/points/allocationlog/export/"))
    assert len(everything) == 3
    searched = read_csv(console.get("/admin/points/allocationlog/export/", {"q": "Invoice #2"}))
    assert [r["tenant"] for r in searched] == ["other-corp"]


def test_csv_export_covers_every_page(console, tenant, allocate):
    for i in range(60):  # more than one page of 50
        allocate(tenant, i + 1)
    rows = read_csv(console.get("/admin/points/allocationlog/export/"))
    assert len(rows) == 60
    assert sum(int(r["amount"]) for r in rows) == sum(range(1, 61))


def test_csv_export_of_wallet_ledger_and_billing(console, books, employee):
    rows = read_csv(console.get("/admin/wallets/walletledger/export/", {"q": employee.email}))
    assert [(r["entry_no"], r["entry_type"], r["source"], r["amount"], r["balance_after"]) for r in rows] == [
        ("3", "DEBIT", "REDEMPTION", "300", "2200"),
        ("2", "CREDIT", "RECOGNITION", "500", "2500"),
        ("1", "CREDIT", "RECOGNITION", "2000", "2000"),
    ]
    billing = read_csv(console.get("/admin/points/platformbillinglog/export/"))
    assert [(r["transaction_type"], r["amount"], r["currency"]) for r in billing] == [
        ("CREDIT_INJECTION", "50000", "INR")
    ]


def test_csv_export_selected_rows_action(console, tenant, allocate):
    first = allocate(tenant, 100).allocation_log
    allocate(tenant, 200)
    response = console.post(
        "/admin/points/allocationlog/", {"action": "export_selected_csv", "_selected_action": [str(first.pk)]}
    )
    rows = read_csv(response)
    assert [(r["id"], r["amount"]) for r in rows] == [(str(first.pk), "100")]


def test_csv_export_with_a_bad_filter_goes_back_to_the_list(console):
    response = console.get("/admin/points/allocationlog/export/", {"nonsense__field": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/points/allocationlog/"


def test_csv_export_refused_to_a_manager(client, manager, tenant, allocate):
    allocate(tenant, 100)
    client.force_login(manager)
    response = client.get("/admin/points/allocationlog/export/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- ledger health ------------------------------------------------------------------------------


def test_ledger_health_shows_each_tenant_ok(console, books, other_tenant):
    response = console.get("/admin/ledger-health/")
    assert response.status_code == 200
    reports = {r.slug: r for r in response.context["reports"]}
    assert set(reports) == {"triton-energy", "other-corp"}
    assert all(r.ok for r in reports.values())
    triton = reports["triton-energy"].figures
    # 50,000 allocated = pool 38,000 + budgets 9,000 + wallets 2,700 + issued redemptions 300
    assert (triton["pool"], triton["lead_budgets"], triton["wallets"], triton["issued_redemptions"]) == (
        38_000,
        9_000,
        2_700,
        300,
    )
    body = response.content.decode()
    assert "All 2 tenants reconcile" in body
    assert "38,000" in body


def test_ledger_health_shows_a_drift_with_its_figures(console, books, employee):
    # Corrupt one wallet behind the services' back: its ledger no longer explains it.
    Wallet.objects.filter(user=employee).update(balance=9_999)
    response = console.get("/admin/ledger-health/")
    report = next(r for r in response.context["reports"] if r.slug == "triton-energy")
    assert not report.ok
    assert "1 wallet(s) disagree with their ledger" in report.drifts
    body = response.content.decode()
    assert "1 of 1 tenant drifts from the books." in body
    assert "DRIFT" in body
    assert "1 wallet(s) disagree with their ledger" in body


def test_ledger_health_for_one_tenant(console, books, other_tenant):
    response = console.get("/admin/ledger-health/", {"tenant": "other-corp"})
    assert [r.slug for r in response.context["reports"]] == ["other-corp"]


# --- liability ----------------------------------------------------------------------------------


def test_liability_per_tenant_with_value(console, books, other_tenant, allocate):
    from tenants.models import Tenant

    Tenant.objects.filter(pk=other_tenant.pk).update(point_value="0.50", currency="USD")
    allocate(other_tenant, 1_001)
    response = console.get("/admin/liability/")
    assert response.status_code == 200
    rows = {r.tenant_slug: r for r in response.context["rows"]}
    triton = rows["triton-energy"]
    assert (triton.pool, triton.lead_budgets, triton.wallets, triton.outstanding) == (38_000, 9_000, 2_700, 49_700)
    assert str(triton.value) == "49700.00"
    assert str(rows["other-corp"].value) == "500.50"
    body = response.content.decode()
    assert "INR 49,700.00" in body
    assert "USD 500.50" in body
    assert dict(response.context["totals"]) == {"INR": triton.value, "USD": rows["other-corp"].value}
    assert response.context["roll"] == []  # no dates chosen yet: the form is shown with this month


def test_liability_roll_forward_for_a_date_range(console, books, tenant):
    today = timezone.localdate()
    response = console.get(
        "/admin/liability/",
        {"tenant": str(tenant.pk), "date_from": str(today - dt.timedelta(days=7)), "date_to": str(today)},
    )
    assert response.status_code == 200
    [(row, movement)] = response.context["roll"]
    assert row.tenant_slug == "triton-energy"
    assert (movement.opening, movement.allocated, movement.clawed_back, movement.redeemed, movement.refunded) == (
        0,
        50_000,
        0,
        300,
        0,
    )
    assert movement.closing == 49_700 == row.outstanding
    assert 'id="roll-forward"' in response.content.decode()

    later = console.get(
        "/admin/liability/",
        {"date_from": str(today + dt.timedelta(days=1)), "date_to": str(today + dt.timedelta(days=2))},
    )
    [(_, movement)] = later.context["roll"]
    assert (movement.opening, movement.allocated, movement.closing) == (49_700, 0, 49_700)


def test_liability_roll_forward_refuses_a_reversed_range(console, books):
    response = console.get("/admin/liability/", {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == ["The start date must be on or before the end date."]
    assert response.context["roll"] == []
    response = console.get("/admin/liability/", {"date_from": "yesterday", "date_to": "2026-03-01"})
    assert "date_from" in response.context["form"].errors
