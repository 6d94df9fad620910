"""The FR polling page built as JSON by PostgreSQL: one statement, the bytes handed to the client as they come.

``orders.api.selectors.fr_present_rows`` builds the same page in Python (it still serves the embedded
SQLite mode and the FR detail); this module is the hot path on PostgreSQL. Each FR is one JSON text
(compact, keys in the order of the API schema) with its ship-to and lines nested; timestamps are
formatted as DRF renders them (ISO 8601, UTC as ``Z``, no fraction when it is zero) and amounts as the
column's text, so the body is byte for byte what the Python path renders. That text is rendered when the FR
changes and stored (``orders.services.fr_documents``); the page reads it and renders here only an FR whose stored
text is missing or stale. Python never decodes a row: the cost of a page is one index range scan and ~100
primary-key lookups, whatever the page size.
"""

import base64
import hashlib
from dataclasses import dataclass

from flxhub.api.pagination import HORIZON_SQL, Position, next_cursor
from flxhub.api.prepared import prepared_fetchall

from ..models import FRLine, FulfillmentRequest, Order


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


def _page_filter(poll: FRPoll, *, start: Position | None) -> tuple[str, list]:
    """The WHERE of the FRs ``fr_filter`` + ``keyset_slice`` select: ``poll``, after ``start``, below the horizon.

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
    # The horizon in the same statement: evaluated once, right after the statement takes its snapshot.
    add(f"updated_at < coalesce(({HORIZON_SQL}), 'infinity')")
    return " AND ".join(where), params


def _iso(column: str) -> str:
    """SQL for ``column`` (timestamptz) as DRF renders it: the UTC ``isoformat()`` with ``Z``."""
    return f"""replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '.000000Z', 'Z')"""


# How each kind of value becomes JSON text; a nullable one is wrapped so NULL reads null (concat drops NULLs).
_JSON_VALUE = {
    "number": "{}",
    "string": "to_json({})",
    "money": """'"' || {} || '"'""",  # DRF's DecimalField: a string
    "boolean": "CASE WHEN {} THEN 'true' ELSE 'false' END",
    "time": """'"' || {} || '"'""",
    "json": "{}",
}
_MODELS = {"fl": FRLine, "fr": FulfillmentRequest, "o": Order}


def _nullable(expression: str) -> bool:
    """Whether ``expression`` may be NULL: a column that allows it (``alias.column``); computed values do not."""
    alias, _, column = expression.partition(".")
    model = _MODELS.get(alias)
    if model is None or not column.isidentifier():
        return False
    return model._meta.get_field(column.removesuffix("_id") if column.endswith("_id") else column).null


def _json_object(fields: list[tuple[str, str, str]]) -> str:
    """SQL that concatenates ``(key, expression, kind)`` into one compact JSON object, keys in this order.

    Concatenation is cheaper than row_to_json / json_build_object, which look up every column's type for
    every row, and it keeps the compact separators DRF renders.
    """
    parts = []
    for position, (key, expression, kind) in enumerate(fields):
        parts.append(f"""'{"{" if position == 0 else ","}"{key}":'""")
        value = _JSON_VALUE[kind].format(_iso(expression) if kind == "time" else expression)
        parts.append(f"coalesce({value}, 'null')" if _nullable(expression) else value)
    return "concat(" + ", ".join([*parts, "'}'"]) + ")"


_QUANTITIES = ("quantity", "acknowledged_quantity", "backordered_quantity", "canceled_quantity", "shipped_quantity")
_LINE = _json_object(
    [("id", "fl.id", "number")]
    + [(name, f"fl.{name}", "string") for name in ("sku", "master_sku", "upc", "mpn", "title")]
    + [("cost", "fl.cost", "money")]
    + [(name, f"fl.{name}", "number") for name in (*_QUANTITIES, "voided_quantity")]
    + [("open_quantity", "fl.quantity - fl.shipped_quantity - fl.canceled_quantity - fl.voided_quantity", "number")]
)
_SHIP_TO = _json_object(
    [
        (key, f"o.{column}", "string")
        for key, column in (
            ("name", "ship_name"),
            ("company", "ship_company"),
            ("address1", "ship_address1"),
            ("address2", "ship_address2"),
            ("city", "ship_city"),
            ("state", "ship_state"),
            ("postal_code", "ship_postal_code"),
            ("country", "ship_country"),
            ("email", "customer_email"),
            ("phone", "customer_phone"),
        )
    ]
)
# The FR's lines in id order (none: '[]').
_LINES = (
    f"'[' || array_to_string(ARRAY(SELECT {_LINE} FROM orders_frline AS fl"
    " WHERE fl.fulfillment_request_id = fr.id ORDER BY fl.id), ',') || ']'"
)
_TIMESTAMPS = ("generated_at", "sent_at", "acknowledged_at", "shipped_at", "canceled_at", "updated_at")
# The keys and order of FulfillmentRequestOutput.
_FR = _json_object(
    [("id", "fr.id", "number"), ("number", "fr.number", "string")]
    + [("order_id", "fr.order_id", "number"), ("source_id", "fr.source_id", "number")]
    + [(name, f"fr.{name}", "string") for name in ("status", "shipping_status", "invoice_status", "status_reason")]
    + [("acknowledged", "fr.acknowledged_at IS NOT NULL", "boolean")]
    + [(name, f"fr.{name}", "string") for name in ("shipping_method", "source_shipping_code", "source_reference")]
    + [("ship_to", _SHIP_TO, "json")]
    + [(name, f"fr.{name}", "time") for name in _TIMESTAMPS[:-1]]
    + [("updated_at", """'"' || fr.updated_at_text || '"'""", "json")]
    + [("lines", _LINES, "json")]
)

_FR_COLUMNS = ("id", "number", "order_id", "source_id", "status", "shipping_status", "invoice_status")
_FR_COLUMNS += ("status_reason", "shipping_method", "source_shipping_code", "source_reference", *_TIMESTAMPS)

# Which rendering wrote a stored document (orders_frdocument.version): a change to the rendering above changes it,
# so documents an older one wrote are passed over until ``orders.services.fr_documents`` renders them again.
DOCUMENT_VERSION = hashlib.md5(_FR.encode(), usedforsecurity=False).hexdigest()[:16]


def document_select(ids: str) -> str:
    """SQL selecting (id, updated_at, document) of the FRs whose id is in ``ids``, e.g. ``ANY(%s)``."""
    return (
        f"SELECT fr.id, fr.updated_at, {_FR} FROM (SELECT {', '.join(_FR_COLUMNS)}, {_iso('updated_at')}"
        f" AS updated_at_text FROM orders_fulfillmentrequest WHERE id = {ids}) AS fr"
        " JOIN orders_order AS o ON o.id = fr.order_id"
    )


# ``{where}`` selects the FRs. The page (and the FR after it, for has_more) comes off the (source, updated_at, id)
# index in order, and the nested loop over it keeps that order: no sort of the rows. Each FR's document is one
# primary-key lookup; NULL when it is missing, stale (another updated_at) or written by another rendering.
PAGE_SQL = f"""
SELECT d.body, {_iso("p.updated_at")}, p.id
FROM (
    SELECT id, updated_at FROM orders_fulfillmentrequest WHERE {{where}} ORDER BY updated_at, id LIMIT %s
) AS p
LEFT JOIN orders_frdocument AS d
    ON d.fulfillment_request_id = p.id AND d.updated_at = p.updated_at AND d.version = '{DOCUMENT_VERSION}'
