"""Voucher codes are unique across tenants through `voucher_codes`, not a unique index on
`redemptions` (docs/SCALING.md): a redemption claims its code in its own transaction."""

from __future__ import annotations

import importlib
import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command

import wallets.services
from perksu.testing import run_together
from points.services import tenant_allocate
from recognition.services import recognition_create
from tenants.tests.factories import ManagerFactory, PlatformAdminFactory, TenantFactory, UserFactory
from wallets.models import Redemption, VoucherCode, Wallet
from wallets.services import redemption_create, reward_create


def code_rows() -> set[tuple[str, str, str]]:
    return {(c, str(t), str(r)) for c, t, r in VoucherCode.objects.values_list("code", "tenant_id", "redemption_id")}


@pytest.fixture
def mug(funded_tenant, manager, employee, award):
    award(manager, employee, 1_000)
    return reward_create(actor=manager, name="Mug", points_cost=100, stock=10)


def draws(monkeypatch, *codes: str) -> None:
    """The next voucher codes drawn are `codes`, in order."""
    pending = list(codes)
    monkeypatch.setattr(wallets.services, "voucher_code", lambda: pending.pop(0))


def test_a_redemption_holds_its_code(mug, employee):
    redemption = redemption_create(user=employee, reward_id=mug.pk).redemption
    assert code_rows() == {(redemption.voucher_code, str(employee.tenant_id), str(redemption.pk))}
    assert Redemption.objects.get().voucher_code == redemption.voucher_code


def test_a_code_already_held_is_drawn_again(mug, employee, monkeypatch):
    first = redemption_create(user=employee, reward_id=mug.pk).redemption
    draws(monkeypatch, first.voucher_code, "PRK-22222-22222-22222-22222")
    second = redemption_create(user=employee, reward_id=mug.pk).redemption
    assert second.voucher_code == "PRK-22222-22222-22222-22222"
    assert code_rows() == {
        (first.voucher_code, str(employee.tenant_id), str(first.pk)),
        (second.voucher_code, str(employee.tenant_id), str(second.pk)),
    }


def test_no_free_code_redeems_nothing(mug, employee, monkeypatch):
    first = redemption_create(user=employee, reward_id=mug.pk).redemption
    draws(monkeypatch, *[first.voucher_code] * wallets.services.VOUCHER_CODE_DRAWS)
    before = (code_rows(), Wallet.objects.get(user=employee).balance, Redemption.objects.count())
    with pytest.raises(RuntimeError, match="No free voucher code"):
        redemption_create(user=employee, reward_id=mug.pk)
    assert (code_rows(), Wallet.objects.get(user=employee).balance, Redemption.objects.count()) == before
    mug.refresh_from_db()
    assert mug.stock == 9


def test_the_migration_gives_every_redemption_its_code(mug, employee):
    from django.apps import apps

    made = [redemption_create(user=employee, reward_id=mug.pk).redemption for _ in range(3)]
    VoucherCode.objects.all().delete()
    importlib.import_module("wallets.migrations.0006_voucher_codes").code_rows(apps, None)
    assert code_rows() == {(r.voucher_code, str(employee.tenant_id), str(r.pk)) for r in made}


def test_reconcile_reports_a_code_not_held_for_its_redemption(mug, employee, tenant):
    first, second = (redemption_create(user=employee, reward_id=mug.pk).redemption for _ in range(2))
    VoucherCode.objects.filter(redemption_id=first.pk).delete()
    VoucherCode.objects.filter(redemption_id=second.pk).update(redemption_id=first.pk)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("reconcile", "--tenant", tenant.slug, "--json", stdout=out)
    [report] = json.loads(out.getvalue())
    assert report["drifts"] == ["2 redemption(s) whose voucher code is not held for them in voucher_codes"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_code_exactly_one_holds_it(monkeypatch):
    """Two redemptions (two members, two rewards: no lock in common) draw the same code at once: the
    second waits on the first's row, finds it held and draws again; both redeem, with distinct codes."""
    tenant = TenantFactory()
    tenant_allocate(actor=PlatformAdminFactory(), tenant_id=tenant.pk, amount=10_000, reference_note="Invoice")
    manager = ManagerFactory(tenant=tenant)
    members = [UserFactory(tenant=tenant) for _ in range(2)]
    recognition_create(giver=manager, recipient_ids=[m.pk for m in members], points=1_000, message="Welcome")
    rewards = [reward_create(actor=manager, name=f"Reward {i}", points_cost=100) for i in range(2)]
    drawn = threading.local()
    fresh = iter(["PRK-33333-33333-33333-33333", "PRK-44444-44444-44444-44444"])
    lock = threading.Lock()

    def draw() -> str:
        if not getattr(drawn, "once", False):
            drawn.once = True
            return "PRK-SAME0-SAME0-SAME0-SAME0"
        with lock:
            return next(fresh)

    monkeypatch.setattr(wallets.services, "voucher_code", draw)
    results = run_together(2, lambda i: redemption_create(user=members[i], reward_id=rewards[i].pk).redemption)
    assert all(isinstance(r, Redemption) for r in results), results
    codes = sorted(r.voucher_code for r in results)
    assert codes[1] == "PRK-SAME0-SAME0-SAME0-SAME0" and codes[0] in {
        "PRK-33333-33333-33333-33333",
        "PRK-44444-44444-44444-44444",
    }
    assert code_rows() == {(r.voucher_code, str(tenant.pk), str(r.pk)) for r in results}
