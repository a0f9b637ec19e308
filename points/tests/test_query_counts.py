"""SQL statements per money movement, pinned (SPEC §5: no cost grows with members or ledger length).

The figures count every statement the service sends, including the SAVEPOINT
and RELEASE that its `transaction.atomic()` issues inside the test's own
transaction (in production the service's block is the outermost one, so those
two are a BEGIN/COMMIT pair instead).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from points.services import lead_delegate, lead_recall, tenant_allocate, tenant_clawback
from recognition.services import recognition_create, recognition_distribute
from tenants.tests.factories import UserFactory
from wallets.services import redemption_create, redemption_refund, reward_create

# operation → statements. PostgreSQL's distribution locks the members' wallets with
# one SELECT … FOR UPDATE that SQLite (one writer) does not need, and PostgreSQL pays
# an award in one statement (`recognition.services._award_in_one_statement`, here in
# a savepoint) where SQLite's general path takes six.
BUDGET = {
    "allocate": 7,
    "clawback": 7,
    "clawback_all": 9,  # the pool falls below its threshold: pool.low_balance too
    "delegate": 7,
    "recall": 7,
    "award_pool": 9,
    "award_lead": 10,
    "award_multi": 9,
    "kudos": 6,
    "redeem": 10,  # + the voucher code claimed in voucher_codes
    "refund": 10,
}
# Each movement but a recall records its event (events.services.record_event): one INSERT
# in its transaction, counted above; on PostgreSQL the award's is inside its one statement.


POSTGRESQL_BUDGET = {"award_pool": 3, "award_lead": 3, "award_multi": 3}


def _budget(operation: str) -> int:
    if connection.vendor == "postgresql":
        return POSTGRESQL_BUDGET.get(operation, BUDGET[operation])
    return BUDGET[operation]


def _distribute_budget() -> int:
    # + the recipients read for the event's payload and the event's INSERT
    return 11 if connection.vendor == "postgresql" else 10


@pytest.fixture
def setup(funded_lead, funded_tenant, manager, employee, other_employee, platform_admin, award):
    award(manager, employee, 1_000)  # a wallet with history: costs must not depend on it
    return funded_tenant


def test_statements_per_operation(
    setup, funded_lead, manager, employee, other_employee, platform_admin, django_assert_max_num_queries
):
    tenant = setup
    with django_assert_max_num_queries(_budget("allocate")):
        tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=5)
    with django_assert_max_num_queries(_budget("clawback")):
        tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, amount=5, reason="Correction")
    with django_assert_max_num_queries(_budget("delegate")):
        lead_delegate(actor=manager, lead_id=funded_lead.pk, amount=5)
    with django_assert_max_num_queries(_budget("recall")):
        lead_recall(actor=manager, lead_id=funded_lead.pk, amount=5)
    with django_assert_max_num_queries(_budget("award_pool")):
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=5, message="Pool")
    with django_assert_max_num_queries(_budget("award_lead")):
        recognition_create(giver=funded_lead, recipient_ids=[employee.pk], points=5, message="Budget")
    with django_assert_max_num_queries(_budget("award_multi")):
        recognition_create(giver=manager, recipient_ids=[employee.pk, other_employee.pk], points=5, message="Two")
    with django_assert_max_num_queries(_budget("kudos")):
        recognition_create(giver=employee, recipient_ids=[other_employee.pk], points=0, message="Thanks")
    with django_assert_max_num_queries(_distribute_budget()):
        recognition_distribute(giver=manager, amount_per_user=1, message="Everyone")
    reward = reward_create(actor=manager, name="Mug", points_cost=10, stock=5)
    with django_assert_max_num_queries(_budget("redeem")):
        redemption = redemption_create(user=employee, reward_id=reward.pk).redemption
    with django_assert_max_num_queries(_budget("refund")):
        redemption_refund(actor=manager, redemption_id=redemption.pk)
    with django_assert_max_num_queries(_budget("clawback_all")):
        tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, reason="Closing")


def _statements(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_distribution_statements_do_not_grow_with_members(tenant, allocate, manager):
    allocate(tenant, 1_000_000)
    members = [UserFactory(tenant=tenant, password=None) for _ in range(10)]
    small = _statements(lambda: recognition_distribute(giver=manager, amount_per_user=3, message="Ten"))
    members += [UserFactory(tenant=tenant, password=None) for _ in range(190)]
    large = _statements(lambda: recognition_distribute(giver=manager, amount_per_user=3, message="Two hundred"))

    assert small == large == _distribute_budget()
    from points.tests.books import assert_reconciled, wallet_balance

    assert wallet_balance(members[0]) == 6 and wallet_balance(members[-1]) == 3
    assert_reconciled()


def test_award_statements_do_not_grow_with_recipients_or_ledger_length(funded_tenant, manager):
    people = [UserFactory(tenant=funded_tenant, password=None) for _ in range(50)]
    one = _statements(lambda: recognition_create(giver=manager, recipient_ids=[people[0].pk], points=1, message="1"))
    for _ in range(20):
        recognition_create(giver=manager, recipient_ids=[people[0].pk], points=1, message="history")
    fifty = _statements(
        lambda: recognition_create(giver=manager, recipient_ids=[p.pk for p in people], points=1, message="50")
    )
    assert one == fifty == _budget("award_pool")
