"""Login e-mails are unique across tenants through `user_emails`, not a unique index on `users`
(docs/SCALING.md): every path that creates a user or changes an e-mail writes the e-mail's row in
the same transaction, the login reads it, and reconcile checks it both ways."""

from __future__ import annotations

import importlib
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from identity.services import scim_token_create
from people.imports import members_import
from perksu.errors import DomainError
from perksu.testing import run_together
from points.reconcile import reconcile
from tenants.models import PLATFORM_TENANT_ID, Role, User, UserEmail
from tenants.services import user_create, user_update_identity
from wallets.models import Wallet


def email_rows() -> set[tuple[str, str, str]]:
    return {(e, str(t), str(u)) for e, t, u in UserEmail.objects.values_list("email", "tenant_id", "user_id")}


def held(user: User) -> set[tuple[str, str, str]]:
    return {(user.email.lower(), str(user.tenant_id), str(user.pk))}


def test_every_user_holds_their_email_staff_included(employee, manager, platform_admin):
    assert email_rows() == held(employee) | held(manager) | held(platform_admin)
    assert UserEmail.objects.get(user_id=platform_admin.pk).tenant_id == PLATFORM_TENANT_ID


def test_an_email_held_in_another_tenant_is_refused_in_any_case_and_nothing_is_written(employee, other_tenant):
    before_users, before_wallets, before_rows = User.objects.count(), Wallet.objects.count(), email_rows()
    with pytest.raises(DomainError) as refused:
        user_create(
            email=employee.email.upper(), full_name="Twin", role=Role.EMPLOYEE, password=None, tenant=other_tenant
        )
    assert refused.value.code == "duplicate_email"
    assert (User.objects.count(), Wallet.objects.count(), email_rows()) == (before_users, before_wallets, before_rows)


def test_a_changed_email_moves_its_row_and_frees_the_old_one(employee, other_tenant):
    old = employee.email
    user_update_identity(user=employee, email="  New.Address@Example.TEST ")
    employee.refresh_from_db()
    assert employee.email == "new.address@example.test"
    assert email_rows() >= held(employee) and not UserEmail.objects.filter(email=old).exists()
    taker = user_create(email=old, full_name="Next", role=Role.EMPLOYEE, password=None, tenant=other_tenant)
    assert UserEmail.objects.get(email=old).user_id == taker.pk


def test_changing_to_an_email_someone_holds_is_refused_and_nothing_changes(employee, outsider):
    before = email_rows()
    with pytest.raises(DomainError) as refused:
        user_update_identity(user=employee, email=outsider.email.upper(), full_name="Renamed")
    assert refused.value.code == "duplicate_email"
    assert employee.email != outsider.email.lower() and employee.full_name != "Renamed"  # the instance is restored
    employee.refresh_from_db()
    assert employee.full_name != "Renamed" and email_rows() == before


def test_an_email_changes_only_through_the_model_or_the_service(employee):
    with pytest.raises(TypeError, match="user_emails"):
        User.objects.filter(pk=employee.pk).update(email="sneaky@example.test")
    with pytest.raises(TypeError):
        User.objects.bulk_create([User(email="x@example.test", tenant=employee.tenant)], ignore_conflicts=True)


def test_bulk_create_and_delete_keep_the_rows(tenant):
    users = User.objects.bulk_create(
        [User(email=f"Bulk{i}@Example.test", full_name=f"Bulk {i}", tenant=tenant) for i in range(3)]
    )
    assert {(e, u) for e, _, u in email_rows()} >= {(f"bulk{i}@example.test", str(users[i].pk)) for i in range(3)}
    users[0].delete()
    User.objects.filter(pk__in=[users[1].pk, users[2].pk]).delete()
    assert not UserEmail.objects.filter(user_id__in=[u.pk for u in users]).exists()


