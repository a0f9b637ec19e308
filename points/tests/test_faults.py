"""Fault injection: an exception right after any write step of award, delegate, redeem (and
distribute) leaves the books exactly as they were.

An award has two paths on PostgreSQL (`recognition.services`): one statement, and
the general ORM path every award takes on SQLite. Each is faulted at each of its
own steps; on PostgreSQL the general path is reached by switching the
one-statement path off. (Inside a transaction, as here, the statement runs in a
savepoint; in autocommit it is its own transaction, and a failure inside it —
the guard that undoes an unpaid award — is tested in
recognition/tests/test_one_statement_award.py.)

Each case wraps one write (a queryset `update`/`bulk_create`/`create` on one
model, or a `points.balances` helper) so that the real write runs and then an
exception is raised, as a crash or a lost connection would between two
statements. The test also proves the step did run, so it cannot pass vacuously.
"""

import pytest
from django.db.models import QuerySet

from points import balances
from points.models import DelegationLog
from points.services import lead_delegate
from recognition import services as recognition_services
from recognition import statements as recognition_statements
from recognition.models import Recognition
from recognition.services import recognition_create, recognition_distribute
from wallets import services as wallet_services
from wallets.models import Redemption, Reward, VoucherCode, Wallet, WalletLedger
from wallets.services import redemption_create, reward_create

from .books import assert_reconciled, books


class Injected(Exception):
    pass


def _fail_after_queryset_method(monkeypatch, method: str, model) -> list:
    """Make `QuerySet.<method>` on `model` write, then raise. Returns the list of runs."""
    runs = []
    original = getattr(QuerySet, method)

    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if self.model is model:
            runs.append(method)
            raise Injected(f"after {model.__name__}.{method}")
        return result

    monkeypatch.setattr(QuerySet, method, wrapper)
    return runs


def _fail_after_function(monkeypatch, module, name: str) -> list:
    runs = []
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        original(*args, **kwargs)  # the real write happens
        runs.append(name)
        raise Injected(f"after {name}")

    monkeypatch.setattr(module, name, wrapper)
    return runs


def inject(monkeypatch, step):
    kind, target, name = step
    if kind == "qs":
        return _fail_after_queryset_method(monkeypatch, name, target)
    return _fail_after_function(monkeypatch, target, name)


GENERAL_AWARD_STEPS = {
    "recognitions-inserted": ("qs", Recognition, "bulk_create"),
    "wallets-credited": ("qs", Wallet, "update"),
    "ledger-inserted": ("qs", WalletLedger, "bulk_create"),
    "pool-debited": ("fn", balances, "pool_debit"),
}
GENERAL_LEAD_AWARD_STEPS = {**GENERAL_AWARD_STEPS, "lead-budget-debited": ("fn", balances, "lead_budget_debit")}
del GENERAL_LEAD_AWARD_STEPS["pool-debited"]
ONE_STATEMENT_AWARD_STEPS = {"award-statement": ("fn", recognition_statements, "pay_award")}
DELEGATE_STEPS = {
    "lead-budget-credited": ("fn", balances, "lead_budget_credit"),
    "pool-debited": ("fn", balances, "pool_debit"),
    "log-inserted": ("qs", DelegationLog, "create"),
}
REDEEM_STEPS = {
    "wallet-debited": ("qs", Wallet, "update"),
    "stock-decremented": ("qs", Reward, "update"),
    "voucher-code-claimed": ("fn", wallet_services, "voucher_code_claim"),
    "redemption-inserted": ("qs", Redemption, "create"),
    "ledger-inserted": ("qs", WalletLedger, "create"),
}
DISTRIBUTE_STEPS = {
    "recognitions-inserted": ("fn", recognition_statements, "insert_distribution_recognitions"),
    "wallets-credited": ("qs", Wallet, "update"),
    "ledger-inserted": ("fn", recognition_statements, "insert_distribution_ledger"),
    "pool-debited": ("fn", balances, "pool_debit"),
}


