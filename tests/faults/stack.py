"""A whole service on its own servers, for fault tests and the fault benchmark:
PostgreSQL and Redis of its own (``servers.py``), gunicorn, a Celery worker (prefork,
as in docker-compose) and Celery beat, a webhook receiver on 127.0.0.1, e-mails as
files. It can stop Redis or PostgreSQL, kill the worker, drive a booking load through
the OCTO API, and count afterwards what was delivered how often.

Nothing here touches the shared test servers."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.faults.servers import PostgresServer, RedisServer, free_port, temp_folder

ROOT = Path(__file__).resolve().parents[2]

# Short delays so a fault round settles in seconds, not the production minutes.
FAST_SWEEPS = {
    "OUTBOX_SWEEP_SECONDS": "2",
    "OUTBOX_SWEEP_GRACE_SECONDS": "3",
    "OUTBOX_RETRY_BASE_SECONDS": "2",
    "OUTBOX_LEASE_SECONDS": "40",
    "OUTBOX_MARK_RETRY_SECONDS": "30",
    "EMAIL_TIMEOUT": "5",
    "WEBHOOK_SWEEP_SECONDS": "2",
    "WEBHOOK_SWEEP_GRACE_SECONDS": "5",
    "WEBHOOK_RETRY_BASE_SECONDS": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
    "PLAN_SWEEP_SECONDS": "3",
    "PLAN_STUCK_AFTER_SECONDS": "45",
    "PLAN_MAX_REQUEUES": "3",
    "SOLVER_TIME_LIMIT_SECONDS": "5",
}


class Receiver:
    """Webhook receiver on 127.0.0.1: answers 200 and counts each request by its
    ``Idempotency-Key``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: collections.Counter[str] = collections.Counter()
        self.events: dict[str, dict] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.keys[key] += 1
                    with contextlib.suppress(ValueError):
                        receiver.events[key] = json.loads(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def mail_keys(folder: Path) -> collections.Counter[str]:
    """The ``X-Idempotency-Key`` of every e-mail the file backend wrote."""
    counts: collections.Counter[str] = collections.Counter()
    if not folder.exists():
        return counts
    for path in folder.iterdir():
        for match in re.finditer(
            r"^X-Idempotency-Key: (.+)$", path.read_text(errors="replace"), re.M
        ):
            counts[match.group(1).strip()] += 1
    return counts


@dataclass
class Answers:
    """What the service answered during the load: status codes, and every 5xx
    (whether JSON with Retry-After)."""

    codes: collections.Counter[int] = field(default_factory=collections.Counter)
    bad_5xx: list[str] = field(default_factory=list)
    json_503: int = 0
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, response: httpx.Response) -> None:
        with self.lock:
            self.codes[response.status_code] += 1
            if response.status_code < 500:
                return
            is_json = response.headers.get("content-type", "").startswith(
                "application/json"
            )
            if (
                response.status_code == 503
                and is_json
                and response.headers.get("retry-after")
            ):
                self.json_503 += 1
            else:
                self.bad_5xx.append(
                    f"{response.status_code} {response.request.url.path} "
                    f"{response.text[:200]}"
                )


