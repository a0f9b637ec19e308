"""/recognize/ and /feed/: awards and kudos through the form, once per token."""

import html
import re

import pytest
from django.test import Client

from perksu.pages import IN_PROGRESS, REPLAYED, REUSED
from perksu.testing import run_together
from points.models import LeadBudget
from recognition.models import Recognition
from tenants.models import Tenant
from tenants.services import tenant_set_status
from tenants.tests.factories import UserFactory
from wallets.models import Wallet, WalletLedger


def token_of(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


def balance(user) -> int:
    return Wallet.objects.get(user=user).balance


def pool(tenant) -> int:
    return Tenant.objects.get(pk=tenant.pk).points_allocation_balance


def texts(response) -> list[str]:
    """The messages the user sees on the page the POST redirected to."""
    if response.status_code == 302:
        response = response.client.get(response["Location"])
    return [html.unescape(m) for m in re.findall(r'<p class="message [^"]*">(.*?)</p>', response.content.decode())]


def test_manager_awards_two_recipients_from_the_pool(client, funded_tenant, manager, employee, other_employee):
    client.force_login(manager)
    token = token_of(client.get("/recognize/"))
    response = client.post(
        "/recognize/",
        {
            "recipients": [str(employee.pk), str(other_employee.pk)],
            "points": "150",
            "message": "Shipped the rig",
            "form_token": token,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/recognize/"
    assert balance(employee) == 150
    assert balance(other_employee) == 150
    assert pool(funded_tenant) == 50_000 - 300
    assert texts(response) == [
        "Awarded 150 points to Asha Employee, Rahul Employee (300 in total, from the company pool)."
    ]


def test_the_same_token_posted_twice_awards_once(client, funded_tenant, manager, employee):
    client.force_login(manager)
    data = {"recipients": [str(employee.pk)], "points": "200", "message": "Thanks", "form_token": "tok-1"}
    first = client.post("/recognize/", data)
    assert texts(first) == ["Awarded 200 points to Asha Employee (200 in total, from the company pool)."]
    second = client.post("/recognize/", data)
    assert balance(employee) == 200
    assert pool(funded_tenant) == 49_800
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1
    assert Recognition.objects.filter(receiver=employee).count() == 1
    assert texts(second) == [
        "This form was already submitted; nothing was done twice.",
        "Awarded 200 points to Asha Employee (200 in total, from the company pool).",
    ]


def test_a_fresh_token_awards_again(client, funded_tenant, manager, employee):
    client.force_login(manager)
    base = {"recipients": [str(employee.pk)], "points": "10", "message": "Thanks"}
    client.post("/recognize/", {**base, "form_token": "a"})
    client.post("/recognize/", {**base, "form_token": "b"})
    assert balance(employee) == 20


def test_a_token_reused_with_other_values_moves_nothing(client, funded_tenant, manager, employee):
    client.force_login(manager)
    first = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "10", "message": "x", "form_token": "t"}
    )
    assert len(texts(first)) == 1
    response = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "99", "message": "x", "form_token": "t"}
    )
    assert balance(employee) == 10
    assert texts(response) == [REUSED]


def test_lead_awards_from_own_budget_and_returns_to_dashboard(client, funded_lead, employee):
    client.force_login(funded_lead)
    response = client.post(
        "/recognize/",
        {
            "recipients": [str(employee.pk)],
            "points": "400",
            "message": "Great",
            "form_token": "x",
            "return_to": "manage",
        },
    )
    assert response["Location"] == "/manage/"
    assert LeadBudget.objects.get(lead=funded_lead).balance == 9_600
    assert balance(employee) == 400
    assert texts(response) == ["Awarded 400 points to Asha Employee (400 in total, from your budget)."]