ORDER BY p.updated_at, p.id
"""
# One line, no indentation: under 4 kB with the usual filters, psycopg caches its conversion to $n placeholders.
PAGE_SQL = " ".join(PAGE_SQL.split())
DOCUMENTS_SQL = document_select("ANY(%s)")


def _documents(rows: list[tuple]) -> list[str]:
    """The rows' documents, those the page could not use rendered now (a second statement, only then).

    An FR that changed between the two statements is rendered as it is now: newer than its place in the page,
    and polled again after its new updated_at, as any FR that changes while a client pages.
    """
    missing = [pk for body, _, pk in rows if body is None]
    if not missing:
        return [body for body, _, _ in rows]
    rendered = {pk: body for pk, _, body in prepared_fetchall(DOCUMENTS_SQL, [missing])}
    return [body if body is not None else rendered[pk] for body, _, pk in rows if body is not None or pk in rendered]


def _cursor(rendered: str, pk: int) -> str:
    """The same cursor as ``Position.encode`` for a row whose updated_at renders as ``rendered`` (…Z)."""
    return base64.urlsafe_b64encode(f"{rendered[:-1]}+00:00|{pk}".encode()).decode().rstrip("=")


def fr_page_json(poll: FRPoll, *, start: Position | None, limit: int) -> bytes:
    """The page envelope ``{"data": […], "next_cursor", "has_more"}`` of the FRs ``poll`` selects after ``start``."""
    where, params = _page_filter(poll, start=start)
    rows = prepared_fetchall(PAGE_SQL.replace("{where}", where, 1), [*params, limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor_text = _cursor(rows[-1][1], rows[-1][2]) if rows else next_cursor(start=start, last=None)
    body = "".join(
        [
            '{"data":[',
            ",".join(_documents(rows)),
            '],"next_cursor":',
            "null" if cursor_text is None else f'"{cursor_text}"',
            ',"has_more":',
            "true" if has_more else "false",
            "}",
        ]
    )
    if "\u2028" in body or "\u2029" in body:  # free on an ASCII or Latin-1 page
        # DRF's renderer escapes the two line separators JavaScript strings cannot hold; so does this page.
        body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return body.encode()
