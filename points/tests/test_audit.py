"""One structured `perksu.money` line per committed money movement, none on refusal or rollback."""

import json
import logging

import pytest
from django.db import transaction

from perksu.errors import DomainError
from points.idempotency import fingerprint, run_idempotent
from points.services import lead_delegate, lead_recall, tenant_allocate, tenant_clawback
from recognition.services import recognition_create, recognition_distribute
from wallets.services import redemption_create, redemption_refund, reward_create

from .books import books


@pytest.fixture
def money_lines(caplog):
    caplog.set_level(logging.INFO, logger="perksu.money")

    def lines():
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "perksu.money"]

    return lines


def test_every_movement_logs_one_line_with_its_figures(
    tenant, platform_admin, manager, lead, employee, other_employee, money_lines, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=50_000, reference_note="Invoice #1")
        tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, amount=1_000, reason="Correction")
        lead_delegate(actor=manager, lead_id=lead.pk, amount=5_000)
        lead_recall(actor=manager, lead_id=lead.pk, amount=1_000)
        award = recognition_create(giver=manager, recipient_ids=[employee.pk], points=700, message="Secret plans")
        recognition_create(giver=lead, recipient_ids=[employee.pk, other_employee.pk], points=50, message="x")
        recognition_create(giver=employee, recipient_ids=[other_employee.pk], points=0, message="kudos")
        recognition_distribute(giver=manager, amount_per_user=10, message="All")
        reward = reward_create(actor=manager, name="Mug", points_cost=300, stock=3)
        redemption = redemption_create(user=employee, reward_id=reward.pk).redemption
        redemption_refund(actor=manager, redemption_id=redemption.pk)

    lines = money_lines()
    assert [line["operation"] for line in lines] == [
        "allocate",
        "clawback",
        "delegate",
        "recall",
        "award",
        "award",
        "distribute",
        "redeem",
        "refund",
    ]  # kudos move nothing, so they log nothing
    by_op = {}
    for line in lines:
        by_op.setdefault(line["operation"], []).append(line)
        assert line["event"] == "money_movement"
        assert line["tenant"] == str(tenant.pk)
        assert line["idempotency_key"] is None
    assert by_op["allocate"][0] | {"log_id": None} == {
        "event": "money_movement",
        "operation": "allocate",
        "tenant": str(tenant.pk),
        "actor": str(platform_admin.pk),
        "amount": 50_000,
        "pool_after": 50_000,
        "log_id": None,
        "idempotency_key": None,
    }
    assert (by_op["clawback"][0]["amount"], by_op["clawback"][0]["pool_after"]) == (1_000, 49_000)
    assert by_op["delegate"][0] | {"log_id": None} == {
        "event": "money_movement",
        "operation": "delegate",
        "tenant": str(tenant.pk),
        "actor": str(manager.pk),
        "amount": 5_000,
        "lead_id": str(lead.pk),
        "lead_budget_after": 5_000,
        "pool_after": 44_000,
        "log_id": None,
        "idempotency_key": None,
    }
    assert (by_op["recall"][0]["lead_budget_after"], by_op["recall"][0]["pool_after"]) == (4_000, 45_000)
    pool_award, lead_award = by_op["award"]
    assert (pool_award["amount"], pool_award["funding_source"], pool_award["pool_after"]) == (700, "POOL", 44_300)
    assert pool_award["wallets_after"] == {str(employee.pk): 700}
    assert pool_award["group_id"] == str(award.group_id)
    assert (lead_award["amount"], lead_award["funding_source"], lead_award["lead_budget_after"]) == (
        100,
        "LEAD_BUDGET",
        3_900,
    )
    assert lead_award["wallets_after"] == {str(employee.pk): 750, str(other_employee.pk): 50}
    assert lead_award["pool_after"] is None
    distribute = by_op["distribute"][0]
    assert (distribute["recipients"], distribute["amount"], distribute["pool_after"]) == (3, 30, 44_270)
    assert (by_op["redeem"][0]["actor"], by_op["redeem"][0]["amount"], by_op["redeem"][0]["wallet_after"]) == (
        str(employee.pk),
        300,
        460,
    )
    assert (by_op["refund"][0]["actor"], by_op["refund"][0]["wallet_after"]) == (str(manager.pk), 760)


def test_no_line_on_a_refusal_or_a_rollback(
    funded_tenant, manager, employee, money_lines, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(DomainError):
            recognition_create(giver=manager, recipient_ids=[employee.pk], points=60_000, message="Too much")
        before = books()
        with pytest.raises(RuntimeError), transaction.atomic():
            recognition_create(giver=manager, recipient_ids=[employee.pk], points=10, message="Rolled back")
            raise RuntimeError("the caller's transaction fails after the award")
        assert books() == before
    assert callbacks == []
    assert money_lines() == []


def test_the_idempotency_key_is_carried_into_the_line(
    funded_tenant, manager, employee, money_lines, django_capture_on_commit_callbacks
):
    def op():
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=10, message="Keyed")
        return 200, {}

    with django_capture_on_commit_callbacks(execute=True):
        run_idempotent(user=manager, scope="award", key="abc-123", request_fingerprint=fingerprint({}), operation=op)
        # The replay moves nothing and logs nothing.
        run_idempotent(user=manager, scope="award", key="abc-123", request_fingerprint=fingerprint({}), operation=op)
        # Outside run_idempotent the key is gone again.
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=10, message="Unkeyed")

    lines = money_lines()
    assert [(line["operation"], line["idempotency_key"]) for line in lines] == [("award", "abc-123"), ("award", None)]


def test_the_line_carries_no_secret_and_no_free_text(
    funded_tenant, manager, employee, password, money_lines, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=10, message="my password is hunter2")
    text = caplog.text
    assert money_lines()
    for secret in (password, "hunter2", manager.email, employee.email, manager.password):
        assert secret not in text


def test_below_info_nothing_is_built_or_deferred(
    tenant, manager, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    """With the money logger off (LOG_LEVEL=WARNING) a movement spends nothing on its line: no JSON,
    no on-commit callback. On again, the line is back."""
    from points import audit

    def movement():
        audit.log_movement("award", tenant_id=tenant.pk, actor_id=manager.pk, amount=5, wallet_after=5)

    caplog.set_level(logging.WARNING, logger="perksu.money")
    with monkeypatch.context() as patched, django_capture_on_commit_callbacks() as callbacks:
        patched.setattr(audit.json, "dumps", lambda *a, **k: pytest.fail("a dropped line was built"))
        movement()
    assert callbacks == []

    caplog.set_level(logging.INFO, logger="perksu.money")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        movement()
    assert len(callbacks) == 1
    [record] = [r for r in caplog.records if r.name == "perksu.money"]
    assert json.loads(record.getMessage())["amount"] == 5
