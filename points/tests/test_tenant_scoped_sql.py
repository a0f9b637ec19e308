"""Every lock and every write between tenant-owned rows names the tenant (SPEC §14, docs/SCALING.md).

Distributed by tenant (Citus), a statement that locks, updates or deletes rows by their id alone, or an
INSERT … SELECT that reads them so, goes to every shard: slower, and it deadlocked across shards. Here
the SQL of the money paths is captured on PostgreSQL, and every `FOR UPDATE`, every UPDATE and DELETE
and every INSERT … SELECT on a tenant-owned table must filter each such table it names by `tenant_id`
(the `tenants` row by its own `id`, the tenant's distribution column). The award function's body is
held to the same rule, statement by statement, and so are reconcile's joins.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from people.leavers import wallet_forfeit
from people.services import member_set_active
from perksu import citus
from points.reconcile import reconcile
from points.services import lead_delegate, lead_recall, tenant_allocate, tenant_clawback
from recognition import allowances
from recognition import services as recognition_services
from recognition.services import recognition_award_from_company, recognition_create, recognition_distribute
from tenants.models import Role, Tenant
from tenants.services import user_change_role
from tenants.tests.factories import LeadFactory, UserFactory
from wallets.services import redemption_create, redemption_refund, reward_create

pytestmark = pytest.mark.postgres

# The reference tables (a copy on every node, perksu/citus.py) name a tenant in a plain column but are
# not distributed by it: a statement on them goes to no shard.
TENANT_OWNED = frozenset(
    model._meta.db_table
    for model in apps.get_models()
    if any(field.attname == "tenant_id" for field in model._meta.concrete_fields)
    and model._meta.db_table not in citus.REFERENCE_TABLES
)
TENANTS = Tenant._meta.db_table
_TABLE = re.compile(
    r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?(?:\s+(?:AS\s+)?(?!ON\b|WHERE\b|SET\b|JOIN\b|LEFT\b|INNER\b|USING\b'
    r"|GROUP\b|ORDER\b|FOR\b|LIMIT\b|VALUES\b|SELECT\b|RETURNING\b)([a-z]\w*))?",
    re.IGNORECASE,
)


def _scoped(sql: str, table: str, alias: str | None, alone: bool) -> bool:
    """Whether `sql` filters `table` (named `alias`) by the tenant: its tenant_id (the tenants row: its id)."""
    column = "id" if table == TENANTS else "tenant_id"
    names = [f'"{table}"."{column}"', f"{table}.{column}"]
    if alias:
        names += [f"{alias}.{column}", f'{alias}."{column}"']
    if any(name in sql for name in names):
        return True
    # A statement on one table may name the column bare: `… WHERE tenant_id = %s` / `WHERE id = %s`.
    return alone and re.search(rf"\b(?:WHERE|AND)\s+{column}\s*=", sql, re.IGNORECASE) is not None


def offences(sql: str) -> list[str]:
    """The tenant-owned tables a locking or writing statement touches without naming the tenant."""
    head = sql.lstrip().upper()
    writes = head.startswith(("UPDATE", "DELETE")) or (head.startswith("INSERT") and " SELECT " in head)
    if not (writes or "FOR UPDATE" in head or "FOR NO KEY UPDATE" in head):
        return []
    body = sql
    if head.startswith("INSERT"):
        # The target's tenant_id is a value written, not a filter: judge the SELECT that feeds it.
        body = sql[sql.upper().index(" SELECT ") :]
    tables = [(m.group(1).lower(), m.group(2)) for m in _TABLE.finditer(body)]
    tables = [(t, a) for t, a in tables if t in TENANT_OWNED or t == TENANTS]
    alone = len({t for t, _ in tables}) == 1
    return [t for t, a in tables if not _scoped(body, t, a, alone)]


def _captured(run) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        run()
    return [q["sql"] for q in ctx.captured_queries]


def test_the_checker_catches_a_statement_by_id_alone():
    """The rule itself, on statements written to break it (and ones that keep it)."""
    assert offences('UPDATE "wallets" SET "balance" = 1 WHERE "wallets"."id" = 5') == ["wallets"]
    assert offences('SELECT "lead_budgets"."id" FROM "lead_budgets" WHERE "lead_budgets"."lead_id" = 1 FOR UPDATE')
    assert offences("INSERT INTO t (a) SELECT r.id FROM recognitions r JOIN wallets w ON w.user_id = r.receiver_id "
                    "WHERE r.tenant_id = 1") == ["wallets"]  # fmt: skip
    assert offences("UPDATE lead_budgets SET balance = balance - 1 WHERE lead_id = 2") == ["lead_budgets"]
    assert offences('UPDATE "wallets" SET "balance" = 1 WHERE ("wallets"."tenant_id" = 1 AND "wallets"."id" = 5)') == []
    assert offences("UPDATE tenants SET points_allocation_balance = 0 WHERE id = 1") == []
    assert offences("UPDATE lead_budgets SET balance = 0 WHERE tenant_id = 1 AND lead_id = 2") == []
    assert offences('SELECT "wallets"."id" FROM "wallets" WHERE "wallets"."id" = 1') == []  # a plain read


@pytest.fixture
def scene(funded_lead, funded_tenant, manager, employee, other_employee, platform_admin):
    Tenant.objects.filter(pk=funded_tenant.pk).update(allowance_employee=100)
    funded_tenant.refresh_from_db()
    return funded_tenant


def _money_paths(tenant, manager, lead, employee, other, admin):
    """Each hot money path once, in an order in which every one succeeds."""
    reward = reward_create(actor=manager, name="Mug", points_cost=5, stock=10)
    yield "allocate", lambda: tenant_allocate(actor=admin, tenant_id=tenant.pk, amount=100, reference_note="Inv")
    yield "delegate", lambda: lead_delegate(actor=manager, lead_id=lead.pk, amount=100)
    yield "recall", lambda: lead_recall(actor=manager, lead_id=lead.pk, amount=50)
    yield "award pool", lambda: recognition_create(giver=manager, recipient_ids=[employee.pk], points=40, message="M")
    yield "award lead", lambda: recognition_create(giver=lead, recipient_ids=[employee.pk, other.pk], points=3,
                                                   message="M")  # fmt: skip
    yield "allowance gift", lambda: recognition_create(giver=employee, recipient_ids=[other.pk], points=4, message="M")
    yield "allowance boost", lambda: allowances.allowance_boost(actor=manager, user_id=employee.pk, amount=5,
                                                                reason="Good")  # fmt: skip
    yield "distribute", lambda: recognition_distribute(giver=manager, amount_per_user=2, message="All")
    yield (
        "automated award",
        lambda: recognition_award_from_company(
            tenant_id=tenant.pk, recipient_id=employee.pk, points=6, message="Birthday"
        ),
    )
    holder = {}
    yield "redeem", lambda: holder.update(r=redemption_create(user=employee, reward_id=reward.pk))
    yield "refund", lambda: redemption_refund(actor=manager, redemption_id=holder["r"].redemption.pk)
    yield "clawback", lambda: tenant_clawback(actor=admin, tenant_id=tenant.pk, amount=10, reason="Over")


@pytest.mark.parametrize("general_path", [False, True], ids=["one-round-trip award", "general award path"])
def test_every_lock_and_write_of_the_money_paths_names_the_tenant(
    scene, manager, funded_lead, employee, other_employee, platform_admin, monkeypatch, general_path
):
    if general_path:
        monkeypatch.setattr(recognition_services, "_award_in_one_statement", lambda **kwargs: None)
    found = {}
    checked = 0
    for name, run in _money_paths(scene, manager, funded_lead, employee, other_employee, platform_admin):
        for sql in _captured(run):
            head = sql.lstrip().upper()
            checked += "FOR UPDATE" in head or head.startswith(("UPDATE", "DELETE"))
            if bad := offences(sql):
                found.setdefault(name, []).append((bad, sql[:300]))
    assert found == {}
    assert checked >= 20  # the paths did lock and write


def test_the_role_change_and_the_leavers_forfeit_name_the_tenant(scene, manager, employee, award):
    lead = LeadFactory(tenant=scene, password=None)
    Tenant.objects.filter(pk=scene.pk).update(leaver_policy=Tenant.LeaverPolicy.FORFEIT, leaver_forfeit_days=0)
    leaver = UserFactory(tenant=scene, password=None)
    award(manager, leaver, 9)
    sqls = _captured(lambda: user_change_role(user=lead, role=Role.EMPLOYEE, actor=manager))
    sqls += _captured(lambda: member_set_active(user=leaver, is_active=False, actor=manager))
    leaver.refresh_from_db()
    sqls += _captured(lambda: wallet_forfeit(user=leaver, actor=manager))
    assert [(offences(s), s[:200]) for s in sqls if offences(s)] == []
    assert any("FOR UPDATE" in s for s in sqls)


def test_reconcile_joins_name_the_tenant(scene, manager, employee, award):
    """Each join of reconcile's queries between tenant-owned tables carries the tenant."""
    award(manager, employee, 5)
    sqls = _captured(reconcile)
    joins = [s for s in sqls if " JOIN " in s.upper()]
    assert joins
    for sql in joins:
        for on in re.findall(r"\bON\s+(.+?)(?=\bLEFT\b|\bJOIN\b|\bWHERE\b|\bGROUP\b|\)|$)", sql, re.IGNORECASE):
            assert "tenant_id" in on, (on, sql[:400])


