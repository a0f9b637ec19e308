"""PostgreSQL helpers: a prepared statement for the hot path, and COPY for bulk inserts.

Django binds parameters on the client (psycopg's ClientCursor): every statement
reaches PostgreSQL as new text, to be parsed and planned again. For most
queries that costs little. The award's statement (`recognition.statements`) is a
five-part WITH, run for every award: planning it each time was about 30 % of
PostgreSQL's CPU per award (docs/PERFORMANCE.md).

`prepared_cursor()` gives a Django cursor (query logging, execute wrappers and
error translation as usual) over a psycopg cursor that binds on the server, so
psycopg prepares the statement once per connection (`prepare_threshold`, set in
settings) and PostgreSQL reuses its generic plan (`plan_cache_mode`, set in
settings). Only statements run through this cursor are prepared; with
`DATABASE_PREPARED_STATEMENTS=False` (for a pooler that cannot carry prepared
statements) it binds on the server without preparing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, InternalError, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import FileField, JSONField


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs a prepared statement as written, with its `%(name)s` placeholders: its values
    are bound by the server, so the client never assembles the statement with them."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[CursorWrapper]:
    """A cursor whose statements PostgreSQL prepares once per connection. PostgreSQL only.

    Opened as Django opens its own cursors: the connection's health check (`CONN_HEALTH_CHECKS`,
    once per request) runs first, so a statement run here as a request's first is not sent down a
    connection the server has closed."""
    connections[using].close_if_health_check_failed()
    with _prepared(using) as cursor:
        yield cursor


@contextmanager
def _prepared(using: str) -> Iterator[CursorWrapper]:
    from django.db.backends.postgresql.base import ServerBindingCursor

    db = connections[using]
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = ServerBindingCursor(db.connection)
    wrapped = _PreparedDebugCursor(raw, db) if db.queries_logged else db.make_cursor(raw)
    with wrapped as cursor:
        yield cursor


def prepared_read(sql: str, params: Sequence, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """The rows of a read-only statement, prepared once per connection (`prepared_cursor`), the
    statement standing in for the connection's health check when one is due. PostgreSQL only.

    With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` down a persistent connection before a
    request's first statement, and replaces the connection if that fails: a round trip, and a
    statement for PostgreSQL, on every request. A read can be its own check. When the check is
    due (and no transaction is open), the read is sent at once; if it fails and the connection
    then proves unusable (`is_usable`, Django's own check: the server closed it, restarted or
    failed over), the connection is replaced and the read runs again on the new one — what the
    check would have done, one round trip fewer. A read that fails on a usable connection raises
    as usual. Only for reads: running one twice changes nothing.

    The API's token read is every token request's first statement (identity.services)."""
    db = connections[using]
    due = db.connection is not None and db.health_check_enabled and not db.health_check_done and not db.in_atomic_block
    if due:
        try:
            with _prepared(using) as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        except DatabaseError:
            if db.is_usable():
                raise
            db.close()
        else:
            db.health_check_done = True
            return rows
    with prepared_cursor(using) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def copy_insert(model, objs: list) -> int:
    """Insert `objs` (unsaved instances, every value already set, primary keys included) with one
    `COPY … FROM STDIN` on PostgreSQL; Django's `bulk_create` in batches elsewhere.

    For tens of thousands of rows (a CSV import) this is several times faster than `bulk_create`:
    no SQL text to build, no per-value `get_db_prep_save`; psycopg streams each row through its C
    adapters and PostgreSQL parses it as COPY does. The statement is logged like any other (its
    logged time is the time to open it; the rows stream until the block ends).

    Like COPY, it runs no model or manager code on either database: rows a manager would add
    (a user's `user_emails` row) are the caller's to insert."""
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        # The base manager, like COPY, runs no model or manager code (tenants.UserQuerySet.bulk_create).
        model._base_manager.bulk_create(objs, batch_size=500)
        return len(objs)
    fields = list(model._meta.concrete_fields)
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            raise ValueError(f"copy_insert does not run pre_save: {model.__name__}.{field.name} is auto_now.")
    attnames = [f.attname for f in fields]
    return copy_rows(model, attnames, ([getattr(obj, a) for a in attnames] for obj in objs))


def copy_rows(model, columns: list[str], rows: Iterable[Sequence]) -> int:
    """Insert `rows` (values in the order of `columns`, the fields' attnames: every column without
    a database default must be given) with one `COPY … FROM STDIN`. PostgreSQL only: for the bulk
    writes whose model instances would cost more than the rows (a wallet or an event per member)."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[c] for c in columns]
    converters = []
    for field in fields:
        if isinstance(field, JSONField):
            encoder = field.encoder or DjangoJSONEncoder
            converters.append(lambda v, encoder=encoder: None if v is None else json.dumps(v, cls=encoder))
        elif isinstance(field, FileField):
            converters.append(lambda v: (getattr(v, "name", v) or "") if v is not None else "")
        else:
            converters.append(None)
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({quoted}) FROM STDIN"
    count = 0
    # wrap_database_errors: a unique violation is Django's IntegrityError, as from any other statement.
    try:
        with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                out = list(row)
                for i, convert in enumerate(converters):
                    if convert is not None:
                        out[i] = convert(out[i])
                copy.write_row(out)
                count += 1
    except InternalError as exc:
        # A Citus coordinator passes on a worker's COPY error by its message alone, as an internal error
        # (SQLSTATE XX000): a constraint's refusal is still an IntegrityError to the caller.
        if _CONSTRAINT_REFUSAL.search(str(exc)):
            raise IntegrityError(*exc.args) from exc
        raise
    return count


_CONSTRAINT_REFUSAL = re.compile(r"\bviolates (?:unique|foreign key|check|not-null|exclusion) constraint\b")


def copy_out(sql: str, params: Sequence) -> Iterator[bytes]:
    """The rows of `sql` as CSV, written by PostgreSQL (`COPY (…) TO STDOUT`) and handed on in the
    blocks it sends: for an export whose lines Python would otherwise format one cell at a time.
    psycopg binds the parameters on the client (COPY takes none). The statement is logged like any
    other (its logged time is the time to open it). PostgreSQL only."""
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    with connection.wrap_database_errors, connection.cursor() as cursor, ExitStack() as stack:
        # Django's logging wrapper of `copy` takes no parameters: log it here, copy on the raw cursor.
        logged = cursor.debug_sql(statement, params) if isinstance(cursor, CursorDebugWrapper) else nullcontext()
        with logged:
            copy = stack.enter_context(cursor.cursor.copy(statement, params))
        for block in copy:
            yield bytes(block)
