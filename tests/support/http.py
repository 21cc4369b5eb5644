"""A real HTTP server on 127.0.0.1 for tests of outbound HTTP (feeds, suppliers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before answering
    trickle_s: float = 0.0  # between body chunks of 1 KiB
    handler: Callable[[BaseHTTPRequestHandler], Route | None] | None = None


@dataclass
class LocalServer:
    base_url: str
    routes: dict[str, Route]
    requests: list[dict[str, str]]

    def url(self, path: str) -> str:
        return self.base_url + path


@contextmanager
def local_http_server() -> Iterator[LocalServer]:
    routes: dict[str, Route] = {}
    requests: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            requests.append(
                {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
            )
            route = routes.get(self.path.split("?")[0])
            if route is None:
                self.send_response(404)
                self.end_headers()
                return
            if route.handler is not None:
                route = route.handler(self) or route
            if route.delay_s:
                time.sleep(route.delay_s)
            self.send_response(route.status)
            for key, value in route.headers.items():
                self.send_header(key, value)
            if route.status not in (204, 304):
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.trickle_s:
                    for start in range(0, len(route.body), 1024):
                        self.wfile.write(route.body[start : start + 1024])
                        self.wfile.flush()
                        time.sleep(route.trickle_s)
                elif route.status not in (204, 304):
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{server.server_port}", routes, requests)
    finally:
        server.shutdown()
        server.server_close()