class FaultStack:
    """``with FaultStack() as stack:`` everything started; stopped at the end."""

    def __init__(self, *, keep: bool = False, worker_concurrency: int = 2) -> None:
        self.folder = temp_folder("faults-")
        self.keep = keep or bool(os.environ.get("FAULTS_KEEP"))
        self.redis = RedisServer(self.folder / "redis")
        self.postgres = PostgresServer(self.folder / "pgcluster")
        self.receiver = Receiver()
        self.mail_dir = self.folder / "mail"
        self.web_port = free_port()
        self.worker_concurrency = worker_concurrency
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.worker_name = f"faults-{uuid.uuid4().hex[:6]}@localhost"
        self.worker_starts = 0
        self.world: dict[str, str] = {}
        self._logs: list = []

    # --- processes -------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "CELERY_", "EMAIL_", "PYTEST"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="tourism.settings",
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            CELERY_TASK_ALWAYS_EAGER="false",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SECURE_SSL_REDIRECT="false",
            OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            DJANGO_LOG_LEVEL="WARNING",
            API_KEY_RATE_LIMIT="100000/min",
            PLAN_RATE_LIMIT="100000/min",
            PYTHONUNBUFFERED="1",
            **FAST_SWEEPS,
        )
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("a")
        self._logs.append(log)
        return subprocess.Popen(
            args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_worker(self) -> None:
        self.worker = self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tourism.celery_app",
                "worker",
                "-l",
                "INFO",
                "--concurrency",
                str(self.worker_concurrency),
                "-n",
                self.worker_name,
            ],
        )
        self.worker_starts += 1
        self.wait_worker(60)

    def kill_worker(self) -> None:
        """SIGKILL the worker's main process and its pool children (an OOM kill, a
        host dying)."""
        if self.worker is None:
            return
        with contextlib.suppress(ProcessLookupError):
            children = subprocess.run(
                ["pgrep", "-P", str(self.worker.pid)], capture_output=True, text=True
            ).stdout.split()
            self.worker.kill()
            for pid in children:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
        self.worker.wait(timeout=20)

    def worker_alive(self) -> bool:
        return self.worker is not None and self.worker.poll() is None

    def ping_worker(self, timeout: float = 1.0) -> bool:
        from celery import Celery

        app = Celery("faults-probe", broker=self.redis.url)
        app.conf.broker_connection_retry_on_startup = False
        app.conf.broker_transport_options = {"max_retries": 0}
        try:
            replies = app.control.ping(destination=[self.worker_name], timeout=timeout)
            return bool(replies)
        except Exception:
            return False
        finally:
            app.close()

    def wait_worker(self, timeout: float) -> float:
        """Seconds until the worker answers a ping; raises if it does not."""
        started = time.monotonic()
        while not self.ping_worker():
            if not self.worker_alive():
                raise RuntimeError("worker exited:\n" + self.log("worker")[-3000:])
            if time.monotonic() - started > timeout:
                tail = self.log("worker")[-3000:]
                raise RuntimeError("worker did not answer:\n" + tail)
            time.sleep(0.3)
        return time.monotonic() - started

    def start(self) -> FaultStack:
        self.redis.start()
        self.postgres.start()
        self.receiver.start()
        setup = subprocess.run(
            [sys.executable, "-m", "tests.faults.setup_world", self.receiver.url],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if setup.returncode:
            raise RuntimeError(f"setup failed:\n{setup.stderr[-3000:]}")
        self.world = json.loads(setup.stdout.strip().splitlines()[-1])
        self.web = self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tourism.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "60",
            ],
        )
        self.beat = self._spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tourism.celery_app",
                "beat",
                "-l",
                "INFO",
                "--schedule",
                str(self.folder / "beat-schedule"),
            ],
        )
        self.start_worker()
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url("/healthz"), timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("web did not start:\n" + self.log("web")[-3000:])
            time.sleep(0.3)
        return self

    def stop(self) -> None:
        for process in (self.web, self.beat, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.web, self.beat, self.worker):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        if self.worker is not None:
            subprocess.run(["pkill", "-9", "-P", str(self.worker.pid)], check=False)
        self.receiver.stop()
        self.redis.stop()
        with contextlib.suppress(Exception):
            self.postgres.stop()
        for log in self._logs:
            log.close()
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> FaultStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- HTTP ------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def octo(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url("/api/octo"),
            headers={
                "Authorization": f"Bearer {self.world['api_key']}",
                "Octo-Capabilities": "",
            },
            timeout=30,
        )

    # --- database --------------------------------------------------------------

    def sql(self, query: str, *args: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.postgres.url, connect_timeout=5) as conn:
            return list(conn.execute(query, args).fetchall())


class BookingLoad:
    """Agency bookings through OCTO in threads: reserve, confirm, and cancel every
    fifth; each call retried with the same booking uuid (OCTO's idempotency key)
    until it is answered, as an agency's client would. Plans are asked for too."""

    def __init__(self, stack: FaultStack, *, threads: int = 4) -> None:
        self.stack = stack
        self.threads = threads
        self.answers = Answers()
        self.stop_event = threading.Event()
        self.bookings: list[str] = []
        self.plans: list[str] = []
        self.lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.start_day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=40)

    def _call(self, client: httpx.Client, method: str, path: str, body=None):
        while not self.stop_event.is_set():
            try:
                response = client.request(method, path, json=body)
            except httpx.HTTPError:
                with self.answers.lock:
                    self.answers.connection_errors += 1
                time.sleep(0.3)
                continue
            self.answers.record(response)
            if response.status_code == 503:
                time.sleep(0.3)
                continue
            return response
        return None

    def _one_booking(self, client: httpx.Client, n: int) -> None:
        day = self.start_day + dt.timedelta(days=n % 200)
        booking_uuid = str(uuid.uuid4())
        body = {
            "uuid": booking_uuid,
            "productId": self.stack.world["product_id"],
            "optionId": "DEFAULT",
            "availabilityId": f"{day.isoformat()}T00:00:00-05:00",
            "unitItems": [{"unitId": "adult"}],
        }
        reserved = self._call(client, "POST", "/bookings", body)
        if reserved is None or reserved.status_code != 200:
            return
        with self.lock:
            self.bookings.append(booking_uuid)
        confirmed = self._call(
            client,
            "POST",
            f"/bookings/{booking_uuid}/confirm",
            {"contact": {"fullName": f"Traveller {n}"}},
        )
        if confirmed is not None and n % 5 == 0:
            self._call(client, "POST", f"/bookings/{booking_uuid}/cancel", {})

    def _plan(self, client: httpx.Client, n: int) -> None:
        start = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30 + n % 20)
        body = {
            "origin": "cusco",
            "destination": "la-paz",
            "start_date": start.isoformat(),
            "days": 6,
            "nationality": "US",
        }
        response = self._call(client, "POST", self.stack.url("/api/v1/plans/"), body)
        if response is not None and response.status_code in (201, 202):
            with self.lock:
                self.plans.append(response.json()["id"])

    def _run(self, index: int) -> None:
        n = index
        with self.stack.octo() as client:
            while not self.stop_event.is_set():
                if n % 25 == index:
                    self._plan(client, n)
                self._one_booking(client, n)
                n += self.threads

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True)
            for i in range(self.threads)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=60)


