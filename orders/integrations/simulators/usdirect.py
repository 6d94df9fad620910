"""A local US Direct: the API of ``orders.integrations.usdirect`` on loopback, for tests and the demo.

Run it with ``python -m orders.integrations.simulators.usdirect --port 8765`` (``--help`` lists the
switches), or in a test with ``running_simulator()``. Its state lives in memory: a catalogue served as
the feed CSV, the orders received, and the shipments and invoices that appear for accepted orders after
``shipment_delay_seconds`` and ``invoice_delay_seconds``. Switches make it misbehave the way suppliers
do: ``bad_credentials`` (every token refused, as after a rotation), ``integration_access`` false,
``fail_status`` (e.g. 500, for ``fail_times`` requests or for good), ``delay_seconds`` (slow answers),
``omit_shipment_fields`` (e.g. ``["tracking_number"]``; only for the POs in ``omit_for_po_numbers`` if
that is set) and ``invoice_po_mismatch`` (invoices carry the order number instead of the FR number).

Test hooks, outside the API and without authentication: ``GET /_sim/state`` (config, orders and the
requests received, without headers), ``POST /_sim/config`` (merge switches), ``POST /_sim/catalogue``
(replace the catalogue: ``[{"sku", "name", "price", "quantity"}]``, strings allowed to be empty) and
``POST /_sim/reset``. It imports nothing from Django.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from orders.integrations.usdirect import REQUIRED_ORDER_FIELDS, SHIP_TO_KEYS, SHIPPING_CODES

FEED_HEADER = ("Product SKU", "Product Name", "Pricing", "Quantity")
CARRIERS = {"UPS-GND": "UPS", "FEDEX-EXP": "FedEx", "USPS-PRIORITY": "USPS"}
MAX_PER_PAGE = 100

# The demo's catalogue (orders.demo sells these SKUs) plus two items only US Direct carries.
DEFAULT_CATALOGUE = [
    *[
        {"sku": f"TRS-{size}", "name": f"Trail Running Shoe {size}", "price": "40.00", "quantity": "25"}
        for size in ("8", "9", "10", "11")
    ],
    *[
        {"sku": f"MHS-{size}", "name": f"Merino Hiking Sock {size}", "price": "5.50", "quantity": "60"}
        for size in ("S", "M", "L")
    ],
    {"sku": "IWB-750", "name": "Insulated Water Bottle 750ml", "price": "9.20", "quantity": "40"},
    *[
        {"sku": f"PRJ-{size}", "name": f"Packable Rain Jacket {size}", "price": "53.00", "quantity": "12"}
        for size in ("S", "M", "L", "XL")
    ],
    {"sku": "HL-400", "name": "Headlamp 400 lm", "price": "16.90", "quantity": "30"},
    {"sku": "CST-1", "name": "Compact Camp Stove", "price": "29.00", "quantity": "8"},
    {"sku": "TRK-POLE", "name": "Trekking Poles (pair)", "price": "34.50", "quantity": "15"},
]


@dataclasses.dataclass
class SimulatorConfig:
    """The simulator's switches; every one can be changed while it runs (``POST /_sim/config``)."""

    api_token: str = "demo-api-token"
    reseller_token: str = "demo-reseller-token"
    account: str = "flxhub-demo"
    bad_credentials: bool = False
    integration_access: bool = True
    fail_status: int = 0
    fail_times: int = 0  # 0: every request fails while fail_status is set
    delay_seconds: float = 0.0
    shipment_delay_seconds: float = 0.0
    invoice_delay_seconds: float = 0.0
    omit_shipment_fields: list[str] = dataclasses.field(default_factory=list)
    omit_for_po_numbers: list[str] = dataclasses.field(default_factory=list)  # empty: every shipment
    invoice_po_mismatch: bool = False
    order_status: str = "accepted"  # what a new order becomes: accepted or received
    invoice_shipping: str = "0.00"


