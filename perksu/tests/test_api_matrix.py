"""Who may call what, and what another tenant's ids answer (SPEC §2, §6).

1. The role matrix: every endpoint of SPEC §6 (and the token endpoint) ×
   {anonymous, employee, lead, manager, platform admin}, with the expected status:
   401 anonymous, 403 a role that may not, the 2xx of a successful call otherwise.
2. The cross-tenant matrix: every endpoint that takes an id (in the path, the body
   or a filter) called by a member of tenant A with tenant B's id answers exactly
   as with a random UUID (404 for a path or body id, the same empty list for a
   filter), and no balance, row or idempotency record changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from identity.services import api_token_issue, scim_token_create
from people.services import team_create
from points.models import LeadBudget
from points.services import lead_delegate, tenant_allocate
from points.tests.books import books
from recognition.engagement import comment_create, value_create
from recognition.services import recognition_create
from tenants.models import Tenant, User
from tenants.tests.factories import PASSWORD, LeadFactory, ManagerFactory, TenantFactory, UserFactory
from wallets.services import redemption_create, reward_create

ROLES = ("anonymous", "employee", "lead", "manager", "platform")
V1 = "/api/v1"


@pytest.fixture
def world(platform_admin, tenant, manager, lead, employee, other_employee):
    """Tenant A with every kind of row, so each allowed call succeeds."""
    allocation = tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=50_000, reference_note="Inv")
    delegation = lead_delegate(actor=manager, lead_id=lead.pk, amount=10_000, note="Q4").log
    award = recognition_create(giver=manager, recipient_ids=[employee.pk, lead.pk], points=1_000, message="Thanks")
    recognition_create(giver=lead, recipient_ids=[manager.pk], points=1_000, message="Thanks back")
    reward = reward_create(actor=manager, name="Voucher", points_cost=100, stock=10)
    team = team_create(tenant=tenant, name="Platform")
    redemptions = {
        role: redemption_create(user=user, reward_id=reward.pk).redemption
        for role, user in (("employee", employee), ("lead", lead), ("manager", manager))
    }
    # Peer recognition (SPEC §10): every member may give 100 points a month; one value; a
    # recognition none of the callers received, to add on to.
    Tenant.objects.filter(pk=tenant.pk).update(allowance_employee=100, allowance_lead=100, allowance_manager=100)
    value = value_create(actor=manager, name="Ownership", hashtag="ownership")
    to_other = recognition_create(giver=manager, recipient_ids=[other_employee.pk], points=0, message="Kudos")
    return SimpleNamespace(
        tenant=tenant,
        platform=platform_admin,
        manager=manager,
        lead=lead,
        employee=employee,
        other_employee=other_employee,
        allocation_log=allocation.allocation_log,
        billing_log=allocation.billing_log,
        delegation=delegation,
        budget=LeadBudget.objects.get(lead=lead),
        recognition=award.recognitions[0],
        reward=reward,
        redemptions=redemptions,
        api_tokens={
            role: api_token_issue(user=user)[0]
            for role, user in (
                ("employee", employee),
                ("lead", lead),
                ("manager", manager),
                ("platform", platform_admin),
            )
        },
        scim_token=scim_token_create(tenant=tenant, name="Okta", actor=manager)[0],
        team=team,
        value=value,
        to_other=to_other.recognitions[0],
    )


def own_comment(world, role):
    """A comment written by the caller (by the employee for callers who cannot write one)."""
    if isinstance(world, _Placeholder):
        return SimpleNamespace(pk="{id}")
    author = world.employee if role in ("anonymous", "platform") else getattr(world, role)
    return comment_create(author=author, recognition_id=world.recognition.pk, text="Well deserved")


def caller(world, role: str) -> User | None:
    return None if role == "anonymous" else getattr(world, role)


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: object  # str, or (world, role) -> str
    allowed: tuple[str, ...]
    ok: int = 200
    body: object = None  # dict, or (world, role) -> dict
    content_type: str = "application/json"
    """Of a successful answer (errors are always JSON)."""
    template: str | None = None
    """The documented path, when the example fills a path parameter that is not an id."""

    def resolve(self, world, role):
        path = self.path(world, role) if callable(self.path) else self.path
        body = self.body(world, role) if callable(self.body) else self.body
        return path, body

    def expected(self, role: str) -> int:
        if role in self.allowed:
            return self.ok
        return 401 if role == "anonymous" else 403


MEMBERS = ("employee", "lead", "manager")
MANAGER_LEAD = ("lead", "manager")
PLATFORM = ("platform",)
MANAGER = ("manager",)
MANAGER_PLATFORM = ("manager", "platform")


def own_redemption(world, role):
    return world.redemptions.get(role, world.redemptions["employee"])


CASES = [
    Case(
        "auth token",
        "post",
        f"{V1}/auth/token/",
        ROLES,
        body=lambda w, r: {"email": w.employee.email, "password": PASSWORD},
    ),
    # The seed-compatible points endpoints.
    Case(
        "allocate-to-tenant",
        "post",
        f"{V1}/points/allocate-to-tenant",
        PLATFORM,
        body=lambda w, r: {"tenant_id": str(w.tenant.pk), "amount": 100},
    ),
    Case(
        "tenant-allocation-stats",
        "get",
        lambda w, r: f"{V1}/points/tenant-allocation-stats?tenant_id={w.tenant.pk}",
        ("lead", "manager", "platform"),
    ),
    Case(
        "delegate-to-lead",
        "post",
        f"{V1}/points/delegate-to-lead",
        MANAGER,
        body=lambda w, r: {"lead_id": str(w.lead.pk), "amount": 100},
    ),
    Case(
        "recall-from-lead",
        "post",
        f"{V1}/points/recall-from-lead",
        MANAGER,
        body=lambda w, r: {"lead_id": str(w.lead.pk), "amount": 100},
    ),
    Case(
        "award-to-user",
        "post",
        f"{V1}/points/award-to-user",
        MANAGER_LEAD,
        body=lambda w, r: {"to_user_id": str(w.other_employee.pk), "amount": 10, "recognition_message": "Well done"},
    ),
    Case(
        "distribute",
        "post",
        f"{V1}/points/distribute",
        MANAGER,
        body={"amount_per_user": 5, "recognition_message": "Happy new year"},
    ),
    Case(
        "clawback",
        "post",
        lambda w, r: f"{V1}/points/clawback/{w.tenant.pk}",
        PLATFORM,
        body={"reason": "Over-allocated", "amount": 10},
    ),
    # Company-side lists.
    Case("allocation-logs list", "get", f"{V1}/points/allocation-logs/", MANAGER_PLATFORM),
    Case(
        "allocation-logs retrieve",
        "get",
        lambda w, r: f"{V1}/points/allocation-logs/{w.allocation_log.pk}/",
        MANAGER_PLATFORM,
    ),
    Case("billing-logs list", "get", f"{V1}/points/billing-logs/", PLATFORM),
    Case("billing-logs retrieve", "get", lambda w, r: f"{V1}/points/billing-logs/{w.billing_log.pk}/", PLATFORM),
    Case("delegations list", "get", f"{V1}/points/delegations/", MANAGER_LEAD),
    Case("delegations retrieve", "get", lambda w, r: f"{V1}/points/delegations/{w.delegation.pk}/", MANAGER_LEAD),
    Case("lead-budgets list", "get", f"{V1}/points/lead-budgets/", MANAGER_LEAD),
    Case("lead-budgets retrieve", "get", lambda w, r: f"{V1}/points/lead-budgets/{w.budget.pk}/", MANAGER_LEAD),
    Case("liability", "get", f"{V1}/points/liability/", MANAGER_PLATFORM),
    Case("liability roll-forward", "get", f"{V1}/points/liability/?from=2026-01-01&to=2026-12-31", MANAGER_PLATFORM),
    # Tenants.
    Case("tenants list", "get", f"{V1}/tenants/", PLATFORM),
    Case(
        "tenants create",
        "post",
        f"{V1}/tenants/",
        PLATFORM,
        ok=201,
        body={"name": "Nova Labs", "slug": "nova-labs", "currency": "INR"},
    ),
    Case("tenants retrieve", "get", lambda w, r: f"{V1}/tenants/{w.tenant.pk}/", PLATFORM),
    Case(
        "tenants update status",
        "patch",
        lambda w, r: f"{V1}/tenants/{w.tenant.pk}/",
        PLATFORM,
        body={"status": "SUSPENDED"},
    ),
    # Users.
    Case("users list", "get", f"{V1}/users/", MANAGER_PLATFORM),
    Case(
        "users create",
        "post",
        f"{V1}/users/",
        MANAGER_PLATFORM,
        ok=201,
        body=lambda w, r: {
            "email": "new.hire@triton.test",
            "full_name": "New Hire",
            "role": "employee",
            "password": PASSWORD,
            "tenant_id": str(w.tenant.pk),
        },
    ),
    Case("users retrieve", "get", lambda w, r: f"{V1}/users/{w.employee.pk}/", MANAGER_PLATFORM),
    Case(
        "users change role",
        "patch",
        lambda w, r: f"{V1}/users/{w.other_employee.pk}/",
        MANAGER_PLATFORM,
        body={"role": "tenant_lead"},
    ),
    Case(
        "users deactivate",
        "patch",
        lambda w, r: f"{V1}/users/{w.other_employee.pk}/",
        MANAGER_PLATFORM,
        body={"is_active": False},
    ),
    # People (SPEC §11): photos, the CSV import, teams.
    Case(
        "users photo remove",
        "delete",
        lambda w, r: f"{V1}/users/{(w.employee if r in ('platform', 'anonymous') else getattr(w, r)).pk}/photo/",
        ("employee", "lead", "manager", "platform"),
    ),
    *[
        Case(
            f"users photo {method} without a file",
            method,
            lambda w, r: f"{V1}/users/{(w.employee if r in ('platform', 'anonymous') else getattr(w, r)).pk}/photo/",
            ("employee", "lead", "manager", "platform"),
            ok=400,
            body={},
        )
        for method in ("post", "put")
    ],
    Case("users import without a file", "post", f"{V1}/users/import/", MANAGER_PLATFORM, ok=400, body={}),
    Case("teams list", "get", f"{V1}/teams/", MANAGER_PLATFORM),
    Case(
        "teams create",
        "post",
        lambda w, r: f"{V1}/teams/?tenant_id={w.tenant.pk}",
        MANAGER_PLATFORM,
        ok=201,
        body={"name": "Sales"},
    ),
    Case("teams retrieve", "get", lambda w, r: f"{V1}/teams/{w.team.pk}/", MANAGER_PLATFORM),
    Case("teams rename", "patch", lambda w, r: f"{V1}/teams/{w.team.pk}/", MANAGER_PLATFORM, body={"name": "Core"}),
    Case("teams delete", "delete", lambda w, r: f"{V1}/teams/{w.team.pk}/", MANAGER_PLATFORM, ok=204),
    # Recognitions.
    Case("recognitions feed", "get", f"{V1}/recognitions/", MEMBERS),
    Case("recognitions retrieve", "get", lambda w, r: f"{V1}/recognitions/{w.recognition.pk}/", MEMBERS),
    Case(
        "recognitions create (kudos)",
        "post",
        f"{V1}/recognitions/",
        MEMBERS,
        ok=201,
        body=lambda w, r: {"to_user_id": str(w.other_employee.pk), "points": 0, "message": "Thank you"},
    ),
    Case(
        "recognitions create (award; an employee's from its allowance)",
        "post",
        f"{V1}/recognitions/",
        MEMBERS,
        ok=201,
        body=lambda w, r: {"to_user_ids": [str(w.other_employee.pk)], "points": 10, "message": "Bravo"},
    ),
    Case(
        "seed POST /api/recognitions",
        "post",
        "/api/recognitions",
        MEMBERS,
        ok=201,
        body=lambda w, r: {"to_user_id": str(w.other_employee.pk), "points": 0, "message": "Thank you"},
    ),
    # Peer recognition (SPEC §9, §10).
    Case("tenant settings", "get", f"{V1}/tenant/settings/", MANAGER),
    Case("tenant settings change", "patch", f"{V1}/tenant/settings/", MANAGER, body={"allowance_employee": 120}),
    Case("allowances me", "get", f"{V1}/allowances/me/", MEMBERS),
    Case("allowances list", "get", f"{V1}/allowances/", MANAGER),
    Case(
        "allowances boost",
        "post",
        lambda w, r: f"{V1}/allowances/{w.employee.pk}/boost/",
        MANAGER,
        ok=201,
        body={"amount": 50, "reason": "Launch week"},
    ),
    Case("values list", "get", f"{V1}/values/", MEMBERS),
    Case("values retrieve", "get", lambda w, r: f"{V1}/values/{w.value.pk}/", MEMBERS),
    Case("values create", "post", f"{V1}/values/", MANAGER, ok=201, body={"name": "Candour", "hashtag": "candour"}),
    Case("values update", "patch", lambda w, r: f"{V1}/values/{w.value.pk}/", MANAGER, body={"position": 4}),
    Case(
        "recognitions create (with a value)",
        "post",
        f"{V1}/recognitions/",
        MEMBERS,
        ok=201,
        body=lambda w, r: {
            "to_user_id": str(w.other_employee.pk),
            "points": 0,
            "message": "x",
            "values": [str(w.value.pk)],
        },
    ),
    Case(
        "reactions add",
        "post",
        lambda w, r: f"{V1}/recognitions/{w.recognition.pk}/reactions/",
        MEMBERS,
        body={"emoji": "🎉"},
    ),
    Case(
        "reactions remove",
        "delete",
        lambda w, r: f"{V1}/recognitions/{w.recognition.pk}/reactions/",
        MEMBERS,
        body={"emoji": "🎉"},
    ),
    Case("comments list", "get", lambda w, r: f"{V1}/recognitions/{w.recognition.pk}/comments/", MEMBERS),
    Case(
        "comments create",
        "post",
        lambda w, r: f"{V1}/recognitions/{w.recognition.pk}/comments/",
        MEMBERS,
        ok=201,
        body={"text": "Congratulations!"},
    ),
    Case("comments delete own", "delete", lambda w, r: f"{V1}/comments/{own_comment(w, r).pk}/", MEMBERS, ok=204),
    Case("comments hide", "post", lambda w, r: f"{V1}/comments/{own_comment(w, 'employee').pk}/hide/", MANAGER),
    Case("comments unhide", "post", lambda w, r: f"{V1}/comments/{own_comment(w, 'employee').pk}/unhide/", MANAGER),
    Case(
        "add-on",
        "post",
        lambda w, r: f"{V1}/recognitions/{w.to_other.pk}/add-on/",
        MEMBERS,
        ok=201,
        body={"points": 10, "message": "+10 from me too"},
    ),
    Case("feed of cards", "get", f"{V1}/feed/", MEMBERS),
    # Wallets.
    Case("wallet", "get", f"{V1}/wallets/me/", MEMBERS),
    Case("wallet ledger", "get", f"{V1}/wallets/me/ledger/", MEMBERS),
    # Rewards.
    Case("rewards list", "get", f"{V1}/rewards/", MEMBERS),
    Case("rewards retrieve", "get", lambda w, r: f"{V1}/rewards/{w.reward.pk}/", MEMBERS),
    Case("rewards create", "post", f"{V1}/rewards/", MANAGER, ok=201, body={"name": "Lunch", "points_cost": 500}),
    Case("rewards update", "patch", lambda w, r: f"{V1}/rewards/{w.reward.pk}/", MANAGER, body={"stock": 3}),
    # Redemptions.
    Case("redemptions list", "get", f"{V1}/redemptions/", MEMBERS),
    Case(
        "redemptions retrieve",
        "get",
        lambda w, r: f"{V1}/redemptions/{own_redemption(w, r).pk}/",
        MEMBERS,
    ),
    Case(
        "redemptions create",
        "post",
        f"{V1}/redemptions/",
        MEMBERS,
        ok=201,
        body=lambda w, r: {"reward_id": str(w.reward.pk)},
    ),
    Case(
        "redemptions refund",
        "post",
        lambda w, r: f"{V1}/redemptions/{w.redemptions['employee'].pk}/refund/",
        MANAGER,
    ),
    # Insights (SPEC §13). The world's lead has no team, so a lead is refused like an employee;
    # a lead with a team is covered in insights/tests.
    Case("insights", "get", lambda w, r: f"{V1}/insights/?tenant_id={w.tenant.pk}", MANAGER_PLATFORM),
    Case(
        "insights export",
        "get",
        lambda w, r: f"{V1}/insights/export/by-week/?tenant_id={w.tenant.pk}",
        MANAGER_PLATFORM,
        content_type="text/csv",
        template=f"{V1}/insights/export/{{table}}/",
    ),
    Case(
        "insights payroll",
        "get",
        lambda w, r: f"{V1}/insights/payroll/?tenant_id={w.tenant.pk}",
        MANAGER_PLATFORM,
        content_type="text/csv",
    ),
    # Webhooks.
    Case("webhooks list", "get", lambda w, r: f"{V1}/webhooks/?x={webhook(w).pk}", MANAGER),
    Case(
        "webhooks create",
        "post",
        f"{V1}/webhooks/",
        MANAGER,
        ok=201,
        body={"url": "https://8.8.8.8/hook", "events": ["recognition.created"], "format": "slack"},
    ),
    Case("webhooks retrieve", "get", lambda w, r: f"{V1}/webhooks/{webhook(w).pk}/", MANAGER),
    Case("webhooks update", "patch", lambda w, r: f"{V1}/webhooks/{webhook(w).pk}/", MANAGER, body={"format": "teams"}),
    Case("webhooks delete", "delete", lambda w, r: f"{V1}/webhooks/{webhook(w).pk}/", MANAGER, ok=204),
    Case("webhooks rotate secret", "post", lambda w, r: f"{V1}/webhooks/{webhook(w).pk}/rotate-secret/", MANAGER),
    Case(
        "webhooks deliveries",
        "get",
        lambda w, r: f"{V1}/webhooks/{webhook_delivery(w).endpoint_id}/deliveries/",
        MANAGER,
    ),
    Case(
        "webhooks redeliver",
        "post",
        lambda w, r: f"{V1}/webhooks/deliveries/{webhook_delivery(w).pk}/redeliver/",
        MANAGER,
        ok=202,
    ),
    # In-app notifications and e-mail preferences (events/api.py).
    Case("notifications list", "get", lambda w, r: f"{V1}/notifications/?x={notice(w, r).pk}", MEMBERS),
    Case("notifications unread count", "get", f"{V1}/notifications/unread-count/", MEMBERS),
    Case("notification read", "post", lambda w, r: f"{V1}/notifications/{notice(w, r).pk}/read/", MEMBERS),
    Case("notifications read all", "post", f"{V1}/notifications/read-all/", MEMBERS),
    Case("notification preferences", "get", f"{V1}/notifications/preferences/", ROLES[1:]),
    Case(
        "notification preferences update",
        "patch",
        f"{V1}/notifications/preferences/",
        ROLES[1:],
        body={"email": {"books_drift": False, "recognition": True}},
    ),
    # Credentials (identity/api.py).
    Case("api tokens list", "get", f"{V1}/auth/tokens/", ROLES[1:]),
    Case("api tokens list (tenant)", "get", f"{V1}/auth/tokens/?scope=tenant", MANAGER),
    Case(
        "api tokens revoke own",
        "delete",
        lambda w, r: f"{V1}/auth/tokens/{w.api_tokens.get(r, w.api_tokens['employee']).pk}/",
        ROLES[1:],
        ok=204,
    ),
    Case(
        "scim tokens list",
        "get",
        lambda w, r: f"{V1}/integrations/scim-tokens/?tenant_id={w.tenant.pk}",
        MANAGER_PLATFORM,
    ),
    Case(
        "scim tokens create",
        "post",
        f"{V1}/integrations/scim-tokens/",
        MANAGER_PLATFORM,
        ok=201,
        body=lambda w, r: {"name": "Entra", "tenant_id": str(w.tenant.pk)},
    ),
    Case(
        "scim tokens revoke",
        "delete",
        lambda w, r: f"{V1}/integrations/scim-tokens/{w.scim_token.pk}/",
        MANAGER_PLATFORM,
        ok=204,
    ),
    # Automated awards.
    Case("automation rules", "get", f"{V1}/automation/rules/", MANAGER),
    Case(
        "automation rule update",
        "patch",
        f"{V1}/automation/rules/BIRTHDAY/",
        MANAGER,
        body={"is_active": True, "points": 100},
        template=f"{V1}/automation/rules/{{kind}}/",
    ),
    Case("automation runs", "get", lambda w, r: f"{V1}/automation/runs/?x={automation_run(w)}", MANAGER),
]


def automation_run(world):
    """A daily run of the world's tenant (nothing due), so the runs list has a row."""
    if isinstance(world, _Placeholder):
        return "{id}"
    from django.utils import timezone

    from automation.services import run_for_tenant

    return run_for_tenant(tenant_id=world.tenant.pk, day=timezone.localdate()).pk