def test_insufficient_funds_is_a_message_and_nothing_moves(client, tenant, allocate, manager, employee):
    allocate(tenant, 500)
    client.force_login(manager)
    response = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "1000", "message": "Too much", "form_token": "t"}
    )
    # The page stays, with what was typed and the error next to the points.
    assert response.status_code == 400
    assert texts(response) == ["Insufficient company allocation pool. Available: 500, Required: 1,000."]
    page = html.unescape(response.content.decode())
    assert 'id="points-error-recognize">Insufficient company allocation pool.' in page
    assert ">Too much</textarea>" in page and 'value="1000" data-award-points' in page
    assert balance(employee) == 0
    assert pool(tenant) == 500
    assert Recognition.objects.count() == 0
    # The replay of a refusal shows the same refusal and still moves nothing.
    again = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "1000", "message": "Too much", "form_token": "t"}
    )
    assert texts(again) == ["Insufficient company allocation pool. Available: 500, Required: 1,000."]
    assert balance(employee) == 0


def test_employee_sends_kudos_without_a_points_field(client, employee, other_employee):
    client.force_login(employee)
    page = client.get("/recognize/")
    assert page.status_code == 200
    assert 'name="points"' not in page.content.decode()
    response = client.post(
        "/recognize/",
        {"recipients": [str(other_employee.pk)], "points": "500", "message": "Thanks!", "form_token": "k"},
    )
    assert texts(response) == ["Kudos sent to Rahul Employee."]
    recognition = Recognition.objects.get(receiver=other_employee)
    assert (recognition.points, recognition.funding_source) == (0, "NONE")
    assert balance(other_employee) == 0


def test_another_tenants_member_is_refused_like_an_unknown_id(client, funded_tenant, manager, outsider):
    client.force_login(manager)
    for recipient in [str(outsider.pk), "6c1d4bb4-5f8e-4d0e-9b76-000000000000"]:
        response = client.post(
            "/recognize/", {"recipients": [recipient], "points": "10", "message": "x", "form_token": recipient}
        )
        assert response.status_code == 400
        assert f"Select a valid choice. {recipient} is not one of the available choices." in response.content.decode()
    assert balance(outsider) == 0
    assert pool(funded_tenant) == 50_000
    assert "Olga Outsider" not in client.get("/recognize/").content.decode()


