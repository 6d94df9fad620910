"""A supplier's polling client for the flxhub API, written as a supplier would: HTTP only, no flxhub imports.

It runs the loop of docs/api.md: poll the FRs waiting in ``processing`` with the cursor, take each into
"our" system, acknowledge it, post one shipment for what is open and an invoice at the routed cost. Every
POST carries an Idempotency-Key derived from the FR (not random), so a retry after a timeout, or after the
client itself restarts, replays the first answer instead of shipping or invoicing twice.

    .venv/bin/python bench/supplier_client.py http://127.0.0.1:8000 flx_1a2b3c4d_... \\
        [--updated-after 2025-03-01T00:00:00Z] [--state cursor.txt] [--carrier UPS]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import requests

API_PREFIX = "/api/v1"
# A request that timed out or lost its connection is sent again (same key) this many times in all.
ATTEMPTS = 4
RETRYABLE_STATUSES = {429, 502, 503, 504}


class ApiError(Exception):
    """flxhub refused a request: ``status`` and the ``{"code", "message", "details"}`` body."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.code = body.get("code", "")
        self.details = body.get("details")
        super().__init__(f"{status} {self.code}: {body.get('message', body)}")


@dataclass
class Handled:
    """What the client did for one FR: the answers it got, for its own records."""

    fr_id: int
    number: str
    shipment_id: int
    invoice_id: int
    match_status: str