@dataclass
class Tally:
    """After the faults: what should have gone out (from the bookings themselves)
    and what arrived, how often.

    ``*_duplicated``: an event that arrived under two different idempotency keys,
    or an e-mail nobody asked for: a receiver would process it twice (target 0).
    ``*_resent``: the same message (same key) arriving again, which happens only
    when a worker is killed between sending it and recording that it did; receivers
    drop it by its key (``Idempotency-Key``, the e-mail's ``Message-ID``)."""

    emails_expected: int
    emails_lost: int
    emails_duplicated: int
    emails_resent: int
    webhooks_expected: int
    webhooks_lost: int
    webhooks_duplicated: int
    webhooks_resent: int
    outbox_not_sent: int
    deliveries_not_delivered: int
    plans_total: int
    plans_stuck: int
    # (kind, status, last error) → rows, for what did not go out
    not_sent: dict[str, int] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return self.emails_lost + self.webhooks_lost

    @property
    def duplicated(self) -> int:
        return self.emails_duplicated + self.webhooks_duplicated

    @property
    def resent(self) -> int:
        return self.emails_resent + self.webhooks_resent


def expected_messages(stack: FaultStack) -> tuple[set[str], set[tuple[str, str]]]:
    """From the bookings table: the e-mail keys that must exist, and the (booking
    uuid, OCTO status) webhook events that must have arrived."""
    emails: set[str] = set()
    events: set[tuple[str, str]] = set()
    rows = stack.sql(
        "SELECT id, uuid::text, status, confirmed_at IS NOT NULL FROM providers_booking"
    )
    for pk, booking_uuid, status, was_confirmed in rows:
        events.add((booking_uuid, "ON_HOLD"))
        if was_confirmed:
            emails.add(f"booking:{pk}:booking_confirmed")
            events.add((booking_uuid, "CONFIRMED"))
        if status == "cancelled":
            events.add((booking_uuid, "CANCELLED"))
            if was_confirmed:
                emails.add(f"booking:{pk}:booking_cancelled")
    return emails, events


def settled(stack: FaultStack) -> bool:
    (pending,) = stack.sql(
        "SELECT (SELECT count(*) FROM outbox_message WHERE status = 'pending')"
        " + (SELECT count(*) FROM agencies_webhookdelivery WHERE status = 'pending')"
        " + (SELECT count(*) FROM itineraries_tripplan"
        "    WHERE status IN ('queued', 'solving'))"
    )[0]
    return pending == 0


def wait_settled(stack: FaultStack, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if settled(stack):
                return time.monotonic() - started
        except Exception:
            pass
        time.sleep(1)
    return time.monotonic() - started


def tally(stack: FaultStack) -> Tally:
    emails, events = expected_messages(stack)
    sent = mail_keys(stack.mail_dir)
    keys_per_event: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for key, event in stack.receiver.events.items():
        data = event["data"]
        keys_per_event[(data["bookingUuid"], data["status"])].add(key)
    (outbox_not_sent,) = stack.sql(
        "SELECT count(*) FROM outbox_message WHERE status <> 'sent'"
        " AND kind LIKE 'providers.%%'"
    )[0]
    (not_delivered,) = stack.sql(
        "SELECT count(*) FROM agencies_webhookdelivery WHERE status <> 'delivered'"
    )[0]
    plans = stack.sql("SELECT status FROM itineraries_tripplan")
    not_sent = {
        f"{kind} {status}: {error[:120]}": count
        for kind, status, error, count in stack.sql(
            "SELECT 'webhook', status, last_error, count(*)"
            " FROM agencies_webhookdelivery WHERE status <> 'delivered'"
            " GROUP BY 2, 3 UNION ALL"
            " SELECT kind, status, last_error, count(*) FROM outbox_message"
            " WHERE status <> 'sent' GROUP BY 1, 2, 3"
        )
    }
    return Tally(
        emails_expected=len(emails),
        emails_lost=len(emails - set(sent)),
        emails_duplicated=len(set(sent) - emails),
        emails_resent=sum(count - 1 for count in sent.values()),
        webhooks_expected=len(events),
        webhooks_lost=len(events - set(keys_per_event)),
        webhooks_duplicated=sum(len(keys) - 1 for keys in keys_per_event.values()),
        webhooks_resent=sum(count - 1 for count in stack.receiver.keys.values()),
        outbox_not_sent=outbox_not_sent,
        deliveries_not_delivered=not_delivered,
        plans_total=len(plans),
        plans_stuck=sum(1 for (status,) in plans if status in ("queued", "solving")),
        not_sent=not_sent,
    )
