"""The generic JSON supplier API: a plain REST shape many small suppliers can offer, with a bearer token.

    POST /orders                 the FR as JSON → 201/200 {"status": "accepted"|"received"|"rejected",
                                 "reference": "...", "message": "..."}; 409 when the number is known
    GET  /orders/{number}        → 200 the same answer for an FR the supplier has, 404 otherwise
    GET  /acks?po=A&po=B         → {"acks": [{"po": "A", "reference": "", "rejected_reason": "",
                                   "lines": [{"sku", "accepted", "backordered", "rejected", "reason"}]}]}
    GET  /shipments?po=…         → {"shipments": [{"po", "tracking_number", "carrier", "method", "shipped_at",
                                   "cost", "items": [{"sku", "quantity"}]}]}
    GET  /invoices?po=…          → {"invoices": [{"po", "invoice_number", "invoice_date", "total", "charges",
                                   "lines": [{"sku", "quantity", "unit_cost"}]}]}

The base URL is the connection's URL; the token is ``options["api_token"]`` (stored encrypted). A 5xx,
a timeout or a refused connection is transient (the run retries); a 401/403 fails the run with a message
an operator can act on; a 4xx answer to POST /orders is the supplier rejecting the FR.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from flxhub.exceptions import ApplicationError
from sources.transports.base import ConnectionSettings, TransientTransportError, TransportError

from .rest import (
    AckLine,
    AckResult,
    InvoiceLine,
    InvoiceResult,
    SendResult,
    ShipmentItem,
    ShipmentResult,
    register_rest_protocol,
)

OUTCOMES = {"accepted", "received", "rejected"}
BATCH = 50  # FR numbers per query string


class GenericJsonProtocol:
    name = "generic_json"

    def _request(self, settings: ConnectionSettings, method: str, path: str, **kwargs) -> requests.Response:
        if not settings.url:
            raise ApplicationError("The REST connection has no base URL.", code="rest_no_url")
        token = settings.options.get("api_token", "")
        if not token:
            raise ApplicationError(
                "The REST connection has no API token: add one on the connection card.", code="rest_no_token"
            )
        url = settings.url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            response = requests.request(method, url, headers=headers, timeout=settings.timeout, **kwargs)
        except requests.Timeout:
            raise TransientTransportError(
                f"Timed out after {settings.timeout:g} s waiting for the supplier API at {settings.url}",
                code="transport_timeout",
            ) from None
        except requests.RequestException as error:
            raise TransientTransportError(
                f"Could not reach the supplier API at {settings.url}: {type(error).__name__}", code="transport_reset"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientTransportError(
                f"The supplier API answered {response.status_code} to {method} {path}; will retry.",
                code="rest_server_error",
            )
        if response.status_code in (401, 403):
            raise TransportError(
                f"The supplier API refused the API token ({response.status_code}): check the token on the connection.",
                code="rest_bad_credentials",
            )
        return response

    def test(self, settings: ConnectionSettings) -> tuple[bool, str]:
        try:
            response = self._request(settings, "GET", "/acks", params={"po": []})
        except ApplicationError as error:
            return False, error.message
        return response.ok, f"The supplier API answered {response.status_code}."

    def send_fr(self, settings: ConnectionSettings, fr: dict[str, Any]) -> SendResult:
        response = self._request(settings, "POST", "/orders", json=fr)
        body = _json(response)
        if response.status_code == 409:
            known = self.find_fr(settings, fr["number"])
            if known is not None:
                return known
        if 400 <= response.status_code < 500:
            message = body.get("message") or body.get("error") or f"HTTP {response.status_code}"
            return SendResult("rejected", message=str(message))
        return _send_result(body)

    def find_fr(self, settings: ConnectionSettings, fr_number: str) -> SendResult | None:
        response = self._request(settings, "GET", f"/orders/{requests.utils.quote(fr_number, safe='')}")
        if response.status_code == 404:
            return None
        _raise_for_status(response)
        return _send_result(_json(response))

    def _query(self, settings: ConnectionSettings, path: str, key: str, fr_numbers: list[str]) -> list[dict]:
        items: list[dict] = []
        for start in range(0, len(fr_numbers), BATCH):
            response = self._request(settings, "GET", path, params={"po": fr_numbers[start : start + BATCH]})
            _raise_for_status(response)
            items.extend(_json(response).get(key) or [])
        return items

    def get_acks(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[AckResult]:
        return [
            AckResult(
                fr_number=str(item.get("po", "")),
                lines=[
                    AckLine(
                        sku=str(line.get("sku", "")),
                        accepted=int(line.get("accepted") or 0),
                        backordered=int(line.get("backordered") or 0),
                        rejected=int(line.get("rejected") or 0),
                        reason=str(line.get("reason") or ""),
                    )
                    for line in item.get("lines") or []
                ],
                rejected_reason=str(item.get("rejected_reason") or ""),
                source_reference=str(item.get("reference") or ""),
            )
            for item in self._query(settings, "/acks", "acks", fr_numbers)
        ]

    def get_shipments(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[ShipmentResult]:
        return [
            ShipmentResult(
                fr_number=str(item.get("po", "")),
                tracking_number=str(item.get("tracking_number") or ""),
                carrier=str(item.get("carrier") or ""),
                method=str(item.get("method") or ""),
                shipped_at=_datetime(item.get("shipped_at")),
                status=str(item.get("status") or ""),
                cost=_decimal(item.get("cost")),
                items=[
                    ShipmentItem(sku=str(line.get("sku", "")), quantity=int(line.get("quantity") or 0))
                    for line in item.get("items") or []
                ],
            )
            for item in self._query(settings, "/shipments", "shipments", fr_numbers)
        ]

    def get_invoices(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[InvoiceResult]:
        return [
            InvoiceResult(
                fr_number=str(item.get("po", "")),
                invoice_number=str(item.get("invoice_number") or ""),
                total=_decimal(item.get("total")) or Decimal("0"),
                invoice_date=_datetime(item.get("invoice_date")),
                charges=_decimal(item.get("charges")) or Decimal("0"),
                lines=[
                    InvoiceLine(
                        sku=str(line.get("sku", "")),
                        quantity=int(line.get("quantity") or 0),
                        unit_cost=_decimal(line.get("unit_cost")) or Decimal("0"),
                    )
                    for line in item.get("lines") or []
                ],
            )
            for item in self._query(settings, "/invoices", "invoices", fr_numbers)
        ]


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _raise_for_status(response: requests.Response) -> None:
    if not response.ok:
        raise TransportError(
            f"The supplier API answered {response.status_code} to {response.request.method} "
            f"{response.request.path_url}.",
            code="rest_error",
        )


def _send_result(body: dict) -> SendResult:
    outcome = str(body.get("status") or "received").lower()
    if outcome not in OUTCOMES:
        outcome = "received"
    return SendResult(
        outcome, source_reference=str(body.get("reference") or ""), message=str(body.get("message") or "")
    )


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _datetime(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


register_rest_protocol(GenericJsonProtocol())
