"""Photos and names where members see each other (SPEC §11): the recipient picker (/recognize/ and the
dashboard's award form), the wallet, the manager's and the lead's dashboards. Each page costs the
same queries with one row or many, photos or initials (profiles are joined, never read per row)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Profile
from points.services import lead_delegate
from tenants.tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [("manager", "/manage/"), ("lead", "/manage/"), ("employee", "/wallet/"), ("employee", "/recognize/")]


def give_photo(user, version="a1b2c3"):
    """A stored photo as `people.photos` names it (the page only builds its address from the name)."""
    Profile.objects.filter(user=user).update(
        avatar=f"avatars/{user.pk}-{version}-256.webp", avatar_small=f"avatars/{user.pk}-{version}-64.webp"
    )


def photo_src(user, version="a1b2c3"):
    return f'src="/people/photos/{user.pk}/64.webp?v={version}"'


def initials_of(page: str) -> list[str]:
    return re.findall(r'data-testid="avatar-initials">([^<]*)<', page)


@pytest.fixture
def people(client, funded_lead, manager, employee, other_employee, award):
    give_photo(employee)
    award(manager, employee, 5, message="Pool award")
    award(funded_lead, employee, 5, message="Lead award")
    award(other_employee, employee, 0, message="Kudos")
    return {"manager": manager, "lead": funded_lead, "employee": employee}


def get(client, user, path) -> tuple[int, str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_each_page_shows_photos_and_initials_in_a_fixed_number_of_queries(
    client, people, manager, funded_lead, employee, other_employee, tenant, award
):
    before = {(who, path): get(client, people[who], path) for who, path in PAGES}
    # Many more rows of every kind the pages list: colleagues with and without photos, awards from
    # each of them and from the lead, kudos, delegations to other leads.
    for i in range(12):
        colleague = UserFactory(tenant=tenant, full_name=f"Colleague {i:02d}")
        if i % 2:
            give_photo(colleague, version=f"v{i}")
        award(manager, colleague, 1, message=f"Thanks {i}")
        award(funded_lead, [colleague, employee], 1, message=f"Lead thanks {i}")
        award(colleague, employee, 0, message=f"Kudos {i}")
        lead = LeadFactory(tenant=tenant, full_name=f"Lead {i:02d}")
        give_photo(lead, version=f"l{i}")
        lead_delegate(actor=manager, lead_id=lead.pk, amount=1)
        lead_delegate(actor=manager, lead_id=funded_lead.pk, amount=1)
    for who, path in PAGES:
        queries, page = get(client, people[who], path)
        assert queries == before[(who, path)][0], f"{who} {path}: {before[(who, path)][0]} → {queries} queries"
        assert 'data-testid="avatar-photo"' in page, f"{who} {path}: photos where members have one"
        assert len(initials_of(page)) >= 2, f"{who} {path}: initials in a coloured circle where there is no photo"


def test_the_recipient_picker_lists_each_colleague_with_their_photo_or_initials(client, people, employee):
    _, page = get(client, people["manager"], "/recognize/")
    labels = re.findall(r'<label class="check" for="id_recipients_\d+-recognize">(.*?)</label>', page, re.S)
    assert len(labels) == 3  # the lead, and both employees
    by_name = {re.search(r'class="check-name">([^<]*)<', label)[1]: label for label in labels}
    assert photo_src(employee) in by_name["Asha Employee"]
    assert 'alt=""' in by_name["Asha Employee"]  # the name beside it is the label
    rahul = by_name["Rahul Employee"]
    initials = r'<span class="avatar avatar-small avatar-c\d" aria-hidden="true" data-testid="avatar-initials">RE<'
    assert re.search(initials, rahul)


def test_the_wallet_shows_the_members_photo_name_and_each_givers_face(client, people, employee, manager, funded_lead):
    _, page = get(client, employee, "/wallet/")
    owner = re.search(r'data-testid="wallet-owner">(.*?)</div>\s*</div>', page, re.S)[1]
    assert 'src="/people/photos/' in owner and "Asha Employee" in owner
    history = page[page.index('id="ledger-title"') :]
    assert "Recognition from" in history
    assert set(initials_of(history)) >= {"MM", "LL"}  # Maya Manager and Leo Lead, without photos
    kudos = page[page.index('data-testid="kudos-received"') : page.index('id="ledger-title"')]
    assert initials_of(kudos) == ["RE"]


def test_the_dashboards_show_leads_givers_and_receivers_with_faces(client, people, employee, funded_lead):
    give_photo(funded_lead, version="lead1")
    _, page = get(client, people["manager"], "/manage/")
    budgets = page[page.index('id="leads-title"') : page.index('id="moves-title"')]
    assert photo_src(funded_lead, "lead1") in budgets
    moves = page[page.index('id="moves-title"') :]
    assert photo_src(employee) in moves and photo_src(funded_lead, "lead1") in moves
    _, page = get(client, funded_lead, "/manage/")
    moves = page[page.index('id="moves-title"') :]
    assert photo_src(funded_lead, "lead1") in moves  # the lead's own delegations
