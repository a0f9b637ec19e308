"""Django's PostgreSQL backend, with tenant keys in the schema it writes (`schema.py`).

Settings use it wherever DATABASE_URL names PostgreSQL; everything but schema changes is
Django's own backend, untouched.
"""

from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper

from .schema import TenantKeysSchemaEditor


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    SchemaEditorClass = TenantKeysSchemaEditor
