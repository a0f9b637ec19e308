"""Random sequences of every operation against a simple in-memory model of the books.

After every step each balance (pool, lead budgets, wallets, stock) must equal
the model's, and `reconcile()` must report no drift (SPEC §5). Refused steps
(insufficient funds, out of stock, bad amounts, …) must be refused exactly when
the model says so, and must change nothing.

Each example runs inside a savepoint that is rolled back afterwards, so
examples do not see each other's rows.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from unittest import mock

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from perksu.errors import DomainError
from points.models import LeadBudget
from points.reconcile import reconcile
from points.services import lead_delegate, lead_recall, tenant_allocate, tenant_clawback
from recognition import allowances
from recognition import services as recognition_services
from recognition.models import AllowanceUsage
from recognition.services import recognition_create, recognition_distribute
from tenants.models import Role, Tenant
from tenants.services import tenant_create, user_create, user_set_active
from wallets.models import Reward, Wallet
from wallets.services import redemption_create, redemption_refund, reward_create

amounts = st.integers(min_value=1, max_value=3_000)
ALLOWANCE = 300
"""Each employee's allowance per month in the model tenant."""
bad_amounts = st.sampled_from([0, -1, 1.5, True, "10", 10**9 + 1])
indexes = st.integers(min_value=0, max_value=100)

EXAMPLES = {"runs": 0, "steps": 0, "refusals": 0}
REFUSALS: Counter = Counter()
"""Counted by the machine itself: hypothesis prints no statistics for `run_state_machine_as_test`."""


