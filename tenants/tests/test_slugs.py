"""Slugs are unique across tenants through `tenant_slugs`, not a unique index on `tenants`
(docs/SCALING.md): every create and change writes the slug row in the same transaction."""

from __future__ import annotations

import importlib
import json
from io import StringIO

import pytest
from django.core.management import call_command

from perksu.errors import DomainError
from perksu.testing import run_together
from tenants.models import PLATFORM_TENANT_ID, PLATFORM_TENANT_SLUG, Tenant, TenantSlug, platform_tenant
from tenants.services import tenant_change_slug, tenant_create


@pytest.fixture
def console(client, platform_admin):
    client.force_login(platform_admin)
    return client


def slug_rows() -> set[tuple[str, str]]:
    return {(slug, str(tenant_id)) for slug, tenant_id in TenantSlug.objects.values_list("slug", "tenant_id")}


def test_a_new_tenant_holds_its_slug(db):
    tenant = tenant_create(name="Nova Labs", slug=" Nova-Labs ")
    assert TenantSlug.objects.get(slug="nova-labs").tenant_id == tenant.pk


def test_a_duplicate_slug_is_refused_and_writes_nothing(tenant):
    before = (slug_rows(), Tenant.objects.count())
    with pytest.raises(DomainError) as refused:
        tenant_create(name="Again", slug="TRITON-energy")
    assert (refused.value.code, refused.value.message) == (
        "duplicate_slug",
        "A tenant with slug 'triton-energy' already exists.",
    )
    assert (slug_rows(), Tenant.objects.count()) == before


def test_nobody_takes_the_platforms_slug(db):
    platform_tenant()
    assert TenantSlug.objects.get(slug=PLATFORM_TENANT_SLUG).tenant_id == PLATFORM_TENANT_ID
    with pytest.raises(DomainError) as refused:
        tenant_create(name="Impostor", slug=PLATFORM_TENANT_SLUG)
    assert refused.value.code == "duplicate_slug"
    assert not Tenant.objects.filter(slug=PLATFORM_TENANT_SLUG).exists()


def test_a_change_of_slug_frees_the_old_one(tenant):
    tenant_change_slug(tenant=tenant, slug="Triton")
    assert Tenant.objects.get(pk=tenant.pk).slug == tenant.slug == "triton"
    assert TenantSlug.objects.get(tenant_id=tenant.pk).slug == "triton"
    newcomer = tenant_create(name="Triton Energy Two", slug="triton-energy")
    assert TenantSlug.objects.get(slug="triton-energy").tenant_id == newcomer.pk


def test_a_change_to_a_taken_slug_is_refused_and_changes_nothing(tenant, other_tenant):
    before = slug_rows()
    for taken in ("other-corp", PLATFORM_TENANT_SLUG):
        platform_tenant()
        with pytest.raises(DomainError) as refused:
            tenant_change_slug(tenant=tenant, slug=taken)
        assert refused.value.code == "duplicate_slug"
    with pytest.raises(DomainError) as refused:
        tenant_change_slug(tenant=tenant, slug="not a slug")
    assert (refused.value.code, refused.value.field) == ("invalid", "slug")
    assert Tenant.objects.get(pk=tenant.pk).slug == tenant.slug == "triton-energy"
    assert slug_rows() == before


def test_the_console_changes_a_slug_and_refuses_a_taken_one(console, tenant, other_tenant):
    form = {
        "name": "Triton Energy",
        "slug": "other-corp",
        "status": "ACTIVE",
        "currency_label": "Points",
        "point_value": "1",
        "low_balance_threshold": "100",
        "max_award_points": "",
    }
    url = f"/admin/tenants/tenant/{tenant.pk}/change/"
    response = console.post(url, form)
    assert response.status_code == 200
    assert "Tenant with this Slug already exists." in response.content.decode()
    assert Tenant.objects.get(pk=tenant.pk).slug == "triton-energy"
    assert console.post(url, {**form, "slug": "Triton"}).status_code == 302
    assert Tenant.objects.get(pk=tenant.pk).slug == "triton"
    assert TenantSlug.objects.get(tenant_id=tenant.pk).slug == "triton"
    assert not TenantSlug.objects.filter(slug="triton-energy").exists()


def test_the_migration_gives_every_tenant_its_row_the_platform_included(tenant, other_tenant):
    from django.apps import apps

    backfill = importlib.import_module("tenants.migrations.0006_tenant_slugs").slug_rows
    platform_tenant()
    TenantSlug.objects.all().delete()
    backfill(apps, None)
    assert slug_rows() == {
        ("triton-energy", str(tenant.pk)),
        ("other-corp", str(other_tenant.pk)),
        (PLATFORM_TENANT_SLUG, str(PLATFORM_TENANT_ID)),
    }


def test_reconcile_reports_a_missing_or_foreign_slug_row(tenant, other_tenant):
    TenantSlug.objects.filter(tenant_id=tenant.pk).delete()
    TenantSlug.objects.filter(tenant_id=other_tenant.pk).update(tenant_id=tenant.pk)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("reconcile", "--json", stdout=out)
    drifts = {report["slug"]: report["drifts"] for report in json.loads(out.getvalue())}
    assert drifts == {
        "other-corp": [f"slug 'other-corp' is held by another tenant ({tenant.pk})"],
        "triton-energy": ["slug 'triton-energy' has no row in tenant_slugs"],
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_slug_exactly_one_wins():
    def create(i: int):
        return tenant_create(name=f"Racer {i}", slug="racer")

    results = run_together(6, create)
    won = [r for r in results if isinstance(r, Tenant)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert (len(won), len(refused)) == (1, 5), results
    assert {r.code for r in refused} == {"duplicate_slug"}
    assert list(Tenant.objects.filter(slug="racer").values_list("pk", flat=True)) == [won[0].pk]
    assert TenantSlug.objects.get(slug="racer").tenant_id == won[0].pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_to_one_slug_exactly_one_wins():
    tenants = [tenant_create(name=f"Mover {i}", slug=f"mover-{i}") for i in range(4)]

    def change(i: int):
        return tenant_change_slug(tenant=tenants[i], slug="wanted")

    results = run_together(4, change)
    won = [r for r in results if isinstance(r, Tenant)]
    assert len(won) == 1, results
    assert all(isinstance(r, DomainError) and r.code == "duplicate_slug" for r in results if r is not won[0])
    assert list(Tenant.objects.filter(slug="wanted").values_list("pk", flat=True)) == [won[0].pk]
    assert slug_rows() == {("wanted", str(won[0].pk))} | {(t.slug, str(t.pk)) for t in tenants if t.pk != won[0].pk}