def test_missing_message_is_shown_on_the_form(client, funded_tenant, manager, employee):
    client.force_login(manager)
    response = client.post("/recognize/", {"recipients": [str(employee.pk)], "points": "5", "form_token": "m"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Write a message: say what they did." in html
    assert "The recognition was not sent" in html
    assert balance(employee) == 0


def test_feed_lists_the_tenants_recognitions_newest_first_paginated(
    client, funded_tenant, manager, employee, outsider, award, other_tenant, allocate
):
    for i in range(25):
        award(manager, employee, 1, message=f"note {i:02d}")
    client.force_login(employee)
    first = client.get("/feed/").content.decode()
    assert first.index("note 24") < first.index("note 23")
    assert "note 04" not in first
    # Pages by keyset: the "Older" link carries the cursor of the last card shown.
    older = re.search(r'href="\?([^"]*cursor=[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(f"/feed/?{older}").content.decode()
    assert "note 04" in second and "note 00" in second and "note 05" not in second
    assert 'rel="next"' not in second
    client.force_login(outsider)
    assert "note" not in client.get("/feed/").content.decode()


def test_suspended_tenant_awards_nothing_and_says_why(client, funded_tenant, manager, employee):
    tenant_set_status(tenant=funded_tenant, status=Tenant.Status.SUSPENDED)
    client.force_login(manager)
    response = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "10", "message": "x", "form_token": "s"}
    )
    assert texts(response) == ["This tenant is suspended: no points can be moved."]
    assert balance(employee) == 0
    assert pool(funded_tenant) == 50_000


def test_more_than_fifty_recipients_is_refused_on_the_form(client, funded_tenant, manager):
    people = [UserFactory(tenant=funded_tenant) for _ in range(51)]
    client.force_login(manager)
    response = client.post(
        "/recognize/",
        {"recipients": [str(p.pk) for p in people], "points": "1", "message": "All hands", "form_token": "f"},
    )
    assert response.status_code == 400
    assert "Choose at most 50 recipients." in response.content.decode()
    assert pool(funded_tenant) == 50_000
    assert not Recognition.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_of_one_form_award_once(funded_tenant, manager, employee):
    """A double click that reaches the server twice at the same moment: one award, the
    other request replays it or is told the form is already being processed."""
    data = {"recipients": [str(employee.pk)], "points": "250", "message": "Twice?", "form_token": "race"}
    clients = [Client() for _ in range(4)]
    for client in clients:
        client.force_login(manager)
    responses = run_together(4, lambda i: clients[i].post("/recognize/", data))
    seen = [text for response in responses for text in texts(response)]
    assert balance(employee) == 250
    assert pool(funded_tenant) == 49_750
    assert Recognition.objects.filter(receiver=employee).count() == 1
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1
    awarded = "Awarded 250 points to Asha Employee (250 in total, from the company pool)."
    assert seen.count(awarded) >= 1
    assert all(m in (awarded, REPLAYED, IN_PROGRESS) for m in seen)


# --- A large company: the list is capped, a search narrows it, any colleague may be chosen -------------------------


@pytest.fixture
def crowd(funded_tenant):
    """More colleagues than the form lists at once."""
    from recognition.forms import RECIPIENTS_SHOWN

    return [
        UserFactory(
            tenant=funded_tenant, full_name=f"Member {n:04d}", email=f"member{n:04d}@triton.test", password=None
        )
        for n in range(RECIPIENTS_SHOWN + 5)
    ]


def checkboxes(response) -> list[str]:
    return re.findall(r'name="recipients" value="([^"]+)"', response.content.decode())


def test_a_large_company_lists_the_first_colleagues_and_offers_a_search(client, manager, crowd):
    from recognition.forms import RECIPIENTS_SHOWN

    client.force_login(manager)
    page = client.get("/recognize/")
    assert len(checkboxes(page)) == RECIPIENTS_SHOWN
    assert f"Only the first {RECIPIENTS_SHOWN} colleagues are listed" in page.content.decode()
    assert str(crowd[-1].pk) not in checkboxes(page)  # sorted by name: the last ones are not listed

    found = client.get("/recognize/", {"q": "member0204"})
    assert checkboxes(found) == [str(crowd[204].pk)]
    assert "Only the first" not in found.content.decode()
    by_email = client.get("/recognize/", {"q": "MEMBER0203@TRITON"})
    assert checkboxes(by_email) == [str(crowd[203].pk)]
    assert "Nobody matches “zz-nobody”." in client.get("/recognize/", {"q": "zz-nobody"}).content.decode()


def test_a_colleague_found_by_search_can_be_awarded(client, funded_tenant, manager, crowd):
    """The POST is checked against every colleague, not against the list the page showed."""
    client.force_login(manager)
    unlisted = crowd[-1]
    token = token_of(client.get("/recognize/", {"q": unlisted.full_name}))
    response = client.post(
        "/recognize/", {"recipients": [str(unlisted.pk)], "points": "30", "message": "Found you", "form_token": token}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert balance(unlisted) == 30 and pool(funded_tenant) == 50_000 - 30


def test_a_form_sent_back_keeps_an_unlisted_colleague_ticked(client, funded_tenant, manager, crowd):
    client.force_login(manager)
    unlisted = crowd[-1]
    response = client.post(
        "/recognize/", {"recipients": [str(unlisted.pk)], "points": "30", "message": "", "form_token": "t-keep"}
    )
    assert response.status_code == 400
    assert re.search(rf'value="{unlisted.pk}" id="[^"]+" checked', response.content.decode())
    assert balance(unlisted) == 0


def test_a_deactivated_colleague_is_refused_like_an_unknown_id(client, funded_tenant, manager, employee):
    from tenants.services import user_set_active

    user_set_active(user=employee, is_active=False)
    client.force_login(manager)
    response = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "10", "message": "x", "form_token": "t-inactive"}
    )
    assert response.status_code == 400
    assert f"Select a valid choice. {employee.pk} is not one of the available choices." in response.content.decode()
    assert balance(employee) == 0 and pool(funded_tenant) == 50_000


def test_a_small_company_filters_in_the_page_and_shows_no_search_form(client, manager, employee):
    client.force_login(manager)
    page = client.get("/recognize/").content.decode()
    assert "data-recipient-filter" in page
    assert 'name="q"' not in page and "Only the first" not in page


def test_a_large_company_searches_on_the_server_instead(client, manager, crowd):
    client.force_login(manager)
    page = client.get("/recognize/").content.decode()
    assert 'name="q"' in page and "data-recipient-filter" not in page
