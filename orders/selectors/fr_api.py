"""The FR polling page built as JSON by PostgreSQL: one statement, the bytes handed to the client as they come.

``orders.api.selectors.fr_present_rows`` builds the same page in Python (it still serves the embedded
SQLite mode and the FR detail); this module is the hot path on PostgreSQL. Each FR is one ``row_to_json``
(compact, keys in the order of the API schema) with its ship-to and lines as nested JSON; timestamps are
formatted as DRF renders them (ISO 8601, UTC as ``Z``, no fraction when it is zero) and amounts as the
column's text, so the body is byte for byte what the Python path renders. Python never decodes a row:
the cost of a page is one index range scan and ~100 primary-key lookups, whatever the page size.
"""

import base64

from django.db import connection
from django.db.models import QuerySet

from flxhub.api.pagination import Position, keyset_slice, next_cursor


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


def _cursor(stamp: str, pk: int) -> str:
    """The same cursor as ``Position.encode`` for a row whose updated_at isoformat() is ``stamp``."""
    return base64.urlsafe_b64encode(f"{stamp}|{pk}".encode()).decode().rstrip("=")


def fr_page_json(queryset: QuerySet, *, start: Position | None, limit: int) -> bytes:
    """The page envelope ``{"data": […], "next_cursor", "has_more"}`` of the FRs in ``queryset`` after ``start``."""
    slice_sql, params = keyset_slice(
        queryset.values_list("id", "updated_at"), start=start, limit=limit
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(PAGE_SQL.format(page=slice_sql), params)
        rows = cursor.fetchall()
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
