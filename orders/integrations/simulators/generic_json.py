"""A local supplier that speaks the generic JSON protocol, for tests and demos (stdlib HTTP on loopback).

with GenericJsonSupplier(token="t0ken") as supplier:
    supplier.url                       # the base URL for the connection
    supplier.fail_next_posts = 1       # answer 500 to the next POST /orders (nothing stored)
    supplier.store_then_fail = 1       # store the next order, then answer 500 (a lost answer)
    supplier.reject["54001-1"] = "Invalid address"
    supplier.outcome = "accepted"      # or "received"
    supplier.acks["54001-1"] = {...}   # what GET /acks answers for that PO; shipments / invoices alike
    supplier.posts                     # every FR payload it stored, in order
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class GenericJsonSupplier:
    def __init__(self, token: str = "supplier-token", host: str = "127.0.0.1"):
        self.token = token
        self.orders: dict[str, dict] = {}
        self.posts: list[dict] = []
        self.attempts = 0
        self.reject: dict[str, str] = {}
        self.outcome = "received"
        self.fail_next_posts = 0
        self.store_then_fail = 0
        self.acks: dict[str, dict] = {}
        self.shipments: dict[str, list[dict]] = {}
        self.invoices: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="generic-json-supplier", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> GenericJsonSupplier:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, number: str) -> dict:
        if number in self.reject:
            return {"status": "rejected", "message": self.reject[number], "reference": ""}
        return {"status": self.outcome, "reference": f"SUP-{number}", "message": ""}

    def _handler(self):
        supplier = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {supplier.token}":
                    self._send(401, {"message": "Bad credentials: unknown API token."})
                    return False
                return True

            def do_POST(self) -> None:
                if not self._authorized():
                    return
                if urlsplit(self.path).path != "/orders":
                    return self._send(404, {"message": "Not found"})
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                number = str(body.get("number", ""))
                with supplier.lock:
                    supplier.attempts += 1
                    if supplier.fail_next_posts > 0:
                        supplier.fail_next_posts -= 1
                        return self._send(500, {"message": "Internal error, try again"})
                    if not number or not body.get("lines"):
                        return self._send(422, {"message": "Missing required fields: number and lines."})
                    if number in supplier.orders:
                        return self._send(409, {"message": f"Order {number} already exists."})
                    if number in supplier.reject:
                        return self._send(422, supplier._answer(number))
                    supplier.orders[number] = body
                    supplier.posts.append(body)
                    if supplier.store_then_fail > 0:
                        supplier.store_then_fail -= 1
                        return self._send(500, {"message": "Stored, but the answer was lost"})
                    return self._send(201, supplier._answer(number))

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                parts = urlsplit(self.path)
                numbers = parse_qs(parts.query).get("po", [])
                with supplier.lock:
                    if parts.path.startswith("/orders/"):
                        number = unquote(parts.path[len("/orders/") :])
                        if number not in supplier.orders:
                            return self._send(404, {"message": "Unknown order"})
                        return self._send(200, supplier._answer(number))
                    if parts.path == "/acks":
                        acks = [{"po": n, **supplier.acks[n]} for n in numbers if n in supplier.acks]
                        return self._send(200, {"acks": acks})
                    if parts.path == "/shipments":
                        found = [{"po": n, **s} for n in numbers for s in supplier.shipments.get(n, [])]
                        return self._send(200, {"shipments": found})
                    if parts.path == "/invoices":
                        found = [{"po": n, **i} for n in numbers for i in supplier.invoices.get(n, [])]
                        return self._send(200, {"invoices": found})
                return self._send(404, {"message": "Not found"})

        return Handler