class SimulatorState:
    """Catalogue, orders and switches, behind one lock; every method returns (HTTP status, JSON-able body)."""

    def __init__(self, config: SimulatorConfig | None = None, catalogue: list[dict[str, str]] | None = None):
        self.lock = threading.Lock()
        self._initial = (dataclasses.replace(config or SimulatorConfig()), list(catalogue or DEFAULT_CATALOGUE))
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config = dataclasses.replace(self._initial[0])
            self.config.omit_shipment_fields = list(self._initial[0].omit_shipment_fields)
            self.catalogue = [dict(row) for row in self._initial[1]]
            self.orders: dict[str, dict[str, Any]] = {}
            self.requests: list[dict[str, str]] = []

    def configure(self, **changes: Any) -> None:
        """Change switches; raise ValueError for a name the simulator does not have."""
        names = {f.name for f in dataclasses.fields(SimulatorConfig)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown switches: {', '.join(sorted(unknown))}; known: {', '.join(sorted(names))}")
        with self.lock:
            for name, value in changes.items():
                setattr(self.config, name, value)

    def take_failure(self) -> int:
        """Return the HTTP status to fail this request with, or 0; counts down ``fail_times``."""
        with self.lock:
            status = self.config.fail_status
            if status and self.config.fail_times:
                self.config.fail_times -= 1
                if self.config.fail_times == 0:
                    self.config.fail_status = 0
            return status

    def authenticate(self, token: str) -> tuple[int, dict] | None:
        """Return the error answer for a bad API token or a disabled account, else None."""
        config = self.config
        if not token:
            return _error(401, "missing_token", "Send Authorization: Bearer <API token>.")
        if config.bad_credentials or token != config.api_token:
            return _error(401, "invalid_token", "The API token is invalid or was rotated.")
        if not config.integration_access:
            return _error(403, "integration_access_disabled", "Integration access is not enabled for this account.")
        return None

    def account(self, reseller_token: str | None) -> tuple[int, dict]:
        if reseller_token is None:
            reseller = "absent"
        else:
            reseller = "valid" if reseller_token == self.config.reseller_token else "invalid"
        return 200, {"account": self.config.account, "integration_access": True, "reseller_token": reseller}

    def feed_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(FEED_HEADER)
        with self.lock:
            for row in self.catalogue:
                writer.writerow(
                    [row.get("sku", ""), row.get("name", ""), row.get("price", ""), row.get("quantity", "")]
                )
        return out.getvalue().encode()

    def create_order(self, body: Any) -> tuple[int, dict]:
        """Validate the order as the guide lists its required fields, then store it (once per PO number)."""
        if not isinstance(body, dict):
            return _error(400, "invalid_json", "The body must be a JSON object.")
        problem = _first_missing(body)
        if problem:
            path, label = problem
            return _error(422, "missing_required_field", f"Required field '{label}' is empty.", field=path)
        if body["shipping_code"] not in SHIPPING_CODES:
            message = f"Unknown shipping code; use one of {', '.join(SHIPPING_CODES)}."
            return _error(422, "invalid_shipping_code", message, field="shipping_code")
        with self.lock:
            prices = {row.get("sku"): row for row in self.catalogue}
            for index, item in enumerate(body["items"]):
                if item["item_number"] not in prices:
                    return _error(
                        422,
                        "unknown_item",
                        f"Item Number '{item['item_number']}' is not in the US Direct catalogue.",
                        field=f"items[{index}].item_number",
                    )
            po_number = str(body["po_number"])
            if po_number in self.orders:
                return _error(409, "duplicate_po_number", f"PO number {po_number} was already received.")
            seq = len(self.orders) + 1
            items = []
            for item in body["items"]:
                row = prices[item["item_number"]]
                quantity = int(item["quantity"])
                available = _int(row.get("quantity"))
                row["quantity"] = str(max(0, available - quantity))
                items.append(
                    {
                        "item_number": item["item_number"],
                        "quantity": quantity,
                        "backordered": max(0, quantity - available),
                        "unit_price": row.get("price") or "0",
                    }
                )
            order = {
                "po_number": po_number,
                "order_id": f"USD-ORD-{seq:06d}",
                "seq": seq,
                "status": self.config.order_status,
                "reason": "",
                "ship_to": {key: body["ship_to"].get(key, "") for key in SHIP_TO_KEYS},
                "shipping_code": body["shipping_code"],
                "items": items,
                "created_at": time.time(),
            }
            self.orders[po_number] = order
        return 201, {"order": _public_order(order)}

    def get_order(self, po_number: str) -> tuple[int, dict]:
        order = self.orders.get(po_number)
        if order is None:
            return _error(404, "order_not_found", f"No order with PO number {po_number}.")
        return 200, {"order": _public_order(order)}

    def shipments(self, po_numbers: list[str]) -> list[dict[str, Any]]:
        """The shipments of accepted orders older than the shipment delay, for these PO numbers (all if none)."""
        now, config = time.time(), self.config
        found = []
        for order in self._orders_for(po_numbers):
            shipped_at = order["created_at"] + config.shipment_delay_seconds
            if order["status"] != "accepted" or now < shipped_at:
                continue
            shipment = {
                "po_number": order["po_number"],
                "tracking_number": _tracking_number(order),
                "status": "shipped",
                "ship_date": _iso(shipped_at),
                "carrier": CARRIERS[order["shipping_code"]],
                "service": order["shipping_code"],
                "items": [{"item_number": i["item_number"], "quantity": i["quantity"]} for i in order["items"]],
            }
            if not config.omit_for_po_numbers or order["po_number"] in config.omit_for_po_numbers:
                for name in config.omit_shipment_fields:
                    shipment.pop(name, None)
            found.append(shipment)
        return found

    def invoices(self, po_numbers: list[str]) -> list[dict[str, Any]]:
        """The invoices of shipped orders older than both delays, for these PO numbers (all if none)."""
        now, config = time.time(), self.config
        found = []
        for order in self._orders_for(po_numbers):
            invoiced_at = order["created_at"] + config.shipment_delay_seconds + config.invoice_delay_seconds
            if order["status"] != "accepted" or now < invoiced_at:
                continue
            shipping = Decimal(config.invoice_shipping)
            total = sum((Decimal(i["unit_price"]) * i["quantity"] for i in order["items"]), shipping)
            po_number = order["po_number"]
            if config.invoice_po_mismatch:
                po_number = po_number.rsplit("-", 1)[0]
            found.append(
                {
                    "invoice_number": f"USD-INV-{order['seq']:06d}",
                    "po_number": po_number,
                    "invoice_date": _iso(invoiced_at)[:10],
                    "total": str(total),
                    "shipping": str(shipping),
                    "items": [
                        {"item_number": i["item_number"], "quantity": i["quantity"], "unit_price": i["unit_price"]}
                        for i in order["items"]
                    ],
                }
            )
        return found

    def _orders_for(self, po_numbers: list[str]) -> list[dict[str, Any]]:
        with self.lock:
            if not po_numbers:
                return list(self.orders.values())
            return [self.orders[po] for po in po_numbers if po in self.orders]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "config": dataclasses.asdict(self.config),
                "orders": [_public_order(order) | {"ship_to": order["ship_to"]} for order in self.orders.values()],
                "requests": list(self.requests),
                "catalogue": list(self.catalogue),
            }


