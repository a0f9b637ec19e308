"""/manage/: the pool card and its JSON, lead budgets, delegate and recall, the pool chart."""

import datetime as dt
import html
import json
import re

from django.test import Client
from django.utils import timezone

from points.models import DelegationLog, LeadBudget
from points.services import lead_delegate
from points.views import pool_history
from tenants.models import Tenant
from tenants.tests.factories import LeadFactory


def texts(response) -> list[str]:
    """The messages the user sees on the page the POST redirected to."""
    if response.status_code == 302:
        response = response.client.get(response["Location"])
    return [html.unescape(m) for m in re.findall(r'<p class="message [^"]*">(.*?)</p>', response.content.decode())]


def pool(tenant) -> int:
    return Tenant.objects.get(pk=tenant.pk).points_allocation_balance


def budget(lead) -> int:
    return LeadBudget.objects.get(lead=lead).balance


def test_manager_sees_pool_card_budgets_and_forms(client, funded_lead, manager, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        response = client.get("/manage/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Company Distribution Pool" in page
    assert '<span data-field="balance_display" data-testid="pool-balance">40,000</span>' in page
    assert '<span class="badge" data-field="status_label" data-testid="pool-status">Ready</span>' in page
    assert "Triton Energy" in page
    assert 'data-testid="budget-lead@triton.test">10,000<' in page
    assert 'action="/manage/delegate/"' in page
    assert f'action="/manage/leads/{funded_lead.pk}/recall/"' in page
    assert page.count('name="form_token"') >= 3
    assert "Pool over the last 30 days" in page
    assert "<polyline" in page
    # Content security policy: no inline script or style anywhere on the page.
    assert "<script>" not in page and "style=" not in page and "onclick" not in page


def test_pool_status_follows_the_threshold(client, tenant, allocate, manager):
    client.force_login(manager)
    assert json.loads(client.get("/manage/pool.json").content)["status_label"] == "No points"
    allocate(tenant, 50)
    data = json.loads(client.get("/manage/pool.json").content)
    assert (data["balance"], data["balance_status"], data["status_label"]) == (50, "low", "Low balance")
    allocate(tenant, 100)
    data = json.loads(client.get("/manage/pool.json").content)
    assert (data["balance"], data["balance_display"], data["status_label"]) == (150, "150", "Ready")
    assert data["tenant_name"] == "Triton Energy"
    assert (data["delegated_display"], data["wallets_display"]) == ("0", "0")


def test_pool_json_counts_what_left_the_pool(client, funded_lead, manager, employee, award):
    award(manager, employee, 1_500)
    client.force_login(manager)
    data = json.loads(client.get("/manage/pool.json").content)
    assert data["balance"] == 38_500
    assert (data["delegated_outstanding"], data["delegated_display"]) == (10_000, "10,000")
    assert (data["wallets_outstanding"], data["wallets_display"]) == (1_500, "1,500")
    assert data["message"] == "Ready to distribute. You have 38,500 points available."


def test_lead_sees_own_budget_but_not_the_pool_or_delegation(client, funded_lead):
    client.force_login(funded_lead)
    page = client.get("/manage/").content.decode()
    assert '<span data-testid="lead-budget">10,000</span>' in page
    assert "Company Distribution Pool" not in page
    assert "/manage/delegate/" not in page
    assert "Award points" in page


def test_delegate_moves_points_once_per_token(client, funded_tenant, manager, lead):
    client.force_login(manager)
    data = {"lead": str(lead.pk), "amount": "2500", "note": "Q1", "form_token": "d1"}
    first = client.post("/manage/delegate/", data)
    assert texts(first) == ["Delegated 2,500 points to Leo Lead. Their budget: 2,500; pool: 47,500."]
    second = client.post("/manage/delegate/", data)
    assert texts(second)[-1] == "Delegated 2,500 points to Leo Lead. Their budget: 2,500; pool: 47,500."
    assert budget(lead) == 2_500
    assert pool(funded_tenant) == 47_500
    assert DelegationLog.objects.filter(lead=lead).count() == 1


def test_delegate_more_than_the_pool_is_refused_and_nothing_moves(client, tenant, allocate, manager, lead):
    allocate(tenant, 100)
    client.force_login(manager)
    response = client.post("/manage/delegate/", {"lead": str(lead.pk), "amount": "101", "form_token": "d"})
    assert texts(response) == ["Insufficient company allocation pool. Available: 100, Required: 101."]
    assert budget(lead) == 0
    assert pool(tenant) == 100
    assert not DelegationLog.objects.exists()


def test_delegate_to_another_tenants_lead_is_refused_like_an_unknown_one(client, funded_tenant, manager, other_tenant):
    foreign = LeadFactory(tenant=other_tenant, email="lead@other.test")
    client.force_login(manager)
    response = client.post("/manage/delegate/", {"lead": str(foreign.pk), "amount": "10", "form_token": "d"})
    assert response.status_code == 400
    assert texts(response) == ["Nothing was delegated: please correct the field marked below."]
    # The error sits next to the lead field, and the amount typed is kept.
    assert f"Select a valid choice. {foreign.pk} is not one of the available choices." in response.content.decode()
    assert 'name="amount" value="10"' in response.content.decode()
    assert budget(foreign) == 0
    assert pool(funded_tenant) == 50_000


def test_recall_empty_amount_asks_first_naming_the_amount_then_takes_it(client, funded_lead, manager, funded_tenant):
    client.force_login(manager)
    response = client.post(f"/manage/leads/{funded_lead.pk}/recall/", {"amount": "", "note": "", "form_token": "r"})
    assert response.status_code == 200
    assert "Recall the whole budget of 10,000 points from Leo Lead?" in html.unescape(response.content.decode())
    assert budget(funded_lead) == 10_000
    response = client.post(
        f"/manage/leads/{funded_lead.pk}/recall/",
        {"amount": "", "note": "", "confirm_all": "10000", "form_token": "r2"},
    )
    assert texts(response) == ["Recalled 10,000 points from Leo Lead. Their budget: 0; pool: 50,000."]
    assert budget(funded_lead) == 0
    assert pool(funded_tenant) == 50_000


def test_recall_more_than_the_budget_is_refused(client, funded_lead, manager, funded_tenant):
    client.force_login(manager)
    response = client.post(f"/manage/leads/{funded_lead.pk}/recall/", {"amount": "10001", "form_token": "r"})
    assert response.status_code == 400
    assert texts(response) == ["Insufficient lead budget. Available: 10,000, Required: 10,001."]
    assert 'name="amount" value="10001"' in response.content.decode()
    assert budget(funded_lead) == 10_000
    assert pool(funded_tenant) == 40_000


def test_recall_from_another_tenants_lead_answers_not_found(client, manager, other_tenant, platform_admin):
    foreign = LeadFactory(tenant=other_tenant, email="lead@other.test")
    client.force_login(manager)
    for lead_id in [foreign.pk, "not-a-uuid"]:
        response = client.post(f"/manage/leads/{lead_id}/recall/", {"amount": "1", "form_token": str(lead_id)})
        assert response.status_code == 404


def test_lead_cannot_delegate_or_recall(client, funded_lead, funded_tenant):
    client.force_login(funded_lead)
    assert client.post("/manage/delegate/", {"lead": str(funded_lead.pk), "amount": "1"}).status_code == 403
    assert client.post(f"/manage/leads/{funded_lead.pk}/recall/", {"form_token": "x"}).status_code == 403
    assert budget(funded_lead) == 10_000


def test_post_without_csrf_token_is_refused(funded_tenant, manager, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post("/manage/delegate/", {"lead": str(lead.pk), "amount": "5", "form_token": "c"})
    assert response.status_code == 403
    assert budget(lead) == 0


def test_pool_history_rebuilds_daily_closing_balances(funded_tenant, manager, lead, employee, award):
    lead_delegate(actor=manager, lead_id=lead.pk, amount=10_000)
    award(manager, employee, 1_000)
    today = timezone.localdate()
    chart = pool_history(funded_tenant.pk, pool(funded_tenant), days=4, today=today + dt.timedelta(days=2))
    assert chart.days == [
        (today - dt.timedelta(days=1), 0),
        (today, 39_000),
        (today + dt.timedelta(days=1), 39_000),
        (today + dt.timedelta(days=2), 39_000),
    ]
    assert (chart.low, chart.high) == (0, 39_000)
    # Lowest value on the bottom edge, highest on the top edge of the 160-high box.
    assert chart.points.split()[0].endswith(",152.0")
    assert chart.points.split()[-1].endswith(",8.0")


def test_page_queries_do_not_grow_with_history(
    client, funded_lead, manager, employee, award, django_assert_max_num_queries
):
    for _ in range(30):
        award(manager, employee, 1)
        award(funded_lead, employee, 1)
    # The award form reads the giver's allowance and the company values (3 queries); the
    # feed reads its cards' rows, add-ons, values, reactions and comments per page; each page
    # includes the header's unread-notifications count (one indexed COUNT).
    pinned = [
        (manager, "/manage/", 18),
        (manager, "/rewards/", 10),
        (funded_lead, "/manage/", 11),
        (employee, "/wallet/", 7),  # the ledger page and the kudos received
        (employee, "/rewards/", 6),
        (employee, "/feed/", 11),
        (employee, "/recognize/", 8),
    ]
    for user, path, most in pinned:
        client.force_login(user)
        with django_assert_max_num_queries(most):
            assert client.get(path).status_code == 200
