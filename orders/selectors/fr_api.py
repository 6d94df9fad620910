"""The FR polling page built as JSON by PostgreSQL: one statement, the bytes handed to the client as they come.

``orders.api.selectors.fr_present_rows`` builds the same page in Python (it still serves the embedded
SQLite mode and the FR detail); this module is the hot path on PostgreSQL. Each FR is one ``row_to_json``
(compact, keys in the order of the API schema) with its ship-to and lines as nested JSON; timestamps are
formatted as DRF renders them (ISO 8601, UTC as ``Z``, no fraction when it is zero) and amounts as the
column's text, so the body is byte for byte what the Python path renders. Python never decodes a row:
the cost of a page is one index range scan and ~100 primary-key lookups, whatever the page size.
"""

import base64
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection

from flxhub.api.pagination import Position, next_cursor, visibility_horizon


@dataclass(frozen=True)
class FRPoll:
    """What a poll asks for: the keyword arguments of ``orders.api.selectors.fr_filter``, already scoped."""

    source_id: int | None = None
    statuses: list[str] | None = None
    shipping_statuses: list[str] | None = None
    acknowledged: bool | None = None
    since_id: int | None = None
    numbers: list[str] | None = None
    order_id: int | None = None


def _slice_sql(poll: FRPoll, *, start: Position | None, limit: int) -> tuple[str, list]:
    """The FR (id, updated_at) of the page and the one after, as ``fr_filter`` + ``keyset_slice`` would select.

    Written out rather than compiled by the ORM (that costs a millisecond of Python a page); lists are one
    array parameter each, so one statement text serves every value and stays prepared.
    """
    where, params = [], []

    def add(condition: str, *values) -> None:
        where.append(condition)
        params.extend(values)

    if poll.source_id is not None:
        add("source_id = %s", poll.source_id)
    if poll.statuses:
        add("status = ANY(%s)", list(poll.statuses))
    if poll.shipping_statuses:
        add("shipping_status = ANY(%s)", list(poll.shipping_statuses))
    if poll.acknowledged is not None:
        add("acknowledged_at IS NOT NULL" if poll.acknowledged else "acknowledged_at IS NULL")
    if poll.since_id is not None:
        add("id > %s", poll.since_id)
    if poll.numbers:
        add("number = ANY(%s)", list(poll.numbers))
    if poll.order_id is not None:
        add("order_id = %s", poll.order_id)
    if start is not None:
        # The first condition lets PostgreSQL range-scan the (source, updated_at, id) index.
        add("updated_at >= %s AND (updated_at > %s OR id > %s)", start.updated_at, start.updated_at, start.id)
    horizon = visibility_horizon()
    if horizon is not None:
        add("updated_at < %s", horizon)
    sql = "SELECT id, updated_at FROM orders_fulfillmentrequest"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY updated_at, id LIMIT %s", [*params, limit + 1]


def _iso(column: str, utc_suffix: str) -> str:
    """SQL for ``column`` (timestamptz) as Python's ``isoformat()`` of the UTC instant, with ``utc_suffix``."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') """
        f"|| CASE WHEN date_trunc('second', {column}) = {column} THEN '' ELSE to_char({utc}, '.US') END "
        f"|| '{utc_suffix}'"
    )


_TIMESTAMPS = ("generated_at", "sent_at", "acknowledged_at", "shipped_at", "canceled_at", "updated_at")

# ``{page}`` is the keyset slice of FR (id, updated_at). Lines are aggregated for the whole page in one pass
# and each FR is one row_to_json of a joined row whose columns are the keys of FulfillmentRequestOutput, in
# its order; ship_to and lines are nested JSON values.
PAGE_SQL = f"""
WITH page (id, updated_at) AS MATERIALIZED ({{page}}),
lines AS (
    SELECT fl.fulfillment_request_id AS fr_id,
        ('[' || string_agg(row_to_json(l)::text, ',' ORDER BY fl.id) || ']')::json AS lines
    FROM orders_frline AS fl
    CROSS JOIN LATERAL (
        SELECT fl.id, fl.sku, fl.master_sku, fl.upc, fl.mpn, fl.title, fl.cost::text AS cost, fl.quantity,
            fl.acknowledged_quantity, fl.backordered_quantity, fl.canceled_quantity, fl.shipped_quantity,
            fl.voided_quantity,
            fl.quantity - fl.shipped_quantity - fl.canceled_quantity - fl.voided_quantity AS open_quantity
    ) AS l
    WHERE fl.fulfillment_request_id IN (SELECT id FROM page)
    GROUP BY fl.fulfillment_request_id
)
SELECT row_to_json(r)::text, {_iso("page.updated_at", "+00:00")}, page.id
FROM page
CROSS JOIN LATERAL (
    SELECT fr.id, fr.number, fr.order_id, fr.source_id, fr.status, fr.shipping_status, fr.invoice_status,
        fr.status_reason, fr.acknowledged_at IS NOT NULL AS acknowledged, fr.shipping_method,
        fr.source_shipping_code, fr.source_reference, row_to_json(s) AS ship_to,
        {", ".join(f"{_iso('fr.' + name, 'Z')} AS {name}" for name in _TIMESTAMPS)},
        coalesce(lines.lines, '[]'::json) AS lines
    FROM orders_fulfillmentrequest AS fr
    JOIN orders_order AS o ON o.id = fr.order_id
    CROSS JOIN LATERAL (
        SELECT o.ship_name AS name, o.ship_company AS company, o.ship_address1 AS address1,
            o.ship_address2 AS address2, o.ship_city AS city, o.ship_state AS state,
            o.ship_postal_code AS postal_code, o.ship_country AS country, o.customer_email AS email,
            o.customer_phone AS phone
    ) AS s
    LEFT JOIN lines ON lines.fr_id = fr.id
    WHERE fr.id = page.id
) AS r
ORDER BY page.updated_at, page.id
"""


class _PreparedCursor(psycopg.Cursor):
    """Server-side binding, prepared at first use: the page statement is planned once per connection."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True)


def _fetch_all(sql: str, params) -> list[tuple]:
    """Run the page statement, prepared when settings.DB_PREPARE_HOT_QUERIES (planning it costs ~1 ms)."""
    if not settings.DB_PREPARE_HOT_QUERIES:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.ensure_connection()
    raw = _PreparedCursor(connection.connection)
    # Django's own wrappers, so errors are translated and the statement is logged like any other.
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cursor(stamp: str, pk: int) -> str:
    """The same cursor as ``Position.encode`` for a row whose updated_at isoformat() is ``stamp``."""
    return base64.urlsafe_b64encode(f"{stamp}|{pk}".encode()).decode().rstrip("=")


def fr_page_json(poll: FRPoll, *, start: Position | None, limit: int) -> bytes:
    """The page envelope ``{"data": […], "next_cursor", "has_more"}`` of the FRs ``poll`` selects after ``start``."""
    slice_sql, params = _slice_sql(poll, start=start, limit=limit)
    rows = _fetch_all(PAGE_SQL.format(page=slice_sql), params)
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor_text = _cursor(rows[-1][1], rows[-1][2]) if rows else next_cursor(start=start, last=None)
    body = "".join(
        [
            '{"data":[',
            ",".join(row[0] for row in rows),
            '],"next_cursor":',
            "null" if cursor_text is None else f'"{cursor_text}"',
            ',"has_more":',
            "true" if has_more else "false",
            "}",
        ]
    )
    # DRF's renderer escapes the two line separators JavaScript strings cannot hold; so does this page.
    return body.encode().replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