def notice(world, role):
    """An in-app notice of the caller (the employee's for callers without one), made on first use."""
    if isinstance(world, _Placeholder):
        return SimpleNamespace(pk="{id}")
    from events.models import Notification

    user = getattr(world, role, None) if role in MEMBERS else world.employee
    notification, _ = Notification.objects.get_or_create(
        tenant_id=world.tenant.pk, user=user, event=None, kind="test", defaults={"title": "Hello"}
    )
    return notification


def webhook(world):
    """The world's webhook endpoint, made on first use."""
    if isinstance(world, _Placeholder):
        return SimpleNamespace(pk="{id}")
    if not hasattr(world, "webhook"):
        from webhooks.services import endpoint_create

        world.webhook = endpoint_create(actor=world.manager, url="https://8.8.8.8/hook", events=["*"]).endpoint
    return world.webhook


def webhook_delivery(world):
    """A delivery of an event to the world's webhook endpoint."""
    if isinstance(world, _Placeholder):
        return SimpleNamespace(pk="{id}", endpoint_id="{id}")
    from django.utils import timezone

    from webhooks.models import WebhookDelivery
    from webhooks.payloads import EventMessage
    from webhooks.services import deliveries_for_event

    endpoint = webhook(world)
    deliveries_for_event(EventMessage(uuid.uuid4(), "user.created", world.tenant.pk, timezone.now(), {}))
    return WebhookDelivery.objects.get(endpoint=endpoint)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_role_matrix(world, case: Case, role: str):
    path, body = case.resolve(world, role)
    client = client_for(caller(world, role))
    response = getattr(client, case.method)(path, body) if body is not None else getattr(client, case.method)(path)
    expected = case.expected(role)
    if expected < 300 and case.content_type != "application/json":
        assert response.status_code == expected, (case.name, role)
        assert response["Content-Type"].startswith(case.content_type)
        return
    if expected == 204:  # No Content: nothing to check but the status
        assert response.status_code == expected and not response.content, (case.name, role)
        return
    assert response.status_code == expected, (case.name, role, response.json())
    if response.status_code == 204:  # a deletion answers with no body
        return
    assert response["Content-Type"].startswith("application/json")
    if expected in (401, 403):
        code = "not_authenticated" if expected == 401 else "permission_denied"
        assert response.json()["code"] == code
    elif case.method == "get" and "results" in response.json():
        listed = response.json()
        # Allowed lists show the rows of the world (a keyset list has no count).
        assert listed.get("count", len(listed["results"])) >= 1, (case.name, role)


