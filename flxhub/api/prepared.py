"""The API's hottest statements, prepared once per database connection (PostgreSQL, psycopg 3).

Django turns psycopg's statement preparing off (``prepare_threshold=None``), which also makes it ignore
``prepare=True``, and binds parameters on the client. Here a statement is bound on the server and prepared
at its first run, so later runs skip parsing and planning; nothing else on the connection is prepared.
``settings.DB_PREPARE_HOT_QUERIES = False`` (for a pooler without prepared-statement support) runs them
through Django's ordinary cursor instead.
"""

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.backends.utils import CursorWrapper

# A count no statement reaches: psycopg never prepares on its own, yet honours prepare=True.
_NEVER_BY_COUNT = 2**31 - 1


class _PreparedCursor(psycopg.Cursor):
    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True)


def prepared_fetchall(sql: str, params: list | None = None) -> list[tuple]:
    """Run ``sql`` (``%s`` placeholders) prepared and return its rows.

    The raw cursor skips the health check Django's cursors make (a ``SELECT 1`` round trip per request), so a
    persistent connection the server has dropped (a restart, a failover) shows up here as an error: outside a
    transaction this read is then run once more on a new connection instead of failing the request.
    """
    if connection.vendor != "postgresql" or not settings.DB_PREPARE_HOT_QUERIES:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    try:
        return _fetchall(sql, params)
    except DatabaseError:
        if connection.in_atomic_block or connection.is_usable():
            raise
        connection.close()
        return _fetchall(sql, params)


def _fetchall(sql: str, params: list | None) -> list[tuple]:
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        connection.connection.prepare_threshold = _NEVER_BY_COUNT
    raw = _PreparedCursor(connection.connection)
    # Django's own wrappers, so errors are translated, execute_wrappers apply and the statement is logged.
    if not connection.queries_logged:
        with connection.make_cursor(raw) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with connection.make_debug_cursor(raw) as cursor:
        # Logged as written: Django reads the executed text back from psycopg, which has none once prepared.
        with cursor.debug_sql(sql, params):
            CursorWrapper.execute(cursor, sql, params)
        return cursor.fetchall()