class Books(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        EXAMPLES["runs"] += 1
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.tenant = tenant_create(name="Model Co", slug="model-co")
        self.admin = user_create(email="admin@model.test", full_name="Admin", role=Role.PLATFORM_ADMIN, password=None)
        self.admin.is_superuser = True
        self.manager = user_create(
            email="m@model.test", full_name="Manager", role=Role.TENANT_MANAGER, password=None, tenant=self.tenant
        )
        self.leads = [
            user_create(
                email=f"l{i}@model.test",
                full_name=f"Lead {i}",
                role=Role.TENANT_LEAD,
                password=None,
                tenant=self.tenant,
            )
            for i in range(2)
        ]
        self.employees = [
            user_create(
                email=f"e{i}@model.test", full_name=f"Emp {i}", role=Role.EMPLOYEE, password=None, tenant=self.tenant
            )
            for i in range(3)
        ]
        self.members = [self.manager, *self.leads, *self.employees]
        self.rewards = [
            reward_create(actor=self.manager, name="Mug", points_cost=150, stock=2),
            reward_create(actor=self.manager, name="Lunch", points_cost=400, stock=None),
        ]
        # Start with money in the pool and the budgets, so most steps move points.
        tenant_allocate(actor=self.admin, tenant_id=self.tenant.pk, amount=20_000)
        for lead in self.leads:
            lead_delegate(actor=self.manager, lead_id=lead.pk, amount=2_000)
        # The model.
        self.pool = 16_000
        self.budgets = {lead.pk: 2_000 for lead in self.leads}
        self.wallets = {member.pk: 0 for member in self.members}
        self.stock = {self.rewards[0].pk: 2, self.rewards[1].pk: None}
        self.cost = {r.pk: r.points_cost for r in self.rewards}
        self.redemptions: list[list] = []  # [id, user_id, reward_id, cost, refunded]
        self.inactive: set = set()
        # Allowances (SPEC §10): employees may give 300 a month from the pool. The clock the
        # recognition services read is the model's, so a rule can move to the next period.
        Tenant.objects.filter(pk=self.tenant.pk).update(allowance_employee=ALLOWANCE)
        self.now = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
        # Both services read django.utils.timezone.now: one patch of that module, undone exactly once.
        assert recognition_services.timezone is allowances.timezone
        self._clock = mock.patch.object(allowances.timezone, "now", lambda: self.now)
        self._clock.start()
        self.usage: dict[tuple, list[int]] = {}  # (user id, period start) → [limit, given]

    def teardown(self):
        self._clock.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _period(self) -> dt.date:
        return self.now.date().replace(day=1)

    def _usage(self, user) -> list[int]:
        return self.usage.get((user.pk, self._period()), [ALLOWANCE, 0])

    # --- helpers ------------------------------------------------------------

    def _expect(self, refused_code: str | None, operation):
        """Run `operation`; it must be refused with `refused_code` (and change nothing) or succeed."""
        EXAMPLES["steps"] += 1
        if refused_code is None:
            return operation()
        EXAMPLES["refusals"] += 1
        before = self._snapshot()
        try:
            operation()
        except DomainError as exc:
            assert exc.code == refused_code, (exc.code, refused_code, exc.message)
            REFUSALS[exc.code] += 1
        else:
            raise AssertionError(f"expected a refusal {refused_code!r}")
        assert self._snapshot() == before
        return None

    def _snapshot(self):
        return (
            Tenant.objects.values_list("points_allocation_balance", flat=True).get(pk=self.tenant.pk),
            sorted(LeadBudget.objects.filter(tenant=self.tenant).values_list("lead_id", "balance")),
            sorted(Wallet.objects.filter(tenant=self.tenant).values_list("user_id", "balance", "last_entry_no")),
        )

    def _pick(self, seq, i):
        return seq[i % len(seq)]

    def _recipients(self, giver, picks):
        chosen = []
        for i in picks:
            member = self._pick(self.members, i)
            if member.pk not in [c.pk for c in chosen]:
                chosen.append(member)
        return chosen

    def _award_refusal(self, giver, recipients, total, available):
        """The refusal the service gives, in its order: who, then funds, then each recipient."""
        if any(r.pk == giver.pk for r in recipients):
            return "self_recognition"
        if any(r.pk in self.inactive for r in recipients):  # recipients are checked before funds
            return "inactive_user"
        if available < total:
            return "insufficient_balance"
        return None

    # --- rules --------------------------------------------------------------

    @rule(amount=amounts)
    def allocate(self, amount):
        result = tenant_allocate(actor=self.admin, tenant_id=self.tenant.pk, amount=amount)
        self.pool += amount
        assert result.balance_after == self.pool

    @rule(amount=st.one_of(st.none(), amounts))
    def clawback(self, amount):
        wanted = self.pool if amount is None else amount
        refused = "insufficient_balance" if wanted == 0 or wanted > self.pool else None
        result = self._expect(
            refused, lambda: tenant_clawback(actor=self.admin, tenant_id=self.tenant.pk, amount=amount, reason="r")
        )
        if result:
            self.pool -= wanted
            assert (result.amount, result.balance_after) == (wanted, self.pool)

    @rule(i=indexes, amount=amounts)
    def delegate(self, i, amount):
        lead = self._pick(self.leads, i)
        refused = "insufficient_balance" if amount > self.pool else None
        result = self._expect(refused, lambda: lead_delegate(actor=self.manager, lead_id=lead.pk, amount=amount))
        if result:
            self.pool -= amount
            self.budgets[lead.pk] += amount
            assert (result.pool_balance_after, result.lead_balance_after) == (self.pool, self.budgets[lead.pk])

    @rule(i=indexes, amount=st.one_of(st.none(), amounts))
    def recall(self, i, amount):
        lead = self._pick(self.leads, i)
        budget = self.budgets[lead.pk]
        wanted = budget if amount is None else amount
        refused = "insufficient_balance" if wanted == 0 or wanted > budget else None
        result = self._expect(refused, lambda: lead_recall(actor=self.manager, lead_id=lead.pk, amount=amount))
        if result:
            self.budgets[lead.pk] -= wanted
            self.pool += wanted
            assert (result.pool_balance_after, result.lead_balance_after) == (self.pool, self.budgets[lead.pk])

    def _award(self, giver, picks, points, available, pay):
        recipients = self._recipients(giver, picks)
        total = points * len(recipients)
        refused = self._award_refusal(giver, recipients, total, available)
        result = self._expect(
            refused,
            lambda: recognition_create(
                giver=giver, recipient_ids=[r.pk for r in recipients], points=points, message="m"
            ),
        )
        if result:
            pay(total)
            for r in recipients:
                self.wallets[r.pk] += points
            assert result.wallet_balances_after == {r.pk: self.wallets[r.pk] for r in recipients}

    @rule(picks=st.lists(indexes, min_size=1, max_size=3), points=st.integers(1, 800))
    def award_from_pool(self, picks, points):
        def pay(total):
            self.pool -= total

        self._award(self.manager, picks, points, self.pool, pay)

    @rule(i=indexes, picks=st.lists(indexes, min_size=1, max_size=3), points=st.integers(1, 800))
    def award_from_lead_budget(self, i, picks, points):
        lead = self._pick(self.leads, i)
        if lead.pk in self.inactive:
            return

        def pay(total):
            self.budgets[lead.pk] -= total

        self._award(lead, picks, points, self.budgets[lead.pk], pay)

    @rule(i=indexes, picks=st.lists(indexes, min_size=1, max_size=3), points=st.integers(1, 200))
    def allowance_gift(self, i, picks, points):
        """An employee gives from their allowance: refused over what is left, else the pool pays."""
        giver = self._pick(self.employees, i)
        if giver.pk in self.inactive:
            return
        recipients = self._recipients(giver, picks)
        total = points * len(recipients)
        limit, given = self._usage(giver)
        refused = self._award_refusal(giver, recipients, 0, 0)
        if refused is None and total > limit - given:
            refused = "allowance_exceeded"
        if refused is None and total > self.pool:
            refused = "insufficient_balance"
        result = self._expect(
            refused,
            lambda: recognition_create(
                giver=giver, recipient_ids=[r.pk for r in recipients], points=points, message="gift"
            ),
        )
        if result:
            self.pool -= total
            self.usage[(giver.pk, self._period())] = [limit, given + total]
            for r in recipients:
                self.wallets[r.pk] += points
            assert (result.funding_source, result.allowance_given) == ("ALLOWANCE", given + total)
            assert result.pool_balance_after == self.pool

    @rule(i=indexes, amount=st.integers(1, 300))
    def boost(self, i, amount):
        employee = self._pick(self.employees, i)
        refused = "inactive_user" if employee.pk in self.inactive else None
        result = self._expect(
            refused,
            lambda: allowances.allowance_boost(actor=self.manager, user_id=employee.pk, amount=amount, reason="b"),
        )
        if result:
            limit, given = self._usage(employee)
            self.usage[(employee.pk, self._period())] = [limit + amount, given]
            assert result.limit_after == limit + amount

    @rule(days=st.integers(1, 40))
    def time_passes(self, days):
        """The clock moves on, sometimes into the next period: what was not given lapses."""
        self.now += dt.timedelta(days=days)

    @rule(i=indexes, j=indexes)
    def kudos(self, i, j):
        giver = self._pick(self.members, i)
        receiver = self._pick(self.members, j)
        if giver.pk in self.inactive:
            return
        refused = self._award_refusal(giver, [receiver], 0, 0)
        self._expect(
            refused, lambda: recognition_create(giver=giver, recipient_ids=[receiver.pk], points=0, message="k")
        )

    @rule(amount=st.integers(1, 400), roles=st.sampled_from([None, ["employee"], ["tenant_lead", "tenant_manager"]]))
    def distribute(self, amount, roles):
        wanted = roles or ["tenant_manager", "tenant_lead", "employee"]
        recipients = [
            m for m in self.members if m.role in wanted and m.pk != self.manager.pk and m.pk not in self.inactive
        ]
        total = amount * len(recipients)
        refused = "no_recipients" if not recipients else ("insufficient_balance" if total > self.pool else None)
        result = self._expect(
            refused,
            lambda: recognition_distribute(giver=self.manager, amount_per_user=amount, message="d", roles=roles),
        )
        if result:
            self.pool -= total
            for r in recipients:
                self.wallets[r.pk] += amount
            assert (result.recipients, result.pool_balance_after) == (len(recipients), self.pool)

    @rule(i=indexes, k=indexes)
    def redeem(self, i, k):
        user = self._pick(self.members, i)
        if user.pk in self.inactive:
            return
        reward = self._pick(self.rewards, k)
        cost, stock = self.cost[reward.pk], self.stock[reward.pk]
        refused = "out_of_stock" if stock == 0 else ("insufficient_balance" if self.wallets[user.pk] < cost else None)
        result = self._expect(refused, lambda: redemption_create(user=user, reward_id=reward.pk))
        if result:
            self.wallets[user.pk] -= cost
            if stock is not None:
                self.stock[reward.pk] -= 1
            self.redemptions.append([result.redemption.pk, user.pk, reward.pk, cost, False])
            assert result.wallet_balance_after == self.wallets[user.pk]

    @precondition(lambda self: self.redemptions)
    @rule(i=indexes)
    def refund(self, i):
        entry = self._pick(self.redemptions, i)
        redemption_id, user_id, reward_id, cost, refunded = entry
        refused = "already_refunded" if refunded else None
        result = self._expect(refused, lambda: redemption_refund(actor=self.manager, redemption_id=redemption_id))
        if result:
            entry[4] = True
            self.wallets[user_id] += cost
            if self.stock[reward_id] is not None:
                self.stock[reward_id] += 1
            assert result.wallet_balance_after == self.wallets[user_id]

    @rule(i=indexes)
    def toggle_employee_active(self, i):
        employee = self._pick(self.employees, i)
        active = employee.pk in self.inactive
        user_set_active(user=employee, is_active=active)
        (self.inactive.discard if active else self.inactive.add)(employee.pk)

    @rule(
        amount=bad_amounts, which=st.sampled_from(["allocate", "clawback", "delegate", "recall", "award", "distribute"])
    )
    def invalid_amount(self, amount, which):
        lead = self.leads[0]
        operation = {
            "allocate": lambda: tenant_allocate(actor=self.admin, tenant_id=self.tenant.pk, amount=amount),
            "clawback": lambda: tenant_clawback(actor=self.admin, tenant_id=self.tenant.pk, amount=amount, reason="r"),
            "delegate": lambda: lead_delegate(actor=self.manager, lead_id=lead.pk, amount=amount),
            "recall": lambda: lead_recall(actor=self.manager, lead_id=lead.pk, amount=amount),
            "award": lambda: recognition_create(
                giver=self.manager, recipient_ids=[self.employees[0].pk], points=amount, message="m"
            ),
            "distribute": lambda: recognition_distribute(giver=self.manager, amount_per_user=amount, message="m"),
        }[which]
        if which == "award" and amount == 0:  # zero points is kudos, not a bad amount
            return
        self._expect("invalid_amount", operation)

    @rule(i=indexes, amount=amounts)
    def invalid_role(self, i, amount):
        """A lead or an employee trying a manager's or an admin's operation."""
        actor = self._pick([*self.leads, *self.employees], i)
        self._expect("permission_denied", lambda: lead_delegate(actor=actor, lead_id=self.leads[0].pk, amount=amount))
        self._expect("permission_denied", lambda: tenant_allocate(actor=actor, tenant_id=self.tenant.pk, amount=amount))

    # --- invariants ---------------------------------------------------------

    @invariant()
    def balances_match_the_model(self):
        pool, budgets, wallets = self._snapshot()
        assert pool == self.pool
        assert dict(budgets) == self.budgets
        assert {user_id: balance for user_id, balance, _ in wallets} == self.wallets
        assert dict(Reward.objects.filter(tenant=self.tenant).values_list("pk", "stock")) == self.stock

    @invariant()
    def allowance_usage_matches_the_model(self):
        rows = AllowanceUsage.objects.filter(tenant_id=self.tenant.pk).values_list(
            "user_id", "period_start", "limit", "given"
        )
        assert {(u, p): [limit, given] for u, p, limit, given in rows} == self.usage

    @invariant()
    def books_reconcile(self):
        [report] = reconcile(tenant_slug="model-co")
        assert report.ok, report.line()
        assert report.figures["pool"] == self.pool


# 60 examples of 25 steps take ~30 s on SQLite; PostgreSQL's round trips make each step
# slower, so its run (which CI adds to the concurrency tests) takes 30. Override with
# HYPOTHESIS_STATE_MACHINE_EXAMPLES for a longer soak.
EXAMPLES_PER_RUN = int(
    os.environ.get("HYPOTHESIS_STATE_MACHINE_EXAMPLES", 30 if connection.vendor == "postgresql" else 60)
)


@pytest.mark.slow
def test_random_sequences_keep_the_books(db):
    EXAMPLES.update(runs=0, steps=0, refusals=0)
    REFUSALS.clear()
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=EXAMPLES_PER_RUN,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    print(
        "\nstate machine: {runs} examples, {steps} service calls, {refusals} refusals".format(**EXAMPLES),
        dict(REFUSALS),
    )
    assert EXAMPLES["runs"] >= EXAMPLES_PER_RUN
