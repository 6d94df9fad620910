"""Each FR's API document (``orders_frdocument``) kept current by PostgreSQL triggers, for the FR polling page.

Why: rendering an FR as JSON (its columns, its order's ship-to, its lines, six formatted timestamps) is four
fifths of what PostgreSQL does for a poll (measured on the 100,000-FR bench: 5.1–5.6 ms of server CPU per page of
100 rendered, 1.2–1.4 ms read from stored documents). FRs are polled far more often than they change.

How: after every statement that updates FRs or writes FR lines or an order's ship-to or contact, a statement-level
trigger renders the documents of the FRs it touched (``orders.selectors.fr_api.document_select``, the same SQL the page
falls back to) and upserts them. A later statement in the same transaction renders them again, so the document
committed is that of the FR committed. Before rendering, the trigger locks the FRs (FOR NO KEY UPDATE, in id
order): two transactions changing different lines of one FR render one after the other, and the second, waiting
for the first to commit, renders with a snapshot that sees the first's lines (READ COMMITTED). The services lock an
FR before changing its lines, so the lock adds no wait; code that changes lines of several FRs across statements
without locking their FRs should lock them in id order, as everything here does, or risk a deadlock.

Documents are a cache: the page reads one only when its FR's updated_at and the rendering's version match, and
renders any other FR itself. So a stale or missing document costs speed, never correctness.

Installed by ``documents_install`` after every ``migrate`` (post_migrate): the trigger SQL comes from the rendering
in the code, so the two can never drift; documents written by an older rendering (another version) or missing
are rendered again there, in batches. SQLite (the embedded mode) has no documents: its page is rendered in Python.
"""

from django.db import connections, transaction

from ..selectors.fr_api import DOCUMENT_VERSION, document_select

PREFIX = "flx_frdoc_"
BATCH = 10_000
# The order columns a document shows (its ship_to).
_ORDER_COLUMNS = (
    "ship_name",
    "ship_company",
    "ship_address1",
    "ship_address2",
    "ship_city",
    "ship_state",
    "ship_postal_code",
    "ship_country",
    "customer_email",
    "customer_phone",
)


def _function(name: str, body: str, *, args: str = "", returns: str = "trigger") -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {PREFIX}{name}({args}) RETURNS {returns} LANGUAGE plpgsql AS $flx$\n"
        f"BEGIN\n{body}\nEND\n$flx$"
    )


def _render_call(ids: str) -> str:
    return f"PERFORM {PREFIX}render(ARRAY({ids})); RETURN NULL;"


def _install_sql() -> list[str]:
    old_columns = ", ".join(f"o.{column}" for column in _ORDER_COLUMNS)
    new_columns = ", ".join(f"n.{column}" for column in _ORDER_COLUMNS)
    functions = [
        _function(
            "render",
            "IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN; END IF;\n"
            "PERFORM FROM orders_fulfillmentrequest WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;\n"
            "INSERT INTO orders_frdocument (fulfillment_request_id, updated_at, version, body)\n"
            f"SELECT doc.id, doc.updated_at, '{DOCUMENT_VERSION}', doc.body\n"
            f"FROM ({document_select('ANY(ids)')}) AS doc (id, updated_at, body)\n"
            "ON CONFLICT (fulfillment_request_id) DO UPDATE\n"
            "SET updated_at = excluded.updated_at, version = excluded.version, body = excluded.body;",
            args="ids bigint[]",
            returns="void",
        ),
        _function("fr_written", _render_call("SELECT id FROM new_rows")),
        _function(
            "fr_deleted",
            "DELETE FROM orders_frdocument WHERE fulfillment_request_id IN (SELECT id FROM old_rows); RETURN NULL;",
        ),
        _function("lines_inserted", _render_call("SELECT DISTINCT fulfillment_request_id FROM new_rows")),
        _function(
            "lines_updated",
            _render_call(
                "SELECT fulfillment_request_id FROM new_rows UNION SELECT fulfillment_request_id FROM old_rows"
            ),
        ),
        _function("lines_deleted", _render_call("SELECT DISTINCT fulfillment_request_id FROM old_rows")),
        _function(
            "order_updated",
            _render_call(
                "SELECT fr.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id"
                " JOIN orders_fulfillmentrequest AS fr ON fr.order_id = n.id"
                f" WHERE ({new_columns}) IS DISTINCT FROM ({old_columns}) ORDER BY fr.id"
            ),
        ),
    ]
    # (trigger, table, event, transition tables, function)
    triggers = [
        ("fr_update", "orders_fulfillmentrequest", "UPDATE", "NEW TABLE AS new_rows", "fr_written"),
        ("fr_delete", "orders_fulfillmentrequest", "DELETE", "OLD TABLE AS old_rows", "fr_deleted"),
        ("lines_insert", "orders_frline", "INSERT", "NEW TABLE AS new_rows", "lines_inserted"),
        ("lines_update", "orders_frline", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "lines_updated"),
        ("lines_delete", "orders_frline", "DELETE", "OLD TABLE AS old_rows", "lines_deleted"),
        ("order_update", "orders_order", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "order_updated"),
    ]
    # An FR is inserted before its lines: inserting the lines renders it (rendering it twice cost routing 5 %).
    statements = [*functions, f"DROP TRIGGER IF EXISTS {PREFIX}fr_insert ON orders_fulfillmentrequest"]
    for name, table, event, tables, function in triggers:
        statements.append(f"DROP TRIGGER IF EXISTS {PREFIX}{name} ON {table}")
        statements.append(
            f"CREATE TRIGGER {PREFIX}{name} AFTER {event} ON {table} REFERENCING {tables}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}{function}()"
        )
    return statements


STALE_SQL = (
    "SELECT fr.id FROM orders_fulfillmentrequest AS fr LEFT JOIN orders_frdocument AS d"
    " ON d.fulfillment_request_id = fr.id AND d.updated_at = fr.updated_at AND d.version = %s"
    " WHERE d.fulfillment_request_id IS NULL AND fr.id > %s ORDER BY fr.id LIMIT %s"
)


def documents_install(using: str = "default") -> int:
    """Install the triggers on PostgreSQL and render every document missing or stale; return how many were."""
    connection = connections[using]
    if connection.vendor != "postgresql" or "orders_frdocument" not in connection.introspection.table_names():
        return 0
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in _install_sql():
            cursor.execute(statement)
    rendered, after = 0, 0
    while True:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(STALE_SQL, [DOCUMENT_VERSION, after, BATCH])
            ids = [pk for (pk,) in cursor.fetchall()]
            if not ids:
                return rendered
            cursor.execute(f"SELECT {PREFIX}render(%s)", [ids])
        rendered, after = rendered + len(ids), ids[-1]


def documents_install_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate receiver: keep the triggers and documents in step with the code after every migrate."""
    documents_install(using)
