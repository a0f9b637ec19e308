"""A prepared statement for the hot path on PostgreSQL.

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

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs a prepared statement as written, with its `%(name)s` placeholders: its values
    are bound by the server, so the client never assembles the statement with them."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose statements PostgreSQL prepares once per connection. PostgreSQL only."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = ServerBindingCursor(connection.connection)
    wrapped = _PreparedDebugCursor(raw, connection) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cursor:
        yield cursor