def _function_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'perksu_award'")
        (source,) = cursor.fetchone()
    return [s.strip() for s in source.split(";") if re.search(r"\b(FROM|UPDATE|INTO)\b", s, re.IGNORECASE)]


def test_every_statement_of_the_award_function_names_the_tenant(db):
    """Not only its locks and writes: every statement that reads a tenant-owned table filters it by the
    tenant, so each is a single-shard statement on Citus."""
    statements = _function_statements()
    assert len(statements) >= 8
    bad = []
    for statement in statements:
        if re.search(r"INSERT\s+INTO\s+\w+\s*\([^)]*\)\s*VALUES", statement, re.IGNORECASE):
            assert "SELECT" not in statement.upper() and "tenant" in statement  # one row, the tenant's id written
            continue
        tables = [(m.group(1).lower(), m.group(2)) for m in _TABLE.finditer(statement)]
        tables = [(t, a) for t, a in tables if t in TENANT_OWNED or t == TENANTS]
        bad += [(t, statement[:200]) for t, a in tables if not _scoped(statement, t, a, False)]
    assert bad == []


def test_a_lock_by_id_alone_is_caught(scene, manager, employee, monkeypatch):
    """Break one path (the wallet credit of the general award path updates by id alone) and the test's
    check finds it."""
    from django.db.models import QuerySet

    monkeypatch.setattr(recognition_services, "_award_in_one_statement", lambda **kwargs: None)
    original = QuerySet.filter

    def without_tenant(self, *args, **kwargs):
        if self.model._meta.db_table == "wallets" and "pk__in" in kwargs:
            kwargs.pop("tenant_id", None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "filter", without_tenant)
    sqls = _captured(lambda: recognition_create(giver=manager, recipient_ids=[employee.pk], points=1, message="M"))
    assert any(offences(s) == ["wallets"] for s in sqls)