def test_a_save_names_the_tenant_in_its_update(employee):
    employee.full_name = "Renamed"
    with CaptureQueriesContext(connection) as ctx:
        employee.save(update_fields=["full_name"])
    (update,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert '"tenant_id" = ' in update and '"id" = ' in update, update


def test_the_login_finds_the_user_through_user_emails_in_any_case(employee, platform_admin, password):
    for user in (employee, platform_admin):
        answer = APIClient().post("/api/v1/auth/token/", {"email": user.email.upper(), "password": password})
        assert answer.status_code == 200, answer.content
    # A row that names nobody signs nobody in, even with the right password on a matching `users` row.
    UserEmail.objects.filter(user_id=employee.pk).delete()
    answer = APIClient().post("/api/v1/auth/token/", {"email": employee.email, "password": password})
    assert answer.status_code == 401


def test_the_import_writes_each_new_members_row_and_refuses_an_email_held_elsewhere(manager, outsider):
    data = (
        "email,full_name,role\n"
        f"{manager.email},{manager.full_name},tenant_manager\n"
        "Fresh.One@Example.test,Fresh One,employee\n"
        "fresh.two@example.test,Fresh Two,employee\n"
    ).encode()
    answer = members_import(tenant=manager.tenant, actor=manager, data=data, dry_run=False)
    assert answer.errors == [] and answer.created == 2
    fresh = User.objects.filter(tenant=manager.tenant, email__startswith="fresh.")
    assert {(e, t, u) for e, t, u in email_rows() if e.startswith("fresh.")} == set().union(*(held(u) for u in fresh))
    taken = f"email,full_name,role\n{outsider.email.upper()},Outsider,employee\n".encode()
    refused = members_import(tenant=manager.tenant, actor=manager, data=taken, dry_run=False)
    assert [e["column"] for e in refused.errors] == ["email"]
    assert UserEmail.objects.get(email=outsider.email).user_id == outsider.pk


def test_scim_and_the_console_move_the_row(tenant, manager, employee, outsider, platform_admin):
    scim = Client(HTTP_AUTHORIZATION=f"Bearer {scim_token_create(tenant=tenant, name='Okta', actor=manager)[1]}")

    def patch(email: str):
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "userName", "value": email}],
        }
        return scim.patch(f"/scim/v2/Users/{employee.pk}", data=json.dumps(body), content_type="application/scim+json")

    assert patch("Moved@Example.test").status_code == 200
    assert UserEmail.objects.get(user_id=employee.pk).email == "moved@example.test"
    assert patch(outsider.email).status_code == 409
    assert UserEmail.objects.get(user_id=employee.pk).email == "moved@example.test"

    console = Client()
    console.force_login(platform_admin)
    url = f"/admin/tenants/user/{employee.pk}/change/"
    form = {"email": "console@example.test", "full_name": employee.full_name, "role": employee.role, "is_active": "on"}
    assert console.post(url, form).status_code == 302
    assert UserEmail.objects.get(user_id=employee.pk).email == "console@example.test"
    form["email"] = outsider.email
    assert console.post(url, form).status_code == 200  # the form's error
    assert UserEmail.objects.get(user_id=employee.pk).email == "console@example.test"


def test_reconcile_reports_a_missing_a_stale_and_an_orphan_row(
    tenant, other_tenant, employee, other_employee, outsider
):
    UserEmail.objects.filter(user_id=employee.pk).delete()
    UserEmail.objects.filter(user_id=outsider.pk).update(email="stale@example.test")
    UserEmail.objects.create(email="ghost@example.test", tenant_id=tenant.pk, user_id=other_tenant.pk)
    drifts = {r.slug: [d for d in r.drifts if "user_emails" in d] for r in reconcile()}
    assert drifts[tenant.slug] == ["1 member(s) whose login e-mail is not held for them in user_emails"]
    assert drifts[other_tenant.slug] == ["1 member(s) whose login e-mail is not held for them in user_emails"]
    UserEmail.objects.create(email=employee.email, tenant_id=tenant.pk, user_id=employee.pk)
    UserEmail.objects.filter(user_id=outsider.pk).update(email=outsider.email)
    drifts = {r.slug: [d for d in r.drifts if "user_emails" in d] for r in reconcile()}
    members = User.objects.filter(tenant=tenant).count()
    assert drifts[tenant.slug] == [f"{members + 1} row(s) in user_emails for {members} members"]
    UserEmail.objects.filter(email="ghost@example.test").delete()
    out = StringIO()
    call_command("reconcile", "--json", stdout=out)
    assert all(report["drifts"] == [] for report in json.loads(out.getvalue()))


def test_the_migration_gives_every_user_their_row_and_refuses_two_spellings_of_one_address(employee, platform_admin):
    migration = importlib.import_module("tenants.migrations.0008_user_emails")
    expected = email_rows()
    UserEmail.objects.all().delete()
    migration.email_rows(apps, type("Editor", (), {"connection": connection})())
    assert email_rows() == expected
    UserEmail.objects.all().delete()
    User.objects.filter(pk=platform_admin.pk)._update([(User._meta.get_field("email"), None, employee.email.upper())])
    with pytest.raises(RuntimeError, match=employee.email.lower()):
        migration.email_rows(apps, type("Editor", (), {"connection": connection})())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_email_in_different_tenants_exactly_one_wins():
    from tenants.tests.factories import TenantFactory

    tenants = [TenantFactory() for _ in range(6)]

    def create(i: int):
        return user_create(
            email="racer@example.test", full_name="Racer", role=Role.EMPLOYEE, password=None, tenant=tenants[i]
        )

    results = run_together(6, create)
    won = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert (len(won), len(refused)) == (1, 5), results
    assert {r.code for r in refused} == {"duplicate_email"}
    assert list(User.objects.filter(email="racer@example.test").values_list("pk", flat=True)) == [won[0].pk]
    assert UserEmail.objects.get(email="racer@example.test").user_id == won[0].pk
    assert Wallet.objects.filter(user__email="racer@example.test").count() == 1