@pytest.fixture
def books_with_history(funded_lead, funded_tenant, manager, employee, other_employee, award):
    award(manager, [employee, other_employee], 500)
    award(funded_lead, employee, 100)
    return funded_tenant


def _assert_unchanged_after_fault(monkeypatch, step, operation):
    before = books()
    runs = inject(monkeypatch, step)
    with pytest.raises(Injected):
        operation()
    monkeypatch.undo()
    assert runs, "the injected step never ran"
    assert books() == before
    assert_reconciled()


@pytest.fixture
def general_path(monkeypatch):
    """Every award takes the general path, as on SQLite (a no-op there)."""
    monkeypatch.setattr(recognition_services, "_award_in_one_statement", lambda **kwargs: None)


def _pool_award(manager, employee, other_employee, monkeypatch, step):
    _assert_unchanged_after_fault(
        monkeypatch,
        step,
        lambda: recognition_create(
            giver=manager, recipient_ids=[employee.pk, other_employee.pk], points=50, message="Fault"
        ),
    )
    # And the same award then goes through whole.
    recognition_create(giver=manager, recipient_ids=[employee.pk, other_employee.pk], points=50, message="Retry")
    assert_reconciled()


def _lead_award(funded_lead, employee, monkeypatch, step):
    _assert_unchanged_after_fault(
        monkeypatch,
        step,
        lambda: recognition_create(giver=funded_lead, recipient_ids=[employee.pk], points=70, message="F"),
    )


@pytest.mark.parametrize("step", GENERAL_AWARD_STEPS.values(), ids=GENERAL_AWARD_STEPS.keys())
def test_pool_award_fault(books_with_history, general_path, manager, employee, other_employee, monkeypatch, step):
    _pool_award(manager, employee, other_employee, monkeypatch, step)


@pytest.mark.parametrize("step", GENERAL_LEAD_AWARD_STEPS.values(), ids=GENERAL_LEAD_AWARD_STEPS.keys())
def test_lead_award_fault(books_with_history, general_path, funded_lead, employee, monkeypatch, step):
    _lead_award(funded_lead, employee, monkeypatch, step)


@pytest.mark.postgres
@pytest.mark.parametrize("step", ONE_STATEMENT_AWARD_STEPS.values(), ids=ONE_STATEMENT_AWARD_STEPS.keys())
def test_one_statement_pool_award_fault(books_with_history, manager, employee, other_employee, monkeypatch, step):
    _pool_award(manager, employee, other_employee, monkeypatch, step)


@pytest.mark.postgres
@pytest.mark.parametrize("step", ONE_STATEMENT_AWARD_STEPS.values(), ids=ONE_STATEMENT_AWARD_STEPS.keys())
def test_one_statement_lead_award_fault(books_with_history, funded_lead, employee, monkeypatch, step):
    _lead_award(funded_lead, employee, monkeypatch, step)


@pytest.mark.parametrize("step", DELEGATE_STEPS.values(), ids=DELEGATE_STEPS.keys())
def test_delegate_fault(books_with_history, manager, funded_lead, monkeypatch, step):
    _assert_unchanged_after_fault(
        monkeypatch, step, lambda: lead_delegate(actor=manager, lead_id=funded_lead.pk, amount=900)
    )


@pytest.mark.parametrize("step", REDEEM_STEPS.values(), ids=REDEEM_STEPS.keys())
def test_redeem_fault(books_with_history, manager, employee, monkeypatch, step):
    reward = reward_create(actor=manager, name="Mug", points_cost=250, stock=4)
    _assert_unchanged_after_fault(monkeypatch, step, lambda: redemption_create(user=employee, reward_id=reward.pk))
    assert Reward.objects.get(pk=reward.pk).stock == 4
    assert not VoucherCode.objects.exists()


@pytest.mark.parametrize("step", DISTRIBUTE_STEPS.values(), ids=DISTRIBUTE_STEPS.keys())
def test_distribute_fault(books_with_history, manager, monkeypatch, step):
    _assert_unchanged_after_fault(
        monkeypatch, step, lambda: recognition_distribute(giver=manager, amount_per_user=20, message="Fault")
    )