def _a_pending_delivery(owner, now) -> None:
    """An endpoint of `owner` that hears every event, and one delivery of an event to it."""
    from webhooks import payloads
    from webhooks.models import WebhookEndpoint
    from webhooks.services import deliveries_for_event

    WebhookEndpoint.objects.create(
        tenant=owner, url="https://hooks.example.com/in", events=["*"], secret="s", created_at=now
    )
    message = payloads.EventMessage(
        id=uuid.uuid4(), type="recognition.created", tenant_id=owner.pk, occurred_at=now,
        data={"points": 1}, tenant_name=owner.name,
    )  # fmt: skip
    assert deliveries_for_event(message, now=now) == 1


def test_the_event_dispatcher_and_the_webhook_claim_lock_and_mark_each_tenants_rows_by_tenant(tenant, other_tenant):
    """The two workers' claims take rows of every tenant: each lock and each write names one tenant."""
    from django.utils import timezone

    from events import event_types
    from events.dispatch import dispatch_pending
    from events.services import record_event
    from webhooks import delivery

    now = timezone.now()
    for owner in (tenant, other_tenant):
        record_event(tenant_id=owner.pk, name=event_types.REDEMPTION_REFUNDED, payload={"x": 1})
        _a_pending_delivery(owner, now)
    sqls = _captured(lambda: dispatch_pending())
    claimed = []
    sqls += _captured(lambda: claimed.extend(delivery.claim(limit=10, now=now)))
    assert [(offences(s), s[:200]) for s in sqls if offences(s)] == []
    locks = [s for s in sqls if "FOR UPDATE" in s]
    assert len(locks) == 4  # each tenant's events, then its deliveries
    assert all('"tenant_id" = ' in s.split(" WHERE ", 1)[1] for s in locks), locks
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 0
    assert sorted(j.tenant_id for j in claimed) == sorted([tenant.pk, other_tenant.pk])


