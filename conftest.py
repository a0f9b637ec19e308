"""Fixtures shared by every app's tests.

Balances are put in place by calling the services (allocate, delegate, award),
never by writing balance fields.
"""

import os

import pytest
from django.core.cache import cache
from django.db import connection

from perksu import citus
from points.services import lead_delegate, tenant_allocate
from recognition.services import recognition_create
from tenants.tests.factories import (
    PASSWORD,
    LeadFactory,
    ManagerFactory,
    PlatformAdminFactory,
    TenantFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters (wrong passwords, money POSTs) live in the cache: each test starts with none."""
    cache.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def platform_admin(db):
    return PlatformAdminFactory(email="admin@platform.test", full_name="Platform Admin")


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Triton Energy", slug="triton-energy")


@pytest.fixture
def manager(tenant):
    return ManagerFactory(tenant=tenant, email="manager@triton.test", full_name="Maya Manager")


@pytest.fixture
def lead(tenant):
    return LeadFactory(tenant=tenant, email="lead@triton.test", full_name="Leo Lead")


@pytest.fixture
def employee(tenant):
    return UserFactory(tenant=tenant, email="employee@triton.test", full_name="Asha Employee")


@pytest.fixture
def other_employee(tenant):
    return UserFactory(tenant=tenant, email="rahul@triton.test", full_name="Rahul Employee")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Other Corp", slug="other-corp")


@pytest.fixture
def outsider(other_tenant):
    """A member of another tenant: must never see or touch `tenant`'s data."""
    return UserFactory(tenant=other_tenant, email="outsider@other.test", full_name="Olga Outsider")


@pytest.fixture
def allocate(platform_admin):
    def _allocate(tenant, amount, note="Invoice #8842"):
        return tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=amount, reference_note=note)

    return _allocate


@pytest.fixture
def funded_tenant(tenant, allocate):
    """`tenant` with 50,000 points in its pool."""
    allocate(tenant, 50_000)
    tenant.refresh_from_db()
    return tenant


@pytest.fixture
def funded_lead(funded_tenant, manager, lead):
    """`lead` with a 10,000-point budget delegated from the pool (pool left: 40,000)."""
    lead_delegate(actor=manager, lead_id=lead.pk, amount=10_000, note="Q4 budget")
    lead.refresh_from_db()
    return lead


@pytest.fixture
def award():
    def _award(giver, recipients, points, message="Great work", **kwargs):
        ids = [r.pk for r in (recipients if isinstance(recipients, list | tuple) else [recipients])]
        return recognition_create(giver=giver, recipient_ids=ids, points=points, message=message, **kwargs)

    return _award


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


AWARD_SQL = ("function", "statement")
"""How PostgreSQL runs a plain award (settings.AWARD_SQL): the award function, and the one statement it replaced."""


@pytest.fixture
def award_sql(request, settings):
    """A test using this fixture (or `usefixtures("award_sql")`) runs once per way PostgreSQL can run a
    plain award, so both are held to the same figures and refusals; on SQLite, which has neither, once."""
    settings.AWARD_SQL = request.param
    return request.param


def pytest_generate_tests(metafunc):
    if "award_sql" in metafunc.fixturenames:
        # On Citus only the function is a way to award: it runs whole on the tenant's worker, while
        # the one statement's parts are planned on the coordinator and refused (docs/SCALING.md 3.4).
        plain = connection.vendor == "postgresql" and not citus_enabled()
        paths = AWARD_SQL if plain else AWARD_SQL[:1]
        metafunc.parametrize("award_sql", paths, indirect=True)