@dataclass
class SupplierClient:
    """Poll one source's FRs and answer them over HTTP; ``cursor`` is the only state to keep between polls."""

    base_url: str
    token: str
    carrier: str = "UPS"
    timeout: float | tuple[float, float] = (3.0, 10.0)
    attempts: int = ATTEMPTS
    backoff_seconds: float = 0.2
    session: requests.Session = field(default_factory=requests.Session)
    cursor: str | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.session.headers["Accept"] = "application/json"

    # HTTP

    def _request(self, method: str, path: str, *, params=None, body=None, key: str | None = None) -> dict:
        """Send one request, retrying timeouts, lost connections, 429 and 5xx with the same Idempotency-Key."""
        headers = {"Idempotency-Key": key} if key else {}
        url = f"{self.base_url}{API_PREFIX}{path}"
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.session.request(
                    method, url, params=params, json=body, headers=headers, timeout=self.timeout
                )
            except (requests.Timeout, requests.ConnectionError):
                # The server may have done the work and lost only its answer: the same key makes the retry safe.
                if attempt == self.attempts:
                    raise
                time.sleep(self.backoff_seconds * attempt)
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < self.attempts:
                retry_after = response.headers.get("Retry-After")
                time.sleep(float(retry_after) if retry_after else self.backoff_seconds * attempt)
                continue
            body_out = response.json() if response.content else {}
            if response.status_code >= 400:
                raise ApiError(response.status_code, body_out)
            return body_out
        raise AssertionError("unreachable")  # the loop either returns or raises

    def get(self, path: str, **params) -> dict:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict | None, *, key: str) -> dict:
        return self._request("POST", path, body=body, key=key)

    def record(self, path: str, body: dict, *, key: str, kind: str) -> dict:
        """POST a shipment or invoice; if flxhub already holds it (409 ``<kind>_already_recorded``), return that one.

        The key replays our first answer for 24 h; after that, or from a run that lost its key, the 409 carries
        the record we sent before.
        """
        try:
            return self.post(path, body, key=key)
        except ApiError as exc:
            if exc.code == f"{kind}_already_recorded":
                return exc.details[kind]
            raise

    # The polling loop

    def poll(self, *, status: str = "processing", updated_after: str | None = None, limit: int = 100) -> Iterator[dict]:
        """Yield every FR in ``status`` changed since ``self.cursor`` (or ``updated_after``), page by page.

        ``self.cursor`` moves after each page, so a caller that stores it resumes where it stopped.
        """
        while True:
            page = self.get(
                "/fulfillment-requests",
                status=status,
                cursor=self.cursor,
                updated_after=None if self.cursor else updated_after,
                limit=limit,
            )
            yield from page["data"]
            self.cursor = page["next_cursor"] or self.cursor
            if not page["has_more"]:
                return

    def acknowledge(self, fr: dict, *, source_reference: str) -> dict:
        return self.post(
            f"/fulfillment-requests/{fr['id']}/acknowledge",
            {"source_reference": source_reference},
            key=f"ack-{fr['id']}",
        )

    def ship(self, fr: dict, *, tracking_number: str, shipped_at: datetime, cost: Decimal) -> dict:
        """Ship every open unit of ``fr`` in one box."""
        lines = [{"line_id": line["id"], "quantity": line["open_quantity"]} for line in fr["lines"]]
        body = {
            "fulfillment_request_id": fr["id"],
            "tracking_number": tracking_number,
            "carrier": self.carrier,
            "method": fr["source_shipping_code"] or fr["shipping_method"],
            "shipped_at": shipped_at.isoformat(),
            "cost": str(cost),
            "lines": [line for line in lines if line["quantity"] > 0],
        }
        return self.record("/shipments", body, key=f"ship-{fr['id']}-{tracking_number}", kind="shipment")

    def invoice(self, fr: dict, shipment: dict, *, invoice_number: str, invoice_date: date, charges: Decimal) -> dict:
        """Invoice what ``shipment`` holds at the cost the FR was routed at, plus ``charges``."""
        cost_by_line = {line["id"]: Decimal(line["cost"] or "0") for line in fr["lines"]}
        lines = [
            {
                "line_id": line["fr_line_id"],
                "quantity": line["quantity"],
                "unit_cost": str(cost_by_line[line["fr_line_id"]]),
            }
            for line in shipment["lines"]
        ]
        total = sum((Decimal(line["unit_cost"]) * line["quantity"] for line in lines), charges)
        body = {
            "fulfillment_request_id": fr["id"],
            "po_number": fr["number"],
            "invoice_number": invoice_number,
            "invoice_date": invoice_date.isoformat(),
            "charges": str(charges),
            "total": str(total),
            "lines": lines,
        }
        return self.record("/invoices", body, key=f"invoice-{invoice_number}", kind="invoice")

    def process(self, fr: dict) -> Handled:
        """Take ``fr`` into our system, then acknowledge, ship and invoice it."""
        # A real supplier writes the order into its own system here; ours is the FR number.
        reference = f"SO-{fr['number']}"
        fr = self.acknowledge(fr, source_reference=reference)
        cost = Decimal("7.45")
        shipment = self.ship(fr, tracking_number=f"1Z{fr['id']:012d}", shipped_at=datetime.now(UTC), cost=cost)
        invoice = self.invoice(
            fr, shipment, invoice_number=f"INV-{fr['number']}", invoice_date=datetime.now(UTC).date(), charges=cost
        )
        return Handled(
            fr_id=fr["id"],
            number=fr["number"],
            shipment_id=shipment["id"],
            invoice_id=invoice["id"],
            match_status=invoice["match_status"],
        )

    def run_once(self, *, updated_after: str | None = None) -> list[Handled]:
        """Poll once to the end of the feed and handle every FR found."""
        return [self.process(fr) for fr in self.poll(updated_after=updated_after)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("token", help="a source token (flx_<prefix>_<secret>)")
    parser.add_argument("--updated-after", help="start from this instant (ISO 8601) when there is no stored cursor")
    parser.add_argument("--state", type=Path, help="file that keeps the cursor between runs")
    parser.add_argument("--carrier", default="UPS")
    args = parser.parse_args(argv)

    client = SupplierClient(args.base_url, args.token, carrier=args.carrier)
    if args.state and args.state.exists():
        client.cursor = args.state.read_text().strip() or None
    try:
        for fr in client.poll(updated_after=args.updated_after):
            handled = client.process(fr)
            print(json.dumps(handled.__dict__), flush=True)
            if args.state and client.cursor:
                args.state.write_text(client.cursor)
    except ApiError as exc:
        print(f"flxhub refused: {exc}", file=sys.stderr)
        return 1
    if args.state and client.cursor:
        args.state.write_text(client.cursor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
