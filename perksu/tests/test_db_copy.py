"""`perksu.db.copy_insert` / `copy_rows`: one COPY that stores what `bulk_create` would."""

import uuid

import pytest
from django.db import DatabaseError, IntegrityError, InternalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from people.models import Profile
from perksu.db import copy_insert, copy_rows
from tenants.models import Role, User
from tenants.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_copy_insert_stores_what_bulk_create_would(tenant):
    users = [
        User(id=uuid.uuid4(), email=f"c{i}@triton.test", full_name=f"C {i}\tTab\\Back\nLine", tenant=tenant)
        for i in range(3)
    ]
    users[0].role = Role.TENANT_LEAD  # a TextChoices member: psycopg dumps it as the str it is
    with CaptureQueriesContext(connection) as ctx:
        assert copy_insert(User, users) == 3
    stored = {u.email: u for u in User.objects.filter(email__startswith="c")}
    assert stored["c0@triton.test"].role == "tenant_lead"
    assert stored["c1@triton.test"].full_name == "C 1\tTab\\Back\nLine"
    assert stored["c2@triton.test"].date_joined == users[2].date_joined
    copy_insert(Profile, [Profile(user_id=u.pk, tenant_id=tenant.pk, title="T") for u in users])
    profile = Profile.objects.get(user_id=users[1].pk)
    assert (profile.title, profile.avatar.name, profile.birthday_consent) == ("T", "", False)
    if connection.vendor == "postgresql":
        assert [q["sql"][:13] for q in ctx.captured_queries] == ['COPY "users" ']


@pytest.mark.postgres
def test_copy_rows_stores_json_as_the_encoder_would_and_a_duplicate_is_an_integrity_error(tenant):
    member = UserFactory(tenant=tenant)
    now = timezone.now()
    columns = ["id", "tenant_id", "name", "payload", "actor_id", "created_at", "dispatched_at"]
    event_id = uuid.uuid4()
    payload = {"user": {"id": member.pk, "joined": now.date()}}
    assert copy_rows(Event, columns, [(event_id, tenant.pk, "user.created", payload, None, now, None)]) == 1
    assert Event.objects.get(pk=event_id).payload == {"user": {"id": str(member.pk), "joined": str(now.date())}}
    clash = User(id=uuid.uuid4(), email=member.email, full_name="Clash", tenant=tenant)
    with pytest.raises(IntegrityError):
        copy_insert(User, [clash])


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("message", "raised"),
    [
        ('duplicate key value violates unique constraint "users_tenant_email_key"', IntegrityError),
        ('insert or update on table "x" violates foreign key constraint "x_fk"', IntegrityError),
        ("could not connect to the worker", InternalError),
    ],
)
def test_a_constraint_refusal_that_citus_reports_as_an_internal_error_is_an_integrity_error(tenant, message, raised):
    """A Citus coordinator reports a worker's COPY error with its message only (SQLSTATE XX000, Django's
    InternalError); here the same error is raised in the middle of a real COPY."""

    def rows():
        yield (uuid.uuid4(), tenant.pk, "user.created", {}, None, timezone.now(), None)
        raise InternalError(message)

    columns = ["id", "tenant_id", "name", "payload", "actor_id", "created_at", "dispatched_at"]
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        copy_rows(Event, columns, rows())
    assert type(caught.value) is raised and message in str(caught.value)
    assert not Event.objects.exists()


@pytest.mark.postgres
def test_a_prepared_cursor_runs_the_connection_health_check_first(monkeypatch):
    """As Django's own cursors do (CONN_HEALTH_CHECKS): a request whose first statement is prepared (the token
    read) still finds a connection the server closed and opens a new one, instead of failing on it."""
    from django.db import connections

    from perksu.db import prepared_cursor

    db = connections["default"]
    db.ensure_connection()
    checked = []
    monkeypatch.setattr(db, "health_check_enabled", True)
    monkeypatch.setattr(db, "health_check_done", False)
    monkeypatch.setattr(db, "is_usable", lambda: checked.append(True) or True)
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int", [1])
        assert cursor.fetchone() == (1,)
    assert checked == [True]
