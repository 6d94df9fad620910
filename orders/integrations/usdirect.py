"""US Direct: the REST protocol flxhub speaks to the supplier, written down here because its API is not public.

The protocol (version 1)
========================

Base URL: the ``rest`` connection's ``url`` (e.g. ``https://api.usdirect.example``; the demo's simulator
listens on ``http://127.0.0.1:8765``); every path below is under it. JSON in and out, UTF-8.

Credentials (the connection card, DESIGN §7), kept in the connection's encrypted secrets:

- **API token** (``api_token``): every call sends ``Authorization: Bearer <api_token>``.
- **Reseller token** (``reseller_token``): Get Invoice also sends ``X-Reseller-Token: <reseller_token>``.
- **Feed URL**: ``GET /v1/feed.csv`` (bearer header, or ``?token=<api_token>`` for tools that can only
  fetch a URL) answers the catalogue as CSV: ``Product SKU,Product Name,Pricing,Quantity``. flxhub
  reads it through an ``http`` connection with the built-in "US Direct inventory" template.

Endpoints:

``GET /v1/account``
    ``{"account": "...", "integration_access": true, "reseller_token": "valid" | "invalid" | "absent"}``;
    the reseller token is checked when ``X-Reseller-Token`` is sent. Used by Test Connection.
``POST /v1/orders``
    Body ``{"po_number", "ship_to": {"name", "address1", "address2", "city", "state", "postal_code",
    "country", "phone"}, "shipping_code", "items": [{"item_number", "quantity"}]}``. Every field of
    ``REQUIRED_ORDER_FIELDS`` must be non-empty (address2 and phone may be empty); ``shipping_code`` is
    one of ``SHIPPING_CODES``. Answers ``201 {"order": ORDER}``; ``409`` ``duplicate_po_number`` when
    the PO number was already received (the order is not created twice); ``422`` with the field at fault.
``GET /v1/orders/{po_number}``
    ``200 {"order": ORDER}`` or ``404`` ``order_not_found``. ORDER is ``{"po_number", "order_id",
    "status": "received" | "accepted" | "rejected", "reason", "items": [{"item_number", "quantity",
    "backordered"}], "created_at"}``.
``GET /v1/shipments?po_number=A&po_number=B&page=N``
    ``{"shipments": [{"po_number", "tracking_number", "status", "ship_date", "carrier", "service",
    "items": [{"item_number", "quantity"}]}], "page", "per_page", "total", "next_page"}``. ``status`` is
    ``shipped``, ``in_transit`` or ``delivered`` (``pending`` and ``canceled`` carry no parcel yet).
``GET /v1/invoices?po_number=A&page=N`` (needs ``X-Reseller-Token``)
    ``{"invoices": [{"invoice_number", "po_number", "invoice_date", "total", "shipping",
    "items": [{"item_number", "quantity", "unit_price"}]}], ...paging as above}``. ``401``
    ``reseller_token_required`` without the header, ``403`` ``invalid_reseller_token`` with a wrong one.

Paging: ``page`` counts from 1, ``per_page`` is at most 100; ``next_page`` is null on the last page.
At most ``PO_NUMBERS_PER_CALL`` PO numbers per call. Money is a decimal string, dates ISO 8601.

Errors: ``{"error": {"code", "message", "field"}}`` (``field`` only for 422, as a path such as
``ship_to.postal_code`` or ``items[0].item_number``). ``401`` ``invalid_token`` (wrong or rotated
API token), ``403`` ``integration_access_disabled`` (the account has no API access), ``429`` and
``5xx`` mean try again later (``Retry-After`` may say when).

Mapping (the supplier guide): the FR number is the PO number, the order's ship-to address is Ship To,
a line's source SKU is the Item Number, and the source's shipping-method map gives the shipping code
(``DEFAULT_SHIPPING_METHOD_MAP``). ``send_fr`` takes the canonical FR the Send FR runner renders:
``number`` (or ``fr_number``), ``shipping_code`` (or ``source_shipping_code``), a ``ship_to`` dict (or
the ``ship_to_*`` keys of ``sources.mapping.kinds.KINDS["send_fr"]``) and ``lines`` of ``{sku, quantity}``
(see ``orders.integrations.payloads.fr_payload``), or a body already in US Direct's shape. The protocol
moves data only: no database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from flxhub.exceptions import ApplicationError
from sources.transports.base import ConnectionSettings, TransientTransportError, TransportError
from sources.transports.http import HTTPTransport

from .rest import (
    AckLine,
    AckResult,
    IncompleteAnswer,
    InvoiceLine,
    InvoiceResult,
    SendResult,
    ShipmentItem,
    ShipmentResult,
    register_rest_protocol,
)

SHIPPING_CODES = ("UPS-GND", "FEDEX-EXP", "USPS-PRIORITY")
DEFAULT_SHIPPING_METHOD_MAP = {"ground": "UPS-GND", "express": "FEDEX-EXP", "priority": "USPS-PRIORITY"}
PO_NUMBERS_PER_CALL = 50
PER_PAGE = 100
MAX_PAGES = 200
SHIP_TO_KEYS = ("name", "address1", "address2", "city", "state", "postal_code", "country", "phone")

# (path in the order body, the guide's name for it, where flxhub takes it from); checked before sending.
REQUIRED_ORDER_FIELDS = (
    ("po_number", "PO Number", "the FR number"),
    ("ship_to.name", "Ship To Name", "the order's shipping name"),
    ("ship_to.address1", "Ship To Address", "the order's shipping address line 1"),
    ("ship_to.city", "Ship To City", "the order's shipping city"),
    ("ship_to.state", "Ship To State", "the order's shipping state"),
    ("ship_to.postal_code", "Ship To Zip", "the order's shipping postal code"),
    ("ship_to.country", "Ship To Country", "the order's shipping country"),
    ("shipping_code", "Shipping Code", "the source's shipping-method map for the order's shipping method"),
    ("items", "Items", "the FR's lines"),
    ("items[].item_number", "Item Number", "the line's source SKU"),
    ("items[].quantity", "Quantity", "the line's quantity"),
)
FIELD_LABELS = {path: label for path, label, _ in REQUIRED_ORDER_FIELDS}
SHIPMENT_REQUIRED = (("tracking_number", "tracking number"), ("status", "status"), ("ship_date", "ship date"))
NOT_SHIPPED_STATUSES = {"pending", "canceled"}

BAD_TOKEN = (
    "US Direct refused the API token (HTTP {status}): it is wrong or was rotated. Copy the current API token "
    "from the US Direct reseller portal into this source's API connection, then Test Connection again."
)
NO_ACCESS = (
    "US Direct answered that integration access is not enabled for this account (HTTP 403). Ask your US Direct "
    "account manager to enable API integration access, then Test Connection again."
)
NO_RESELLER_TOKEN = (
    "Get Invoice needs the US Direct reseller token, and this connection has none. Add the reseller token "
    "from the US Direct reseller portal to this source's API connection, then run Get Invoices again."
)
BAD_RESELLER_TOKEN = (
    "US Direct refused the reseller token (HTTP {status}): it is wrong or was rotated. Copy the current "
    "reseller token from the US Direct reseller portal into this source's API connection."
)


class UsDirectError(ApplicationError):
    """US Direct refused or answered something flxhub cannot use; the message says what to change."""

    code = "usdirect_error"
    http_status = 502


class UsDirectIncompleteAnswer(UsDirectError, IncompleteAnswer):
    """Some shipments or invoices in an answer cannot be used; ``results`` holds the usable ones."""


class UsDirectProtocol:
    """The RestProtocol for US Direct (see the module docstring for the wire protocol)."""

    name = "usdirect"

    def test(self, settings: ConnectionSettings) -> tuple[bool, str]:
        """Check the API token, integration access and (when set) the reseller token; never raises."""
        try:
            with _client(settings, reseller=True) as client:
                account = client.call("GET", "/v1/account")
        except (ApplicationError, TransportError) as error:
            return False, error.message
        reseller = account.get("reseller_token", "absent")
        message = f"Connected to US Direct at {_base_url(settings)} as account {account.get('account', '?')}"
        if reseller == "invalid":
            return False, f"{message}, but {BAD_RESELLER_TOKEN.format(status=403)}"
        if reseller == "absent":
            return True, f"{message}; no reseller token yet, so Get Invoice will not work until one is added."
        return True, f"{message}; API token and reseller token accepted."

    def send_fr(self, settings: ConnectionSettings, fr: dict[str, Any]) -> SendResult:
        """Validate the FR against the guide's required fields, then POST it; nothing is sent when one is empty."""
        body = order_body(fr)
        problems = order_problems(body)
        if problems:
            return SendResult("rejected", message=_missing_message(body["po_number"], problems))
        with _client(settings) as client:
            response = client.request("POST", "/v1/orders", json=body)
            if response.status_code == 409:
                existing = self._find(client, body["po_number"])
                if existing is not None:
                    return existing
            if response.status_code == 422:
                error = _error_of(response)
                field = error.get("field", "")
                label = FIELD_LABELS.get(_generic_path(field), field or "an order field")
                return SendResult(
                    "rejected",
                    message=f"US Direct refused FR {body['po_number']}: {label} ({field}): {error.get('message', '')}",
                )
            order = client.json(response, "POST /v1/orders").get("order") or {}
        return _send_result(order)

    def find_fr(self, settings: ConnectionSettings, fr_number: str) -> SendResult | None:
        with _client(settings) as client:
            return self._find(client, fr_number)

    def _find(self, client: _Client, po_number: str) -> SendResult | None:
        order = client.order(po_number)
        return None if order is None else _send_result(order)

    def get_acks(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[AckResult]:
        """Ask for each order; accepted or rejected ones become acknowledgements, received ones wait."""
        results = []
        with _client(settings) as client:
            for po_number in fr_numbers:
                order = client.order(po_number)
                if order is None or order.get("status") not in {"accepted", "rejected"}:
                    continue
                if order["status"] == "rejected":
                    reason = order.get("reason") or "rejected by US Direct"
                    results.append(AckResult(po_number, rejected_reason=reason, source_reference=_ref(order)))
                    continue
                lines = [
                    AckLine(
                        sku=str(item.get("item_number", "")),
                        accepted=int(item.get("quantity", 0)) - int(item.get("backordered", 0)),
                        backordered=int(item.get("backordered", 0)),
                    )
                    for item in order.get("items") or []
                ]
                if all(line.backordered == 0 for line in lines):
                    lines = []  # the whole FR is accepted
                results.append(AckResult(po_number, lines=lines, source_reference=_ref(order)))
        return results

    def get_shipments(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[ShipmentResult]:
        """Return the shipments of these FRs; raise UsDirectIncompleteAnswer naming any without tracking data."""
        results, problems = [], []
        with _client(settings) as client:
            for shipment in client.pages("/v1/shipments", "shipments", fr_numbers):
                if shipment.get("status") in NOT_SHIPPED_STATUSES:
                    continue
                missing = [label for key, label in SHIPMENT_REQUIRED if not shipment.get(key)]
                shipped_at = _datetime(shipment.get("ship_date"))
                if shipment.get("ship_date") and shipped_at is None:
                    missing.append(f"a readable ship date (got {shipment['ship_date']!r})")
                if missing:
                    problems.append(
                        {
                            "po_number": str(shipment.get("po_number", "")),
                            "missing": missing,
                            "reason": f"lacks {', '.join(missing)}",
                        }
                    )
                    continue
                results.append(
                    ShipmentResult(
                        fr_number=str(shipment.get("po_number", "")),
                        tracking_number=str(shipment["tracking_number"]),
                        carrier=str(shipment.get("carrier", "")),
                        method=str(shipment.get("service", "")),
                        shipped_at=shipped_at,
                        status=str(shipment["status"]),
                        items=[
                            ShipmentItem(sku=str(item["item_number"]), quantity=int(item["quantity"]))
                            for item in shipment.get("items") or []
                        ],
                    )
                )
        if problems:
            described = "; ".join(f"PO {p['po_number'] or '(none)'} lacks {', '.join(p['missing'])}" for p in problems)
            raise UsDirectIncompleteAnswer(
                f"US Direct sent shipment data without the tracking number, status or ship date flxhub needs "
                f"({described}). Those shipments were not recorded; ask US Direct to complete them, and the next "
                f"Get Shipments run will pick them up.",
                code="usdirect_shipment_incomplete",
                results=results,
                problems=problems,
            )
        return results

    def get_invoices(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[InvoiceResult]:
        """Return the invoices of these FRs by PO number; needs the reseller token (checked before calling)."""
        if not settings.options.get("reseller_token"):
            raise UsDirectError(NO_RESELLER_TOKEN, code="usdirect_reseller_token_missing")
        wanted = set(fr_numbers)
        results, problems = [], []
        with _client(settings, reseller=True) as client:
            for invoice in client.pages("/v1/invoices", "invoices", fr_numbers):
                po_number = str(invoice.get("po_number", ""))
                total = _decimal(invoice.get("total"))
                number = invoice.get("invoice_number", "")
                if po_number not in wanted:
                    reason = f"invoice {number or '(no number)'} names a PO flxhub did not ask for"
                    problems.append({"invoice_number": number, "po_number": po_number, "reason": reason})
                    continue
                if not number or total is None:
                    reason = f"invoice {number or '(no number)'} lacks an invoice number or total"
                    problems.append({"invoice_number": number, "po_number": po_number, "reason": reason})
                    continue
                results.append(
                    InvoiceResult(
                        fr_number=po_number,
                        invoice_number=str(invoice["invoice_number"]),
                        total=total,
                        invoice_date=_datetime(invoice.get("invoice_date")),
                        charges=_decimal(invoice.get("shipping")) or Decimal("0"),
                        lines=[
                            InvoiceLine(
                                sku=str(item["item_number"]),
                                quantity=int(item["quantity"]),
                                unit_cost=_decimal(item.get("unit_price")) or Decimal("0"),
                            )
                            for item in invoice.get("items") or []
                        ],
                    )
                )
        if problems:
            described = "; ".join(
                f"invoice {p['invoice_number'] or '(no number)'} for PO {p['po_number'] or '(none)'}" for p in problems
            )
            raise UsDirectIncompleteAnswer(
                f"US Direct sent invoices that match no FR number flxhub asked for, or lack an invoice number or "
                f"total ({described}). Invoices are matched by the Flx PO number (the FR number, e.g. 54007-1): "
                f"check with US Direct that the invoice carries the FR number exactly as it was sent.",
                code="usdirect_invoice_unmatched",
                results=results,
                problems=problems,
            )
        return results


def order_body(fr: dict[str, Any]) -> dict[str, Any]:
    """Return the US Direct order body for a canonical FR (or pass through one already in US Direct's shape)."""
    ship_to = fr.get("ship_to") if isinstance(fr.get("ship_to"), dict) else {}
    ship_to = {key: _text(ship_to.get(key, fr.get(f"ship_to_{key}"))) for key in SHIP_TO_KEYS}
    code = fr.get("shipping_code") or fr.get("source_shipping_code") or ""
    if not code and fr.get("shipping_method") in SHIPPING_CODES:
        code = fr["shipping_method"]
    lines = fr.get("items") or fr.get("lines") or []
    items = [
        {"item_number": _text(line.get("item_number", line.get("sku"))), "quantity": _quantity(line.get("quantity"))}
        for line in lines
    ]
    return {
        "po_number": _text(fr.get("po_number") or fr.get("fr_number") or fr.get("number")),
        "ship_to": ship_to,
        "shipping_code": _text(code),
        "items": items,
    }


def order_problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (field path, the guide's label + where it comes from) for each empty required field or bad code."""
    problems = []
    for path, label, origin in REQUIRED_ORDER_FIELDS:
        if path.startswith("items[]."):
            key = path.removeprefix("items[].")
            for index, item in enumerate(body["items"]):
                if not item.get(key):
                    problems.append((f"items[{index}].{key}", f"{label} on line {index + 1} ({origin})"))
            continue
        value = body
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not value:
            problems.append((path, f"{label} ({origin})"))
    code = body["shipping_code"]
    if code and code not in SHIPPING_CODES:
        problems.append(("shipping_code", f"Shipping Code {code!r} is not one of {', '.join(SHIPPING_CODES)}"))
    return problems


def _missing_message(po_number: str, problems: list[tuple[str, str]]) -> str:
    fr = f"FR {po_number}" if po_number else "This FR"
    described = "; ".join(label for _, label in problems)
    return (
        f"{fr} was not sent to US Direct: a required order field is empty or invalid: {described}. "
        f"Correct it on the order or in the source's settings, then process the FR again."
    )


class _Client:
    """One US Direct conversation: a session with the bearer token, error translation and paging."""

    def __init__(self, settings: ConnectionSettings, reseller: bool):
        self.base = _base_url(settings)
        token = settings.options.get("api_token") or settings.options.get("token") or ""
        headers = {"Accept": "application/json"}
        if reseller and settings.options.get("reseller_token"):
            headers["X-Reseller-Token"] = settings.options["reseller_token"]
        # The HTTP feed transport brings the session (bearer token, TLS options) and its network-error verdicts.
        self.http = HTTPTransport(
            ConnectionSettings(
                kind="http",
                url=self.base or "http://",
                timeout=settings.timeout,
                options={"token": token, "headers": headers, "verify_tls": settings.options.get("verify_tls", True)},
            )
        )

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send one request; raise for answers no caller can handle (credentials, access, server trouble)."""
        if not self.base:
            raise UsDirectError("The US Direct connection has no base URL; enter the API address on the connection.")
        session = self.http.session()
        with self.http.request_errors():
            response = session.request(method, f"{self.base}{path}", timeout=self.http.settings.timeout, **kwargs)
        _raise_for_status(response, f"{method} {path.split('?')[0]}")
        return response

    def call(self, method: str, path: str, **kwargs) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        if response.status_code == 404:
            raise UsDirectError(f"US Direct has no {path} (HTTP 404): is the connection's URL the API's base URL?")
        return self.json(response, f"{method} {path}")

    def json(self, response: requests.Response, what: str) -> dict[str, Any]:
        if response.status_code >= 400:
            error = _error_of(response)
            raise UsDirectError(
                f"US Direct refused {what}: HTTP {response.status_code} {error.get('code', '')}: "
                f"{error.get('message', '')}".rstrip(": "),
                details={"status": response.status_code, **error},
            )
        try:
            data = response.json()
        except ValueError:
            raise UsDirectError(f"US Direct answered {what} with something that is not JSON.") from None
        if not isinstance(data, dict):
            raise UsDirectError(f"US Direct answered {what} with JSON that is not an object.")
        return data

    def order(self, po_number: str) -> dict[str, Any] | None:
        response = self.request("GET", f"/v1/orders/{requests.utils.quote(po_number, safe='')}")
        if response.status_code == 404:
            return None
        return self.json(response, "GET /v1/orders/{po_number}").get("order") or {}

    def pages(self, path: str, key: str, po_numbers: list[str]) -> Iterator[dict[str, Any]]:
        """Yield every record under ``key`` for the PO numbers, in chunks of PO numbers and pages."""
        for start in range(0, len(po_numbers), PO_NUMBERS_PER_CALL):
            chunk = po_numbers[start : start + PO_NUMBERS_PER_CALL]
            page = 1
            for _ in range(MAX_PAGES):
                params = {"po_number": chunk, "page": page, "per_page": PER_PAGE}
                data = self.json(self.request("GET", path, params=params), f"GET {path}")
                yield from data.get(key) or []
                page = data.get("next_page")
                if not page:
                    break
            else:
                raise UsDirectError(f"US Direct kept answering more pages of {path} after {MAX_PAGES}; stopped.")


@contextlib.contextmanager
def _client(settings: ConnectionSettings, reseller: bool = False) -> Iterator[_Client]:
    client = _Client(settings, reseller)
    try:
        yield client
    finally:
        client.http.close()


def _raise_for_status(response: requests.Response, what: str) -> None:
    """Raise the operator's error for credentials, access and server trouble; leave the rest to the caller."""
    status = response.status_code
    if status < 400 or status in {404, 409, 422}:
        return
    code = _error_of(response).get("code", "")
    if code == "reseller_token_required":
        raise UsDirectError(NO_RESELLER_TOKEN, code="usdirect_reseller_token_missing")
    if code == "invalid_reseller_token":
        raise UsDirectError(BAD_RESELLER_TOKEN.format(status=status), code="usdirect_reseller_token_rejected")
    if status == 401 or code == "invalid_token":
        raise UsDirectError(BAD_TOKEN.format(status=status), code="usdirect_auth_failed", details={"status": status})
    if status == 403:
        raise UsDirectError(NO_ACCESS, code="usdirect_access_disabled", details={"status": status})
    if status in {408, 429} or status >= 500:
        details = {"status": status}
        if response.headers.get("Retry-After"):
            details["retry_after"] = response.headers["Retry-After"]
        raise TransientTransportError(
            f"US Direct answered HTTP {status} to {what}: try again later",
            code="usdirect_unavailable",
            details=details,
        )


def _error_of(response: requests.Response) -> dict[str, Any]:
    """Return the ``error`` object of a US Direct error answer (empty when the body is not one)."""
    with contextlib.suppress(ValueError):
        error = response.json().get("error")
        if isinstance(error, dict):
            return error
    return {}


def _send_result(order: dict[str, Any]) -> SendResult:
    status = order.get("status")
    if status == "rejected":
        return SendResult("rejected", source_reference=_ref(order), message=order.get("reason") or "rejected")
    outcome = "accepted" if status == "accepted" else "received"
    return SendResult(outcome, source_reference=_ref(order))


def _ref(order: dict[str, Any]) -> str:
    return str(order.get("order_id") or "")


def _base_url(settings: ConnectionSettings) -> str:
    return (settings.url or "").rstrip("/")


def _generic_path(field: str) -> str:
    """``items[3].quantity`` → ``items[].quantity``, to find the guide's label of a field the API names."""
    head, bracket, rest = field.partition("[")
    return f"{head}[]{rest.partition(']')[2]}" if bracket else field


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _quantity(value: Any) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        return 0


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _datetime(value: Any) -> datetime | None:
    """Read an ISO date or date-time; a date means midnight UTC and a naive time is UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(str(value)), datetime.min.time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


PROTOCOL = UsDirectProtocol()
register_rest_protocol(PROTOCOL)
