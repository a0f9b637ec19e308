"""CSV import: per-row errors, the answer's shape, all or nothing, idempotence, leavers, scale."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.imports import members_import
from people.models import Profile, Team
from points.models import LeadBudget
from points.services import lead_delegate, tenant_allocate
from tenants.models import Role, User
from tenants.tests.factories import ManagerFactory, PlatformAdminFactory, TenantFactory, UserFactory
from wallets.models import Wallet

pytestmark = pytest.mark.django_db

HEADER = "email,full_name,role,title,team,manager_email,hire_date,birthday,active\n"


@pytest.fixture
def manager():
    return ManagerFactory(email="boss@acme.test", full_name="Boss")


def run(manager, text, *, dry_run=False, deactivate_missing=False, encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return members_import(
        tenant=manager.tenant, actor=manager, data=data, dry_run=dry_run, deactivate_missing=deactivate_missing
    ).as_dict()


def good_file(manager):
    return (
        HEADER
        + "boss@acme.test,Boss,tenant_manager,CEO,Board,,2020-01-01,,true\n"
        + "ann@acme.test,Ann Lee,employee,Engineer,Platform,boss@acme.test,2024-03-01,07-14,true\n"
        + "bob@acme.test,Bob Ray,tenant_lead,Lead engineer,Platform,boss@acme.test,2023-05-02,1990-12-31,true\n"
        + "cy@acme.test,Cy Doe,employee,,Platform,bob@acme.test,,,true\n"
    )


def test_dry_run_reports_every_row_and_writes_nothing(manager):
    answer = run(manager, good_file(manager), dry_run=True)
    assert answer == {
        "dry_run": True,
        "created": 3,
        "updated": 1,
        "deactivated": 0,
        "unchanged": 0,
        "errors": [],
        "rows": [
            {"row": 2, "email": "boss@acme.test", "action": "update"},
            {"row": 3, "email": "ann@acme.test", "action": "create"},
            {"row": 4, "email": "bob@acme.test", "action": "create"},
            {"row": 5, "email": "cy@acme.test", "action": "create"},
        ],
    }
    assert User.objects.filter(tenant=manager.tenant).count() == 1
    assert not Team.objects.exists()


def test_apply_creates_members_with_wallets_profiles_budgets_and_teams(manager):
    answer = run(manager, good_file(manager))
    assert (answer["dry_run"], answer["created"], answer["updated"], answer["errors"]) == (False, 3, 1, [])
    ann = User.objects.select_related("profile__team", "profile__manager").get(email="ann@acme.test")
    assert (ann.full_name, ann.role, ann.is_active, ann.has_usable_password()) == ("Ann Lee", "employee", True, False)
    p = ann.profile
    assert (p.title, p.team.name, p.manager.email, p.hire_date) == (
        "Engineer",
        "Platform",
        "boss@acme.test",
        dt.date(2024, 3, 1),
    )
    assert (p.birthday_month, p.birthday_day, p.birthday_consent) == (7, 14, False)
    bob = User.objects.get(email="bob@acme.test")
    assert (bob.profile.birthday_month, bob.profile.birthday_day) == (12, 31)
    assert LeadBudget.objects.filter(lead=bob, balance=0).exists()
    assert Wallet.objects.filter(tenant=manager.tenant).count() == 4
    assert User.objects.get(email="cy@acme.test").profile.manager_id == bob.pk
    assert set(Team.objects.filter(tenant=manager.tenant).values_list("name", flat=True)) == {"Board", "Platform"}
    manager.refresh_from_db()
    assert manager.profile.title == "CEO"


def test_the_same_file_twice_changes_nothing(manager):
    run(manager, good_file(manager))
    before = list(Profile.objects.order_by("user_id").values())
    answer = run(manager, good_file(manager))
    assert (answer["created"], answer["updated"], answer["deactivated"], answer["unchanged"]) == (0, 0, 0, 4)
    assert {r["action"] for r in answer["rows"]} == {"unchanged"}
    assert list(Profile.objects.order_by("user_id").values()) == before


def test_bom_semicolons_and_crlf_are_read(manager):
    text = "\ufeffemail;full_name;team\r\nann@acme.test;Ann;Sales\r\n"
    answer = run(manager, text)
    assert answer["errors"] == [] and answer["created"] == 1
    assert User.objects.get(email="ann@acme.test").profile.team.name == "Sales"


@pytest.mark.parametrize(
    ("line", "column", "fragment"),
    [
        ("not-an-email,X,,,,,,,", "email", "not a valid e-mail"),
        (",X,,,,,,,", "email", "required"),
        ("x@acme.test,X,wizard,,,,,,", "role", "Unknown role"),
        ("x@acme.test,X,,,,ghost@acme.test,,,", "manager_email", "Unknown manager"),
        ("x@acme.test,X,,,,x@acme.test,,,", "manager_email", "own manager"),
        ("x@acme.test,X,,,,,2024-02-30,,", "hire_date", "not a date"),
        ("x@acme.test,X,,,,,yesterday,,", "hire_date", "not a date"),
        ("x@acme.test,X,,,,,,13-01,", "birthday", "not a birthday"),
        ("x@acme.test,X,,,,,,,maybe", "active", "not true or false"),
        ("x@acme.test,,,,,,,,", "full_name", "needs a full name"),
        ("boss@acme.test,Boss,,,,,,,false", "active", "deactivate yourself"),
        ("boss@acme.test,Boss,employee,,,,,,", "role", "your own role"),
    ],
)
def test_each_bad_cell_is_reported_with_row_and_column_and_nothing_is_written(manager, line, column, fragment):
    text = HEADER + "ok@acme.test,Okay,,,,,,,\n" + line + "\n"
    answer = run(manager, text)
    assert len(answer["errors"]) == 1, answer["errors"]
    error = answer["errors"][0]
    assert (error["row"], error["column"]) == (3, column)
    assert fragment in error["message"]
    assert not User.objects.filter(email="ok@acme.test").exists()


def test_duplicate_email_in_the_file_names_the_first_row(manager):
    answer = run(manager, HEADER + "a@acme.test,A,,,,,,,\nb@acme.test,B,,,,,,,\nA@acme.test,A2,,,,,,,\n")
    assert answer["errors"] == [
        {"row": 4, "column": "email", "message": "Duplicate e-mail: a@acme.test is also on row 2."}
    ]


def test_a_manager_loop_is_refused_on_every_row_of_the_loop(manager):
    text = (
        HEADER + "a@acme.test,A,,,,b@acme.test,,,\nb@acme.test,B,,,,c@acme.test,,,\nc@acme.test,C,,,,a@acme.test,,,\n"
    )
    answer = run(manager, text)
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [
        (2, "manager_email"),
        (3, "manager_email"),
        (4, "manager_email"),
    ]
    assert "loop" in answer["errors"][0]["message"]


def test_a_loop_through_existing_members_is_refused(manager):
    run(manager, HEADER + "a@acme.test,A,,,,boss@acme.test,,,\n")
    answer = run(manager, "email,manager_email\nboss@acme.test,a@acme.test\n")
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [(2, "manager_email")]


def test_not_utf8_is_refused_with_the_row(manager):
    data = (HEADER + "a@acme.test,Zoë,,,,,,,\n").encode("latin-1")
    answer = run(manager, data)
    assert answer["errors"] == [
        {"row": 2, "column": None, "message": "The file is not UTF-8 text: save it as “CSV UTF-8” and try again."}
    ]


@pytest.mark.parametrize("text", ["", "a@acme.test,Ann\n", "name,title\nAnn,CEO\n"])
def test_a_file_without_a_header_is_refused(manager, text):
    answer = run(manager, text)
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [(1, None)]
    assert "header" in answer["errors"][0]["message"]


def test_unknown_columns_are_refused(manager):
    answer = run(manager, "email,salary\na@acme.test,10\n")
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [(1, "salary")]


def test_another_companys_member_cannot_be_imported_or_set_as_manager(manager):
    outsider = UserFactory(email="out@other.test")
    answer = run(manager, HEADER + "out@other.test,Out,,,,,,,\n")
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [(2, "email")]
    answer = run(manager, HEADER + "a@acme.test,A,,,,out@other.test,,,\n")
    assert answer["errors"][0]["message"] == "Unknown manager “out@other.test”: not a member of your company."
    outsider.refresh_from_db()
    assert outsider.tenant_id != manager.tenant_id and outsider.full_name != "Out"


def test_deactivate_missing_handles_leavers_and_reactivation(manager):
    run(manager, good_file(manager))
    answer = run(
        manager,
        HEADER + "boss@acme.test,Boss,tenant_manager,CEO,Board,,2020-01-01,,true\n",
        dry_run=True,
        deactivate_missing=True,
    )
    assert answer["deactivated"] == 3
    assert {(r["row"], r["action"]) for r in answer["rows"]} == {(2, "unchanged"), (None, "deactivate")}
    run(manager, HEADER + "boss@acme.test,Boss,tenant_manager,CEO,Board,,2020-01-01,,true\n", deactivate_missing=True)
    ann = User.objects.select_related("profile").get(email="ann@acme.test")
    assert not ann.is_active and ann.profile.deactivated_at is not None
    answer = run(manager, "email,active\nann@acme.test,true\n")
    assert answer["rows"] == [{"row": 2, "email": "ann@acme.test", "action": "update"}]
    ann = User.objects.select_related("profile").get(email="ann@acme.test")
    assert ann.is_active and ann.profile.deactivated_at is None


def test_deactivate_missing_refuses_to_deactivate_the_importer(manager):
    answer = run(manager, HEADER + "a@acme.test,A,,,,,,,\n", deactivate_missing=True)
    assert answer["errors"][0]["row"] is None and "deactivate you" in answer["errors"][0]["message"]


def test_a_lead_holding_budget_cannot_be_demoted_by_file(manager):
    lead = UserFactory(tenant=manager.tenant, role=Role.TENANT_LEAD, email="lead@acme.test")
    tenant_allocate(tenant_id=manager.tenant_id, amount=100, actor=PlatformAdminFactory())
    lead_delegate(actor=manager, lead_id=lead.pk, amount=40)
    answer = run(manager, "email,role\nlead@acme.test,employee\n")
    assert answer["errors"][0]["column"] == "role" and "40" in answer["errors"][0]["message"]


def test_columns_left_out_are_left_alone_empty_cells_clear(manager):
    run(manager, good_file(manager))
    run(manager, "email,title\nann@acme.test,\n")
    ann = Profile.objects.get(user__email="ann@acme.test")
    assert ann.title == "" and ann.team is not None and ann.hire_date == dt.date(2024, 3, 1)


def _big_file(n, domain="big.test"):
    lines = ["email,full_name,role,title,team,manager_email,hire_date,birthday,active"]
    for i in range(n):
        manager_email = f"m{i // 50}@{domain}" if i >= 200 else "boss@acme.test"
        lines.append(
            f"m{i}@{domain},Member {i},employee,Title {i % 7},Team {i % 20},{manager_email},"
            f"2020-{i % 12 + 1:02d}-{i % 28 + 1:02d},{i % 12 + 1:02d}-{i % 28 + 1:02d},true"
        )
    return ("\n".join(lines) + "\n").encode()


def test_ten_thousand_rows_apply_and_reapply_unchanged(manager):
    data = _big_file(10_000)
    answer = run(manager, data)
    assert (answer["created"], answer["errors"]) == (10_000, [])
    assert Profile.objects.filter(tenant=manager.tenant, team__isnull=False).count() == 10_000
    answer = run(manager, data, dry_run=True)
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (0, 0, 10_000)


def test_statements_do_not_grow_with_rows():
    def statements(n, domain):
        boss = ManagerFactory(email=f"boss@{domain}", tenant=TenantFactory())
        text = _big_file(n, domain).replace(b"boss@acme.test", f"boss@{domain}".encode())
        with CaptureQueriesContext(connection) as ctx:
            answer = members_import(tenant=boss.tenant, actor=boss, data=text, dry_run=False)
        assert answer.errors == [] and answer.created == n
        return len(ctx.captured_queries)

    small, large = statements(300, "small.test"), statements(1200, "large.test")
    if connection.vendor == "postgresql":
        assert small == large
    else:
        # SQLite caps the variables of one statement: its inserts go in batches of about 90 rows
        # (users, wallets, profiles, and the members' `user.created` events), and of 333 for the
        # users' rows in user_emails.
        assert large - small <= (1200 - 300) // 24 + 3


def test_updates_and_leavers_cost_the_same_statements_for_any_number_of_rows():
    """A second file that changes every member, deactivates some by cell and the rest of the leavers by
    `deactivate_missing`: the members it reads, and the users and profiles it writes, cost no statement
    per row (a deferred column read for each member would be one)."""

    def statements(n, domain):
        boss = ManagerFactory(email=f"boss@{domain}", tenant=TenantFactory())
        first = _big_file(n, domain).replace(b"boss@acme.test", f"boss@{domain}".encode())
        assert members_import(tenant=boss.tenant, actor=boss, data=first, dry_run=False).created == n
        lines = first.decode().splitlines()
        kept = lines[: 1 + n - n // 10]  # header and 90 % of the rows: the last tenth are leavers
        changed = [kept[0], f"boss@{domain},Boss,tenant_manager,CEO,Board,,,,true"]
        for i, line in enumerate(kept[1:]):
            cells = line.split(",")
            cells[3] = f"Senior {cells[3]}"
            if i % 30 == 29:
                cells[8] = "false"
            changed.append(",".join(cells))
        data = ("\n".join(changed) + "\n").encode()
        with CaptureQueriesContext(connection) as ctx:
            answer = members_import(tenant=boss.tenant, actor=boss, data=data, dry_run=False, deactivate_missing=True)
        assert answer.errors == []
        assert answer.deactivated == n // 10 + (n - n // 10) // 30
        assert answer.updated == n - answer.deactivated + 1  # and the boss's new title
        return len(ctx.captured_queries)

    small, large = statements(300, "small.test"), statements(1200, "large.test")
    if connection.vendor == "postgresql":
        assert small == large
    else:
        assert large - small <= (1200 - 300) // 24
