"""Agencies, an agency booking to change, and a real HTTP server on 127.0.0.1 that
receives webhooks (http.server in a thread; no HTTP mocks)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from agencies.models import Agency
from agencies.services import NewKey, agency_create
from providers.models import Booking, Listing
from providers.services import booking_hold
from tests.providers.factories import make_listing, make_provider


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    """admin_client's superuser: no slow password hashing in these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class WebhookServer:
    """``answer(path, 500, 200)``: the statuses of the next requests to ``path`` (the
    last one repeats; 200 when nothing is set)."""

    base_url: str
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, path: str = "/hooks") -> str:
        return self.base_url + path

    def answer(
        self,
        path: str,
        *statuses: int,
        delay_s: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.statuses[path] = list(statuses) or [200]
        self.delays[path] = delay_s
        self.headers[path] = headers or {}

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@pytest.fixture
def webhook_server(settings) -> Iterator[WebhookServer]:
    """The server, and the SSRF guard opened to 127.0.0.0/8 (tests only)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            path = self.path.split("?")[0]
            with lock:
                state.received.append(
                    Received(
                        path=path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                queue = state.statuses.get(path, [200])
                status = queue.pop(0) if len(queue) > 1 else queue[0]
            if state.delays.get(path):
                time.sleep(state.delays[path])
            try:
                self.send_response(status)
                for key, value in state.headers.get(path, {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = WebhookServer(f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def agency_key(db) -> tuple[Agency, NewKey]:
    return agency_create(
        name="Andes Travel", contact_email="ops@andes.example", commission_bps=1000
    )


@pytest.fixture
def agency(agency_key) -> Agency:
    return agency_key[0]


@pytest.fixture
def other_agency_key(db) -> tuple[Agency, NewKey]:
    return agency_create(name="Lago Tours", contact_email="hi@lago.example")


@pytest.fixture
def listing(small_catalogue) -> Listing:
    return make_listing(make_provider())


@pytest.fixture
def day() -> dt.date:
    """A date well past the listing's booking cut-off."""
    return timezone.localdate() + dt.timedelta(days=30)


@pytest.fixture
def hold(listing, day) -> Callable[..., Booking]:
    """``hold(agency=…)``: an agency hold on ``listing`` for two adults."""

    def make(**kw: object) -> Booking:
        return booking_hold(
            listing=listing,
            day=day,
            start_time=None,
            units={"adult": 2},
            channel=Booking.Channel.AGENCY,
            reseller_reference="AT-1001",
            **kw,
        )

    return make