class SimulatorHandler(BaseHTTPRequestHandler):
    """Routes requests to the server's SimulatorState."""

    server: SimulatorServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.verbose:
            super().log_message(format, *args)

    def _handle(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        body = self._body()
        if url.path.startswith("/_sim/"):
            self._answer(*self._sim(method, url.path, body))
            return
        with state.lock:
            state.requests.append({"method": method, "path": url.path})
        if state.config.delay_seconds:
            time.sleep(state.config.delay_seconds)
        failure = state.take_failure()
        if failure:
            self._answer(*_error(failure, "server_error", "US Direct is having trouble; try again later."))
            return
        token = self._bearer()
        if not token and url.path == "/v1/feed.csv":
            token = (query.get("token") or [""])[0]  # the feed URL may carry the token for URL-only tools
        refused = state.authenticate(token)
        if refused:
            self._answer(*refused)
            return
        self._answer(*self._api(method, url.path, query, body))

    def _api(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        state = self.server.state
        po_numbers = [po for value in query.get("po_number", []) for po in value.split(",") if po]
        if (method, path) == ("GET", "/v1/account"):
            return state.account(self.headers.get("X-Reseller-Token"))
        if (method, path) == ("GET", "/v1/feed.csv"):
            return 200, state.feed_csv()
        if (method, path) == ("POST", "/v1/orders"):
            return state.create_order(body)
        if method == "GET" and path.startswith("/v1/orders/"):
            return state.get_order(unquote(path.removeprefix("/v1/orders/")))
        if (method, path) == ("GET", "/v1/shipments"):
            return 200, _page(state.shipments(po_numbers), "shipments", query)
        if (method, path) == ("GET", "/v1/invoices"):
            reseller = self.headers.get("X-Reseller-Token")
            if not reseller:
                return _error(401, "reseller_token_required", "Get Invoice needs the X-Reseller-Token header.")
            if reseller != state.config.reseller_token:
                return _error(403, "invalid_reseller_token", "The reseller token is invalid or was rotated.")
            return 200, _page(state.invoices(po_numbers), "invoices", query)
        return _error(404, "not_found", f"No such endpoint: {method} {path}")

    def _sim(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        state = self.server.state
        if (method, path) == ("GET", "/_sim/state"):
            return 200, state.snapshot()
        if (method, path) == ("POST", "/_sim/config"):
            try:
                state.configure(**(body or {}))
            except (TypeError, ValueError) as exc:
                return _error(400, "invalid_config", str(exc))
            return 200, dataclasses.asdict(state.config)
        if (method, path) == ("POST", "/_sim/catalogue"):
            with state.lock:
                state.catalogue = [
                    {key: str(row.get(key, "")) for key in ("sku", "name", "price", "quantity")} for row in body or []
                ]
            return 200, {"catalogue": len(state.catalogue)}
        if (method, path) == ("POST", "/_sim/reset"):
            state.reset()
            return 200, {"reset": True}
        return _error(404, "not_found", f"No such simulator endpoint: {method} {path}")

    def _bearer(self) -> str:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def _answer(self, status: int, payload: Any) -> None:
        if isinstance(payload, bytes):
            data, content_type = payload, "text/csv; charset=utf-8"
        else:
            data, content_type = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if status in (429, 503):
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimulatorState, verbose: bool = False):
        super().__init__(address, SimulatorHandler)
        self.state = state
        self.verbose = verbose

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def feed_url(self) -> str:
        return f"{self.base_url}/v1/feed.csv"


@contextlib.contextmanager
def running_simulator(**config: Any) -> Iterator[SimulatorServer]:
    """Start a simulator in a thread on a free loopback port; yield the server (``base_url``, ``state``)."""
    server = SimulatorServer(("127.0.0.1", 0), SimulatorState(SimulatorConfig(**config)))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="usdirect-simulator", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _first_missing(body: dict[str, Any]) -> tuple[str, str] | None:
    """The first required field (path, the guide's label) that is empty, in the guide's order."""
    for path, label, _ in REQUIRED_ORDER_FIELDS:
        if path.startswith("items[]."):
            key = path.removeprefix("items[].")
            for index, item in enumerate(body.get("items") or []):
                if not isinstance(item, dict) or not item.get(key):
                    return f"items[{index}].{key}", label
            continue
        value: Any = body
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not value:
            return path, label
    return None


def _page(records: list[dict[str, Any]], key: str, query: dict[str, list[str]]) -> dict[str, Any]:
    page = max(1, _int((query.get("page") or ["1"])[0]))
    per_page = min(MAX_PER_PAGE, max(1, _int((query.get("per_page") or ["50"])[0])))
    start = (page - 1) * per_page
    more = start + per_page < len(records)
    return {
        key: records[start : start + per_page],
        "page": page,
        "per_page": per_page,
        "total": len(records),
        "next_page": page + 1 if more else None,
    }


def _public_order(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "po_number": order["po_number"],
        "order_id": order["order_id"],
        "status": order["status"],
        "reason": order["reason"],
        "shipping_code": order["shipping_code"],
        "items": [{k: i[k] for k in ("item_number", "quantity", "backordered")} for i in order["items"]],
        "created_at": _iso(order["created_at"]),
    }


def _tracking_number(order: dict[str, Any]) -> str:
    digest = int(hashlib.sha256(order["po_number"].encode()).hexdigest(), 16)
    return {
        "UPS": f"1ZUSD{digest % 10**11:011d}",
        "FedEx": f"{digest % 10**12:012d}",
        "USPS": f"9400{digest % 10**18:018d}",
    }[CARRIERS[order["shipping_code"]]]


def _error(status: int, code: str, message: str, field: str | None = None) -> tuple[int, dict]:
    error = {"code": code, "message": message}
    if field:
        error["field"] = field
    return status, {"error": error}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _int(value: Any) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local US Direct API for flxhub's tests and demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-token", default=SimulatorConfig.api_token)
    parser.add_argument("--reseller-token", default=SimulatorConfig.reseller_token)
    parser.add_argument("--shipment-delay", type=float, default=0.0, help="seconds before an order ships")
    parser.add_argument("--invoice-delay", type=float, default=0.0, help="seconds after shipping before invoicing")
    parser.add_argument("--bad-credentials", action="store_true", help="refuse every API token")
    parser.add_argument("--no-integration-access", action="store_true", help="answer 403 to every API call")
    parser.add_argument("--fail-status", type=int, default=0, help="answer every API call with this status")
    parser.add_argument("--fail-times", type=int, default=0, help="only the next N calls fail (0: all)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--omit-shipment-fields", default="", help="e.g. tracking_number,ship_date")
    parser.add_argument("--invoice-po-mismatch", action="store_true", help="invoices name the order, not the FR")
    parser.add_argument("--order-status", choices=["accepted", "received"], default="accepted")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    config = SimulatorConfig(
        api_token=args.api_token,
        reseller_token=args.reseller_token,
        bad_credentials=args.bad_credentials,
        integration_access=not args.no_integration_access,
        fail_status=args.fail_status,
        fail_times=args.fail_times,
        delay_seconds=args.delay,
        shipment_delay_seconds=args.shipment_delay,
        invoice_delay_seconds=args.invoice_delay,
        omit_shipment_fields=[name for name in args.omit_shipment_fields.split(",") if name],
        invoice_po_mismatch=args.invoice_po_mismatch,
        order_status=args.order_status,
    )
    server = SimulatorServer((args.host, args.port), SimulatorState(config), verbose=args.verbose)
    print(f"US Direct simulator on {server.base_url} (feed {server.feed_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