def citus_enabled() -> bool:
    """A Citus run: DATABASE_URL points at the coordinator and CITUS_WORKER_URLS lists the workers."""
    return bool(citus.worker_urls()) and connection.vendor == "postgresql"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On Citus, after pytest-django has created and migrated the test database on the
    coordinator: the same database on every worker, the extension on every node, the workers
    registered, the tables distributed (perksu/citus.py). What Citus refuses is printed at the
    end of the run (and written to CITUS_REPORT if set); the refused tables stay local."""
    if not citus_enabled():
        yield
        return
    workers = citus.worker_urls()
    name = connection.settings_dict["NAME"]
    coordinator = (connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432))
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        citus.prepare_cluster(cursor, name, coordinator, workers)
        outcomes = citus.distribute(cursor)
    if os.environ.get("CITUS_REPORT"):
        with open(os.environ["CITUS_REPORT"], "w") as out:
            out.write(citus.report(outcomes) + "\n")
    yield
    with django_db_blocker.unblock():
        connection.close()
        for url in workers:
            citus.drop_on_worker(url, name)


def pytest_terminal_summary(terminalreporter):
    if citus.distribute_outcomes():
        terminalreporter.section("Citus distribution")
        terminalreporter.write_line(citus.report(citus.distribute_outcomes()))


_MIGRATIONS_ON_CITUS = (
    "runs migrations backwards and forwards: on Citus a schema change is a forward migration run on "
    "the coordinator, and distributed tables do not migrate back (docs/SCALING.md 3.4)"
)
_THE_ONE_STATEMENT = (
    "compares the award function with the one-statement award, a plain-PostgreSQL baseline that "
    "Citus refuses (docs/SCALING.md 3.4)"
)
# Tests of what only plain PostgreSQL does (node id, or its start → why); on Citus they skip, saying why.
PLAIN_POSTGRES_ONLY = {
    "tenants/tests/test_foundation.py::test_every_migration_reverses": _MIGRATIONS_ON_CITUS,
    "perksu/tests/test_tenant_keys.py::test_an_older_database_converts_to_what_a_fresh_migrate_writes": (
        _MIGRATIONS_ON_CITUS
    ),
    "events/tests/test_platform_rows.py::test_the_migrations_move_rows_without_a_tenant": _MIGRATIONS_ON_CITUS,
    "recognition/tests/test_award_function.py::test_the_function_and_the_statement_agree": _THE_ONE_STATEMENT,
    "recognition/tests/test_award_function.py::test_the_cases_reach_every_outcome": _THE_ONE_STATEMENT,
    "recognition/tests/test_award_function.py::test_a_broken_function_is_caught": _THE_ONE_STATEMENT,
    "recognition/tests/test_one_statement_award.py::test_a_balance_taken_mid_statement": (
        "watches for the award's lock wait in this server's pg_stat_activity: on Citus the award waits on "
        "the tenant's worker"
    ),
    "recognition/tests/test_one_statement_award.py::test_the_paying_row_is_locked_after_the_wallets": (
        "watches for the award's lock wait in this server's pg_stat_activity: on Citus the award waits on "
        "the tenant's worker"
    ),
    "recognition/tests/test_one_statement_award.py::test_a_budget_or_allowance_taken_mid_statement": (
        "watches for the award's lock wait in this server's pg_stat_activity: on Citus the award waits on "
        "the tenant's worker"
    ),
    "bench/tests/test_baselines.py::test_distribute_sql": (
        "the bench's hand-SQL baselines are for one PostgreSQL server (docs/PERFORMANCE.md)"
    ),
    "bench/tests/test_baselines.py::test_reconcile_sql": (
        "the bench's hand-SQL baselines are for one PostgreSQL server (docs/PERFORMANCE.md)"
    ),
    "tenants/tests/test_fields.py::test_an_exclude_across_the_relation_is_right_on_one_server": (
        "Django's exclude() subquery across a relation is correlated by the id alone; Citus refuses it "
        "(docs/SCALING.md 3.4): code names the tenant in an Exists() instead"
    ),
    "points/tests/test_reconcile.py::test_negative_balance_is_reported": (
        "drops a check constraint inside its transaction to write an impossible balance: Citus refuses "
        "ALTER TABLE on a table with pending trigger events"
    ),
}
# Tests of prepared statements: they skip when DATABASE_PREPARED_STATEMENTS=False (as on Citus).
NEEDS_PREPARED_STATEMENTS = (
    "points/tests/test_api_queries.py::test_the_token_read_is_prepared_once_per_connection",
    "recognition/tests/test_one_statement_award.py::test_the_award_statement_is_prepared_once",
)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL and tests marked `citus` a Citus cluster; elsewhere
    they skip, saying why. On Citus, the tests of what only plain PostgreSQL does skip too, and
    without prepared statements, the tests of them."""
    postgres_reason = (
        "needs PostgreSQL: SQLite serialises all writers, so row locks, triggers and real "
        "concurrency are proven on PostgreSQL (set DATABASE_URL=postgres://…)"
    )
    citus_reason = (
        "needs a Citus cluster: DATABASE_URL at the coordinator and CITUS_WORKER_URLS="
        "postgres://user@host:port,… at the workers (docs/SCALING.md)"
    )
    on_postgres = connection.vendor == "postgresql"
    on_citus = citus_enabled()
    prepared = on_postgres and "prepare_threshold" in connection.settings_dict.get("OPTIONS", {})
    for item in items:
        if "citus" in item.keywords and not on_citus:
            item.add_marker(pytest.mark.skip(reason=citus_reason))
        elif "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason=postgres_reason))
        elif on_citus and (why := next((r for n, r in PLAIN_POSTGRES_ONLY.items() if item.nodeid.startswith(n)), None)):
            item.add_marker(pytest.mark.skip(reason=f"plain PostgreSQL only: {why}"))
        elif on_postgres and not prepared and item.nodeid.startswith(NEEDS_PREPARED_STATEMENTS):
            item.add_marker(pytest.mark.skip(reason="needs prepared statements (DATABASE_PREPARED_STATEMENTS=False)"))
