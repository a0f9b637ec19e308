"""What the award sends to PostgreSQL on each of its two ways (settings.AWARD_SQL), for tests that look at it."""

from __future__ import annotations

from django.db import connection

CALL_START = {"function": "SELECT * FROM perksu_award(", "statement": "WITH paid_to "}
"""How the one round trip of a plain award starts, per way."""


def award_sql_text(award_sql: str, sent: str) -> str:
    """The SQL that does the award: the statement as sent, or the body of the function the call names."""
    assert sent.lstrip().startswith(CALL_START[award_sql]), sent
    if award_sql == "statement":
        return sent
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('perksu_award'::regproc)")
        return cursor.fetchone()[0]
