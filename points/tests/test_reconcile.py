"""`manage.py reconcile`: each invariant of SPEC §5 caught when broken, with a readable line.

Drifts are made the way a bug or a hand-edit would make them: a balance row
written directly with `.update()`, or a stray log/ledger row inserted (the
PostgreSQL triggers refuse UPDATE and DELETE on logs and ledgers, not INSERT).
"""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from points.models import AllocationLog, LeadBudget
from points.reconcile import reconcile
from recognition.models import Recognition
from tenants.models import Tenant
from wallets.models import Redemption, Wallet, WalletLedger
from wallets.services import redemption_create, reward_create


def run_reconcile(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def books(funded_lead, funded_tenant, manager, employee, other_employee, award, outsider, other_tenant, allocate):
    """Both tenants with every kind of movement, reconciled."""
    award(manager, [employee, other_employee], 400)
    award(funded_lead, employee, 150)
    reward = reward_create(actor=manager, name="Mug", points_cost=100, stock=3)
    redemption_create(user=employee, reward_id=reward.pk)
    allocate(other_tenant, 700)
    return funded_tenant


def test_clean_books_report_ok_with_the_figures(books):
    code, out = run_reconcile()
    assert code == 0
    assert out.splitlines() == [
        "other-corp: OK (pool 700, lead budgets 0, wallets 0, issued redemptions 0)",
        "triton-energy: OK (pool 39200, lead budgets 9850, wallets 850, issued redemptions 100)",
    ]


def test_json_output(books):
    code, out = run_reconcile("--json")
    assert code == 0
    reports = json.loads(out)
    assert [(r["slug"], r["ok"], r["drifts"]) for r in reports] == [
        ("other-corp", True, []),
        ("triton-energy", True, []),
    ]
    figures = reports[1]["figures"]
    assert figures == {
        "pool": 39_200,
        "allocated": 50_000,
        "clawed_back": 0,
        "delegated": 10_000,
        "recalled": 0,
        "pool_awards": 800,
        "lead_awards": 150,
        "allowance_awards": 0,
        "allowance_given": 0,
        "lead_budgets": 9_850,
        "wallets": 850,
        "issued_redemptions": 100,
        "forfeited": 0,
    }
    assert figures["allocated"] - figures["clawed_back"] == (
        figures["pool"] + figures["lead_budgets"] + figures["wallets"] + figures["issued_redemptions"]
    )


def _drift_line(out: str, slug: str = "triton-energy") -> str:
    lines = [line for line in out.splitlines() if line.startswith(f"{slug}:")]
    assert len(lines) == 1, out
    return lines[0]


def test_wallet_balance_written_directly(books, employee):
    """Invariant 2 (and 5): a wallet that disagrees with its ledger."""
    Wallet.objects.filter(user=employee).update(balance=F("balance") + 5, lifetime_earned=F("lifetime_earned") + 5)
    code, out = run_reconcile()
    assert code == 1
    line = _drift_line(out)
    assert line.startswith("triton-energy: DRIFT — 1 wallet(s) disagree with their ledger")
    assert "conservation: allocations − clawbacks = 50000 ≠ pool 39200 + lead budgets 9850 + wallets 855" in line
    assert out.splitlines()[0].startswith("other-corp: OK")


def test_stray_ledger_row(books, other_employee):
    """Invariant 2: a ledger credit no wallet update matches."""
    wallet = Wallet.objects.get(user=other_employee)
    WalletLedger.objects.create(
        tenant_id=wallet.tenant_id,
        wallet=wallet,
        entry_no=wallet.last_entry_no + 1,
        entry_type="CREDIT",
        source="ADJUSTMENT",
        amount=10,
        balance_after=wallet.balance + 10,
    )
    code, out = run_reconcile()
    assert code == 1
    assert _drift_line(out) == "triton-energy: DRIFT — 1 wallet(s) disagree with their ledger"


def test_lead_budget_written_directly(books, funded_lead):
    """Invariant 3 (and 5)."""
    LeadBudget.objects.filter(lead=funded_lead).update(balance=F("balance") + 10)
    code, out = run_reconcile()
    assert code == 1
    assert "1 lead budget(s) disagree with delegations − recalls − lead awards" in _drift_line(out)


def test_pool_written_directly(books):
    """Invariant 4 (and 5)."""
    Tenant.objects.filter(pk=books.pk).update(points_allocation_balance=F("points_allocation_balance") - 200)
    code, out = run_reconcile()
    assert code == 1
    line = _drift_line(out)
    assert (
        "pool 39000 ≠ allocations 50000 − clawbacks 0 − delegations 10000 + recalls 0 − pool awards 800 = 39200" in line
    )
    assert "conservation" in line


def test_stray_allocation_log(books, platform_admin):
    """Invariants 4 and 5: an allocation logged that never reached the pool."""
    AllocationLog.objects.create(tenant=books, kind="ALLOCATION", amount=1_000, balance_after=1, actor=platform_admin)
    code, out = run_reconcile()
    assert code == 1
    line = _drift_line(out)
    assert "pool 39200 ≠ allocations 51000" in line
    assert "conservation: allocations − clawbacks = 51000 ≠" in line


def test_redemption_status_written_directly(books):
    """Invariant 5 alone: a redemption marked refunded without its refund credit."""
    Redemption.objects.update(status="REFUNDED", refunded_at=timezone.now())
    code, out = run_reconcile()
    assert code == 1
    assert _drift_line(out) == (
        "triton-energy: DRIFT — conservation: allocations − clawbacks = 50000 ≠ pool 39200 + lead budgets 9850 "
        "+ wallets 850 + issued redemptions 0 = 49900"
    )


def test_stray_recognition_with_points(books, funded_lead, employee):
    """Invariant 6 (and 3): a recognition with points but no wallet credit."""
    Recognition.objects.create(
        tenant=books, giver=funded_lead, receiver=employee, points=25, message="ghost", funding_source="LEAD_BUDGET"
    )
    code, out = run_reconcile()
    assert code == 1
    line = _drift_line(out)
    assert "1 recognition(s) without exactly one matching wallet credit" in line
    assert "recognition credits for" in line


@pytest.mark.postgres
def test_negative_balance_is_reported(books, employee):
    """Invariant 1. The CHECK constraint makes it impossible, so the test drops it first
    (DDL is transactional on PostgreSQL: the test's rollback restores it)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the pending deferred FK checks first
        cursor.execute("ALTER TABLE wallets DROP CONSTRAINT wallet_balance_non_negative")
        cursor.execute("ALTER TABLE lead_budgets DROP CONSTRAINT lead_budget_non_negative")
    Wallet.objects.filter(user=employee).update(balance=-1)
    LeadBudget.objects.update(balance=-3)
    line = _drift_line(run_reconcile()[1])
    assert "1 lead budget(s) negative" in line
    assert "1 wallet(s) negative" in line


def test_tenant_option_checks_only_that_tenant(books, outsider):
    Wallet.objects.filter(user=outsider).update(balance=3, lifetime_earned=3)
    code, out = run_reconcile("--tenant", "triton-energy")
    assert (code, out.splitlines()) == (
        0,
        ["triton-energy: OK (pool 39200, lead budgets 9850, wallets 850, issued redemptions 100)"],
    )
    code, out = run_reconcile("--tenant", "other-corp", "--json")
    assert code == 1
    [report] = json.loads(out)
    assert (report["slug"], report["ok"]) == ("other-corp", False)
    assert report["drifts"][0] == "1 wallet(s) disagree with their ledger"
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command("reconcile", "--tenant", "nope", stdout=StringIO())


def test_reconcile_reads_with_a_fixed_number_of_statements(books, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        reports = reconcile()
    assert all(r.ok for r in reports)


def test_clean_on_the_demo_seed(db):
    call_command("seed_demo", stdout=StringIO())
    code, out = run_reconcile()
    assert code == 0, out
    assert out.splitlines()[0].startswith("triton-energy: OK (pool ")
