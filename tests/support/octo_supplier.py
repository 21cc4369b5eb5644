"""A fake OCTO supplier (a provider's own reservation system) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "supplier-secret"


@dataclass
class FakeSupplier:
    base_url: str
    # product id -> option ids
    products: dict[str, list[str]] = field(default_factory=dict)
    # (product, date) -> status, vacancies, capacity ; missing dates are AVAILABLE 10/10
    days: dict[tuple[str, str], tuple[str, int | None, int | None]] = field(
        default_factory=dict
    )
    start_times: list[str] = field(default_factory=lambda: ["09:00"])
    fail_with: int | None = None
    requests: list[tuple[str, str, dict]] = field(default_factory=list)


def _day_item(supplier: FakeSupplier, product: str, day: dt.date) -> dict:
    status, vacancies, capacity = supplier.days.get(
        (product, day.isoformat()), ("AVAILABLE", 10, 10)
    )
    return {
        "localDate": day.isoformat(),
        "available": status in ("AVAILABLE", "LIMITED", "FREESALE"),
        "status": status,
        "vacancies": vacancies,
        "capacity": capacity,
        "openingHours": [],
    }


@contextmanager
def fake_octo_supplier() -> Iterator[FakeSupplier]:
    supplier = FakeSupplier(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                self._send(401, {"error": "UNAUTHORIZED", "errorMessage": "bad key"})
                return False
            if supplier.fail_with:
                self._send(supplier.fail_with, {"error": "INTERNAL_SERVER_ERROR"})
                return False
            return True

        def do_GET(self) -> None:
            supplier.requests.append(("GET", self.path, {}))
            if not self._authorised():
                return
            if self.path == "/products":
                self._send(
                    200,
                    [
                        {
                            "id": pid,
                            "internalName": f"Product {pid}",
                            "options": [{"id": o} for o in options],
                        }
                        for pid, options in supplier.products.items()
                    ],
                )
            else:
                self._send(404, {"error": "NOT_FOUND"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            supplier.requests.append(("POST", self.path, body))
            if not self._authorised():
                return
            product = body.get("productId")
            if product not in supplier.products:
                self._send(400, {"error": "INVALID_PRODUCT_ID", "productId": product})
                return
            start = dt.date.fromisoformat(body["localDateStart"])
            end = dt.date.fromisoformat(body["localDateEnd"])
            days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
            if self.path == "/availability/calendar":
                self._send(200, [_day_item(supplier, product, d) for d in days])
            elif self.path == "/availability":
                items = []
                for d in days:
                    day = _day_item(supplier, product, d)
                    for t in supplier.start_times:
                        start_at = f"{d.isoformat()}T{t}:00-05:00"
                        items.append(
                            {
                                "id": start_at,
                                "localDateTimeStart": start_at,
                                "localDateTimeEnd": start_at,
                                "allDay": False,
                                "status": day["status"],
                                "vacancies": day["vacancies"],
                                "capacity": day["capacity"],
                            }
                        )
                self._send(200, items)
            else:
                self._send(404, {"error": "NOT_FOUND"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    supplier.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield supplier
    finally:
        server.shutdown()
        server.server_close()
