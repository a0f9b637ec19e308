"""Pinned query counts of the money endpoints, over HTTP with a real Bearer token (SPEC §5: no cost that grows
with the ledger or the number of members).

The counts include the token lookup (1) and the SAVEPOINT/RELEASE pairs of the nested transactions; with an
`Idempotency-Key`, four more: claiming the key (INSERT in its own savepoint) and storing the outcome (UPDATE).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from identity.models import ApiToken
from identity.services import api_token_issue
from points.idempotency import _claimant
from points.tests.test_api import ALLOCATE, AWARD, DELEGATE, DISTRIBUTE, RECALL, STATS, clawback_path
from recognition.services import recognition_create
from tenants.tests.factories import UserFactory

KEY_QUERIES = 4


def token_client(user) -> APIClient:
    """A client with a token in use: its `last_used_at` is fresh, so a request reads the token (1 query)
    and does not write it (that happens at most every few minutes, `identity.services`)."""
    token, secret = api_token_issue(user=user)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.created_at)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def requests_(world):
    tenant, lead, employee = world["tenant"], world["lead"], world["employee"]
    return {
        "allocate": ("platform_admin", ALLOCATE, {"tenant_id": str(tenant.pk), "amount": 10}, 10),
        "delegate": ("manager", DELEGATE, {"lead_id": str(lead.pk), "amount": 10}, 10),
        "recall": ("manager", RECALL, {"lead_id": str(lead.pk), "amount": 10}, 10),
        "award by a manager": (
            "manager",
            AWARD,
            {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x"},
            12,
        ),
        "award by a lead": (
            "lead",
            AWARD,
            {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x"},
            13,
        ),
        "distribute": ("manager", DISTRIBUTE, {"amount_per_user": 10, "recognition_message": "x"}, 14),
        "clawback": ("platform_admin", clawback_path(tenant.pk), {"reason": "x", "amount": 10}, 10),
    }


@pytest.fixture
def world(funded_lead, manager, employee, platform_admin):
    return {
        "tenant": funded_lead.tenant,
        "lead": funded_lead,
        "employee": employee,
        "manager": manager,
        "platform_admin": platform_admin,
    }


NAMES = ["allocate", "delegate", "recall", "award by a manager", "award by a lead", "distribute", "clawback"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("key", [None, "key-1"])
def test_money_endpoint_query_counts_are_pinned(world, name, key, django_assert_max_num_queries):
    who, path, body, pinned = requests_(world)[name]
    client = token_client(world[who])
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    # The claiming connection's pid is read once per connection (points.idempotency): read it now,
    # so the count is the request's on a connection already in use, whichever test ran before.
    _claimant()
    with django_assert_max_num_queries(pinned + (KEY_QUERIES if key else 0)):
        response = client.post(path, body, format="json", **headers)
    assert response.status_code == 200, response.json()


def test_the_pool_card_costs_five_queries(world, django_assert_max_num_queries):
    client = token_client(world["manager"])
    with django_assert_max_num_queries(5):
        response = client.get(STATS)
    assert response.json()["points_allocation_balance"] == 40_000


def _count(client, path, body) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(path, body, format="json")
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


def test_distribute_costs_the_same_for_3_and_30_members(world):
    client = token_client(world["manager"])
    body = {"amount_per_user": 10, "recognition_message": "Thanks all"}
    small = _count(client, DISTRIBUTE, body)  # lead + employee
    for _ in range(28):
        UserFactory(tenant=world["tenant"])
    large = _count(client, DISTRIBUTE, body)
    assert small == large
    assert small <= 14


def test_an_award_costs_the_same_with_a_long_ledger(world):
    manager, employee = world["manager"], world["employee"]
    client = token_client(manager)
    body = {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x"}
    first = _count(client, AWARD, body)
    for _ in range(30):
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=1, message="x")
    assert _count(client, AWARD, body) == first


def test_a_replay_is_cheaper_than_the_original(world):
    client = token_client(world["manager"])
    body = {"to_user_id": str(world["employee"].pk), "amount": 10, "recognition_message": "x"}
    with CaptureQueriesContext(connection) as original:
        client.post(AWARD, body, format="json", HTTP_IDEMPOTENCY_KEY="r")
    with CaptureQueriesContext(connection) as replay:
        response = client.post(AWARD, body, format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert response["Idempotent-Replayed"] == "true"
    assert len(replay.captured_queries) < len(original.captured_queries)
    assert not any(q["sql"].lstrip().upper().startswith("UPDATE") for q in replay.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_http_award_without_a_key_is_the_token_read_and_the_award_statement(
    funded_tenant, manager, employee, award_sql
):
    """No BEGIN, SAVEPOINT, RELEASE or COMMIT around the award's one statement (on either of its ways,
    the award function's call or the one statement): it commits by itself
    (money_response(..., self_contained=True)), and the token and its user are one read."""
    from recognition.tests.award_sql import CALL_START

    client = token_client(manager)
    body = {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x"}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(AWARD, body, format="json")
    assert response.status_code == 200, response.json()
    statements = [q["sql"].lstrip() for q in queries.captured_queries]
    assert len(statements) == 2 and statements[0].upper().startswith("SELECT"), statements
    assert statements[1].startswith(CALL_START[award_sql]), statements


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_token_read_is_prepared_once_per_connection(funded_tenant, manager, employee):
    """The token read is a prepared statement (perksu.db.prepared_cursor): PostgreSQL parses and plans it
    once per connection, not on every request."""
    from identity.services import _TokenWithUser

    client = token_client(manager)
    body = {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x"}
    for _ in range(2):
        assert client.post(AWARD, body, format="json").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert _TokenWithUser.on("default").sql.replace("%s", "$1") in prepared, prepared