def test_the_role_matrix_covers_every_route_of_the_api():
    """A new endpoint without a row in the matrix fails here (each path × method is listed)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    covered = set()
    for case in CASES:
        example = case.path if isinstance(case.path, str) else case.path(_PLACEHOLDER, "manager")
        covered.add((case.method, _template(case.template or example)))
    assert {(m, _template(p)) for m, p in documented} <= covered


class _Placeholder:
    def __getattr__(self, name):
        return SimpleNamespace(pk="{id}", tenant="{id}", email="x")

    def __getitem__(self, name):
        return SimpleNamespace(pk="{id}")

    @property
    def redemptions(self):
        return {"employee": SimpleNamespace(pk="{id}")}

    @property
    def api_tokens(self):
        return {"employee": SimpleNamespace(pk="{id}")}


_PLACEHOLDER = _Placeholder()


def _template(path: str) -> str:
    """`/api/v1/users/<uuid>/?x=1` and `/api/v1/users/{id}/` → `/api/v1/users/{}/`."""
    import re

    path = path.split("?")[0].rstrip("/")
    path = re.sub(r"\{[a-z_]+\}", "{}", path)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{}", path)


# --- cross-tenant ----------------------------------------------------------------------------------------------------


@pytest.fixture
def tenant_b(platform_admin):
    """Tenant B, with a member, a lead with budget, a recognition, a reward and a redemption."""
    other = TenantFactory(name="Bravo Corp", slug="bravo")
    manager = ManagerFactory(tenant=other)
    lead = LeadFactory(tenant=other)
    employee = UserFactory(tenant=other)
    allocation = tenant_allocate(actor=platform_admin, tenant_id=other.pk, amount=5_000)
    delegation = lead_delegate(actor=manager, lead_id=lead.pk, amount=1_000).log
    award = recognition_create(giver=manager, recipient_ids=[employee.pk], points=500, message="B")
    reward = reward_create(actor=manager, name="B voucher", points_cost=100, stock=3)
    redemption = redemption_create(user=employee, reward_id=reward.pk).redemption
    team = team_create(tenant=other, name="B team")
    value = value_create(actor=manager, name="B value", hashtag="bvalue")
    comment = comment_create(author=employee, recognition_id=award.group_id, text="B comment")
    return SimpleNamespace(
        tenant=other,
        team=team,
        value=value,
        comment=comment,
        manager=manager,
        lead=lead,
        employee=employee,
        allocation_log=allocation.allocation_log,
        delegation=delegation,
        budget=LeadBudget.objects.get(lead=lead),
        recognition=award.recognitions[0],
        reward=reward,
        redemption=redemption,
        api_token=api_token_issue(user=employee)[0],
        scim_token=scim_token_create(tenant=other, name="B's Okta", actor=manager)[0],
    )


@dataclass(frozen=True)
class Cross:
    name: str
    role: str  # the caller, a member of tenant A
    method: str
    request: object  # (b, an_id_of_b_or_random) -> (path, body)
    pick: object  # b -> the id of tenant B that is sent
    status: int = 404


CROSS = [
    Cross(
        "delegate lead_id",
        "manager",
        "post",
        lambda b, x: (f"{V1}/points/delegate-to-lead", {"lead_id": x, "amount": 10}),
        lambda b: b.lead.pk,
    ),
    Cross(
        "recall lead_id",
        "manager",
        "post",
        lambda b, x: (f"{V1}/points/recall-from-lead", {"lead_id": x, "amount": 10}),
        lambda b: b.lead.pk,
    ),
    Cross(
        "award to_user_id (manager)",
        "manager",
        "post",
        lambda b, x: (f"{V1}/points/award-to-user", {"to_user_id": x, "amount": 10, "recognition_message": "x"}),
        lambda b: b.employee.pk,
    ),
    Cross(
        "award to_user_id (lead)",
        "lead",
        "post",
        lambda b, x: (f"{V1}/points/award-to-user", {"to_user_id": x, "amount": 10, "recognition_message": "x"}),
        lambda b: b.employee.pk,
    ),
    Cross(
        "recognition to_user_id",
        "manager",
        "post",
        lambda b, x: (f"{V1}/recognitions/", {"to_user_id": x, "points": 10, "message": "x"}),
        lambda b: b.employee.pk,
    ),
    Cross(
        "recognition to_user_ids",
        "manager",
        "post",
        lambda b, x: (f"{V1}/recognitions/", {"to_user_ids": [x], "points": 10, "message": "x"}),
        lambda b: b.employee.pk,
    ),
    Cross(
        "kudos to_user_id (employee)",
        "employee",
        "post",
        lambda b, x: (f"{V1}/recognitions/", {"to_user_id": x, "points": 0, "message": "x"}),
        lambda b: b.employee.pk,
    ),
    Cross(
        "seed recognition to_user_id",
        "manager",
        "post",
        lambda b, x: ("/api/recognitions", {"to_user_id": x, "points": 10, "message": "x"}),
        lambda b: b.manager.pk,
    ),
    Cross(
        "recognition retrieve",
        "employee",
        "get",
        lambda b, x: (f"{V1}/recognitions/{x}/", None),
        lambda b: b.recognition.pk,
    ),
    Cross(
        "redeem reward_id",
        "employee",
        "post",
        lambda b, x: (f"{V1}/redemptions/", {"reward_id": x}),
        lambda b: b.reward.pk,
    ),
    Cross("reward retrieve", "employee", "get", lambda b, x: (f"{V1}/rewards/{x}/", None), lambda b: b.reward.pk),
    Cross(
        "reward update",
        "manager",
        "patch",
        lambda b, x: (f"{V1}/rewards/{x}/", {"points_cost": 1}),
        lambda b: b.reward.pk,
    ),
    Cross(
        "redemption retrieve",
        "manager",
        "get",
        lambda b, x: (f"{V1}/redemptions/{x}/", None),
        lambda b: b.redemption.pk,
    ),
    Cross(
        "redemption refund",
        "manager",
        "post",
        lambda b, x: (f"{V1}/redemptions/{x}/refund/", None),
        lambda b: b.redemption.pk,
    ),
    Cross("user retrieve", "manager", "get", lambda b, x: (f"{V1}/users/{x}/", None), lambda b: b.employee.pk),
    Cross(
        "user change role",
        "manager",
        "patch",
        lambda b, x: (f"{V1}/users/{x}/", {"role": "tenant_lead"}),
        lambda b: b.employee.pk,
    ),
    Cross(
        "user deactivate",
        "manager",
        "patch",
        lambda b, x: (f"{V1}/users/{x}/", {"is_active": False}),
        lambda b: b.employee.pk,
    ),
    Cross(
        "user create tenant_id",
        "manager",
        "post",
        lambda b, x: (
            f"{V1}/users/",
            {"email": "spy@b.test", "full_name": "Spy", "role": "employee", "password": PASSWORD, "tenant_id": x},
        ),
        lambda b: b.tenant.pk,
    ),
    Cross(
        "allocation-log retrieve",
        "manager",
        "get",
        lambda b, x: (f"{V1}/points/allocation-logs/{x}/", None),
        lambda b: b.allocation_log.pk,
    ),
    Cross(
        "delegation retrieve",
        "manager",
        "get",
        lambda b, x: (f"{V1}/points/delegations/{x}/", None),
        lambda b: b.delegation.pk,
    ),
    Cross(
        "delegation retrieve (lead)",
        "lead",
        "get",
        lambda b, x: (f"{V1}/points/delegations/{x}/", None),
        lambda b: b.delegation.pk,
    ),
    Cross(
        "lead-budget retrieve",
        "manager",
        "get",
        lambda b, x: (f"{V1}/points/lead-budgets/{x}/", None),
        lambda b: b.budget.pk,
    ),
    Cross(
        "notification read",
        "employee",
        "post",
        lambda b, x: (f"{V1}/notifications/{x}/read/", None),
        lambda b: (
            __import__("events.models")
            .models.Notification.objects.create(tenant_id=b.tenant.pk, user=b.employee, kind="test", title="B's")
            .pk
        ),
    ),
    Cross(
        "api token revoke",
        "manager",
        "delete",
        lambda b, x: (f"{V1}/auth/tokens/{x}/", None),
        lambda b: b.api_token.pk,
    ),
    Cross(
        "scim token revoke",
        "manager",
        "delete",
        lambda b, x: (f"{V1}/integrations/scim-tokens/{x}/", None),
        lambda b: b.scim_token.pk,
    ),
    # People: another tenant's member, team or manager is never ours to see, edit or name.
    Cross("user photo", "manager", "delete", lambda b, x: (f"{V1}/users/{x}/photo/", None), lambda b: b.employee.pk),
    Cross("team retrieve", "manager", "get", lambda b, x: (f"{V1}/teams/{x}/", None), lambda b: b.team.pk),
    Cross("team rename", "manager", "patch", lambda b, x: (f"{V1}/teams/{x}/", {"name": "Mine"}), lambda b: b.team.pk),
    Cross("team delete", "manager", "delete", lambda b, x: (f"{V1}/teams/{x}/", None), lambda b: b.team.pk),
    Cross(
        "team create parent_id",
        "manager",
        "post",
        lambda b, x: (f"{V1}/teams/", {"name": "Child", "parent_id": x}),
        lambda b: b.team.pk,
    ),
    Cross(
        "user create team_id",
        "manager",
        "post",
        lambda b, x: (
            f"{V1}/users/",
            {"email": "t@a.test", "full_name": "T", "role": "employee", "password": PASSWORD, "team_id": x},
        ),
        lambda b: b.team.pk,
    ),
    Cross(
        "user create manager_id",
        "manager",
        "post",
        lambda b, x: (
            f"{V1}/users/",
            {"email": "m@a.test", "full_name": "M", "role": "employee", "password": PASSWORD, "manager_id": x},
        ),
        lambda b: b.manager.pk,
    ),
    Cross(
        "user set manager_id",
        "manager",
        "patch",
        lambda b, x: (f"{V1}/users/{b.own_employee}/", {"manager_id": x}),
        lambda b: b.manager.pk,
    ),
    Cross(
        "user set team_id",
        "manager",
        "patch",
        lambda b, x: (f"{V1}/users/{b.own_employee}/", {"team_id": x}),
        lambda b: b.team.pk,
    ),
    Cross(
        "users ?team_id",
        "manager",
        "get",
        lambda b, x: (f"{V1}/users/?team_id={x}", None),
        lambda b: b.team.pk,
        200,
    ),
    # Peer recognition (SPEC §10).
    Cross(
        "react to a recognition",
        "employee",
        "post",
        lambda b, x: (f"{V1}/recognitions/{x}/reactions/", {"emoji": "👏"}),
        lambda b: b.recognition.pk,
    ),
    Cross(
        "react to a recognition group",
        "employee",
        "post",
        lambda b, x: (f"{V1}/recognitions/{x}/reactions/", {"emoji": "👏"}),
        lambda b: b.recognition.group_id,
    ),
    Cross(
        "take back a reaction",
        "employee",
        "delete",
        lambda b, x: (f"{V1}/recognitions/{x}/reactions/", {"emoji": "👏"}),
        lambda b: b.recognition.pk,
    ),
    Cross(
        "comment on a recognition",
        "employee",
        "post",
        lambda b, x: (f"{V1}/recognitions/{x}/comments/", {"text": "hi"}),
        lambda b: b.recognition.pk,
    ),
    Cross(
        "read a recognition's comments",
        "employee",
        "get",
        lambda b, x: (f"{V1}/recognitions/{x}/comments/", None),
        lambda b: b.recognition.pk,
    ),
    Cross(
        "add on to a recognition",
        "manager",
        "post",
        lambda b, x: (f"{V1}/recognitions/{x}/add-on/", {"points": 10}),
        lambda b: b.recognition.pk,
    ),
    Cross("delete a comment", "employee", "delete", lambda b, x: (f"{V1}/comments/{x}/", None), lambda b: b.comment.pk),
    Cross("hide a comment", "manager", "post", lambda b, x: (f"{V1}/comments/{x}/hide/", None), lambda b: b.comment.pk),
    Cross("value retrieve", "employee", "get", lambda b, x: (f"{V1}/values/{x}/", None), lambda b: b.value.pk),
    Cross(
        "value update",
        "manager",
        "patch",
        lambda b, x: (f"{V1}/values/{x}/", {"name": "Mine now"}),
        lambda b: b.value.pk,
    ),
    Cross(
        "boost user_id",
        "manager",
        "post",
        lambda b, x: (f"{V1}/allowances/{x}/boost/", {"amount": 10, "reason": "x"}),
        lambda b: b.employee.pk,
    ),
    # Filters with another tenant's ids: the same (empty) answer as a random id.
    Cross(
        "feed of cards ?value_id",
        "employee",
        "get",
        lambda b, x: (f"{V1}/feed/?value_id={x}", None),
        lambda b: b.value.pk,
        200,
    ),
    Cross(
        "feed of cards ?giver_id",
        "employee",
        "get",
        lambda b, x: (f"{V1}/feed/?giver_id={x}", None),
        lambda b: b.manager.pk,
        200,
    ),
    Cross(
        "users ?tenant_id",
        "manager",
        "get",
        lambda b, x: (f"{V1}/users/?tenant_id={x}", None),
        lambda b: b.tenant.pk,
        200,
    ),
    Cross(
        "allocation-logs ?tenant_id",
        "manager",
        "get",
        lambda b, x: (f"{V1}/points/allocation-logs/?tenant_id={x}", None),
        lambda b: b.tenant.pk,
        200,
    ),
    Cross(
        "delegations ?lead_id",
        "manager",
        "get",
        lambda b, x: (f"{V1}/points/delegations/?lead_id={x}", None),
        lambda b: b.lead.pk,
        200,
    ),
    Cross(
        "feed ?giver_id",
        "employee",
        "get",
        lambda b, x: (f"{V1}/recognitions/?giver_id={x}", None),
        lambda b: b.manager.pk,
        200,
    ),
    Cross(
        "redemptions ?user_id",
        "manager",
        "get",
        lambda b, x: (f"{V1}/redemptions/?user_id={x}", None),
        lambda b: b.employee.pk,
        200,
    ),
]


@pytest.mark.parametrize("case", CROSS, ids=[c.name for c in CROSS])
def test_cross_tenant_matrix(world, tenant_b, case: Cross):
    client = client_for(getattr(world, case.role))
    send = getattr(client, case.method)
    tenant_b.own_employee = world.employee.pk  # for the cases that edit one of ours with B's id
    before = books()

    def call(an_id):
        path, body = case.request(tenant_b, str(an_id))
        return send(path, body) if body is not None else send(path)

    foreign = call(case.pick(tenant_b))
    missing = call(uuid.uuid4())
    assert foreign.status_code == missing.status_code == case.status, (foreign.json(), missing.json())
    assert foreign.json() == missing.json()
    if case.status == 200:
        body = foreign.json()
        assert body.get("count", len(body["results"])) == 0
    assert books() == before