def test_saving_a_stored_endpoint_or_rule_updates_it_by_tenant(tenant, manager):
    """Django's save() updates a stored row by its id alone; these name the tenant (tenants.fields.TenantRow)."""
    from automation.models import AwardRule
    from automation.services import rule_update
    from webhooks.models import WebhookEndpoint
    from webhooks.services import endpoint_update

    endpoint = WebhookEndpoint.objects.create(tenant=tenant, url="https://hooks.example.com/in", secret="s")
    rule_update(actor=manager, kind=AwardRule.Kind.BIRTHDAY, points=5)
    sqls = _captured(lambda: endpoint_update(actor=manager, endpoint_id=endpoint.pk, description="Payroll"))
    sqls += _captured(lambda: rule_update(actor=manager, kind=AwardRule.Kind.BIRTHDAY, points=7))
    updates = [s for s in sqls if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 2, sqls
    assert [(offences(s), s[:200]) for s in updates if offences(s)] == []
    endpoint.refresh_from_db()
    assert endpoint.description == "Payroll"


def test_a_platform_admins_redelivery_locks_the_delivery_by_its_tenant(tenant, platform_admin):
    from django.utils import timezone

    from webhooks.models import WebhookDelivery
    from webhooks.services import delivery_redeliver

    _a_pending_delivery(tenant, timezone.now())
    delivery = WebhookDelivery.objects.get()
    sqls = _captured(lambda: delivery_redeliver(actor=platform_admin, delivery_id=delivery.pk))
    locks = [s for s in sqls if "FOR UPDATE" in s.upper()]
    assert len(locks) == 1, sqls
    # Its column list names tenant_id whatever the filter: the WHERE clause must.
    assert '"webhook_deliveries"."tenant_id" = ' in locks[0].split(" WHERE ", 1)[1], locks[0]
    delivery.refresh_from_db()
    assert delivery.redeliver_requested


def test_recording_a_batch_of_webhook_attempts_updates_each_tenants_rows_by_tenant(tenant, other_tenant, settings):
    """One batch holds deliveries of several tenants: the deliveries' new state, the endpoints' failure counts
    and an endpoint's disabling are each written by (tenant_id, id)."""
    from django.utils import timezone

    from webhooks import delivery
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    settings.WEBHOOK_DISABLE_AFTER = 1
    now = timezone.now()
    for owner in (tenant, other_tenant):
        _a_pending_delivery(owner, now)
    jobs = delivery.claim(limit=10, now=now)
    outcomes = [
        delivery.Outcome(job=j, started_at=now, succeeded=j.tenant_id == tenant.pk, status_code=500 if
                         j.tenant_id != tenant.pk else 200, latency_ms=3, error="", excerpt="")
        for j in jobs
    ]  # fmt: skip
    sqls = _captured(lambda: delivery.record(outcomes, now=now))
    writes = [s for s in sqls if s.lstrip().upper().startswith("UPDATE")]
    # Per tenant: its deliveries, its endpoint's failure count, and its disabling (a no-op for the one that succeeded).
    assert len(writes) == 6, "\n".join(w[:70] for w in writes)
    assert [(offences(s), s[:200]) for s in writes if offences(s)] == []
    assert all('"tenant_id" = ' in s.split(" WHERE ", 1)[1] for s in writes), writes
    assert WebhookDelivery.objects.get(tenant=tenant).status == WebhookDelivery.Status.SUCCEEDED
    assert WebhookEndpoint.objects.get(tenant=other_tenant).is_active is False
    assert WebhookEndpoint.objects.get(tenant=tenant).is_active is True
