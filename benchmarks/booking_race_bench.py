"""Agency booking races through gunicorn on PostgreSQL (a benchmark, not a test).

The project is served by gunicorn (a subprocess on 127.0.0.1, a random port, DEBUG
off) on a fresh PostgreSQL database, and a threaded HTTP client in this process fires
requests that all start at the same moment (every thread connects, then waits on a
barrier):

1. **OCTO reserve race:** 200 ``POST /api/octo/bookings`` (each with its own uuid,
   one adult each, 10 agencies' API keys) for one tour slot with capacity 10.
   Expected: exactly 10 ``ON_HOLD``, 190 clean ``UNPROCESSABLE_ENTITY`` (HTTP 400),
   no 5xx and no connection error; the slot row holds 10, books 0, and matches its
   ON_HOLD bookings.
2. **Whole-itinerary hold race:** one plan solved through ``POST /api/v1/plans/``
   (Cusco → La Paz, 6 days, 2 adults, on the seeded route and demo listings), copied
   to 50 agencies (a plan is held once at a time, and an agency's plan is its own);
   the 50 agencies ``POST /api/v1/plans/{id}/hold`` at once. Every slot of the plan
   has room for all of them except one homestay night, which has ``--beds`` beds.
   Expected: exactly beds // 2 trips held (201), the others 409 naming that night's
   step only, no 5xx, and every slot's counters equal to the held trips' parts.

Needs a running PostgreSQL server (``DATABASE_URL``, a user with CREATEDB) and
preferably Redis (``REDIS_URL``: the cache and so the API-key throttle live there, as
in production; without it each gunicorn worker throttles on its own)::

    bin/with-services .venv/bin/python benchmarks/booking_race_bench.py

The script creates the database ``booking_bench_<random>`` on that server, migrates
and seeds it, and drops it at the end (``--keep-db`` keeps it). The shared harness
(gunicorn, memory sampling, the HTTP client, seeding) is imported by
``booking_latency_bench.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import resource
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import admin_sql, with_database  # noqa: E402

HOST = "127.0.0.1"
CAPS = "octo/pricing"  # what a reselling agency asks for (prices in the answers)
# Per-request line in gunicorn's access log: method, path, status, microseconds.
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
RATE_LIMIT = "1000000/min"  # API_KEY_RATE_LIMIT and PLAN_RATE_LIMIT while benchmarking


# --- Machine, database, figures -------------------------------------------------------


def machine_line() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f} (1 / 5 / 15 min) at the start"
    )


def command_line(script: str) -> str:
    args = shlex.join(sys.argv[1:])
    return (
        "bin/with-services "
        + shlex.join([".venv/bin/python", script])
        + (" " + args if args else "")
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    try:
        return [
            int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def postgres_postmaster() -> int | None:
    """The PostgreSQL server's main process when it runs on this machine (the parent
    of this connection's backend), else None."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        stat = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(stat[1])


def tree_cpu_seconds(parent: int) -> float:
    """CPU time of a process and its children so far: the live ones, and those that
    ended (their time is added to the parent's cutime/cstime when it reaps them)."""
    try:
        fields = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for pid in children_of(parent):
        with contextlib.suppress(OSError):
            total += process_cpu_seconds(pid)
    return total


def _status_kib(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Environment:
    """The benchmark database and the settings both this process and gunicorn use."""

    base_url: str
    name: str
    env: dict[str, str]
    keep: bool = False

    @classmethod
    def create(cls, prefix: str, *, keep: bool, eager: bool = True) -> Environment:
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith(("postgres://", "postgresql://")):
            raise SystemExit(
                "error: set DATABASE_URL=postgres://… (bin/with-services sets it)"
            )
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        admin_sql(base, f'CREATE DATABASE "{name}"')
        env = {
            **os.environ,
            "DATABASE_URL": with_database(base, name),
            "DJANGO_SETTINGS_MODULE": "tourism.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # throwaway
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on 127.0.0.1
            # Eager: tasks run inside the request (the race's one plan solve). Not
            # eager: a Celery worker (CeleryWorker) takes them from Redis, as in
            # production (the providers' booking emails).
            "CELERY_TASK_ALWAYS_EAGER": "true" if eager else "false",
            # Notification emails are rendered, not sent (no mail server).
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),  # as compose
            "API_KEY_RATE_LIMIT": RATE_LIMIT,
            "PLAN_RATE_LIMIT": RATE_LIMIT,
            "CACHE_KEY_PREFIX": name,  # own throttle keys on a shared Redis
            "DJANGO_LOG_LEVEL": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
            "PYTHONUNBUFFERED": "1",
        }
        os.environ.update(env)
        return cls(base_url=base, name=name, env=env, keep=keep)

    def setup_django(self) -> None:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

    def drop(self) -> None:
        from django.db import connections

        connections.close_all()
        if not self.keep:
            admin_sql(
                self.base_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'
            )


# --- gunicorn -------------------------------------------------------------------------


def add_server_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--worker-class",
        choices=["sync", "gthread"],
        default="sync",
        help="gunicorn worker class (default sync, as the Dockerfile)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn workers (default 2 × CPUs + 1, gunicorn's own advice)",
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gthread worker"
    )
    parser.add_argument("--keep-db", action="store_true")


def server_line(args: argparse.Namespace) -> str:
    kind = (
        f"gthread, {args.workers} workers × {args.threads} threads"
        if args.worker_class == "gthread"
        else f"sync, {args.workers} workers"
    )
    redis = "Redis" if os.environ.get("REDIS_URL") else "local memory (no REDIS_URL)"
    return (
        f"gunicorn {kind}; DEBUG off; DB_CONN_MAX_AGE="
        f"{os.environ.get('DB_CONN_MAX_AGE')}; cache and throttle: {redis}; "
        f"API_KEY_RATE_LIMIT={RATE_LIMIT}; Celery "
        + (
            "eager"
            if os.environ.get("CELERY_TASK_ALWAYS_EAGER") == "true"
            else "worker (1 process, solo pool) on Redis"
        )
    )


class Gunicorn:
    """``gunicorn tourism.wsgi`` as a subprocess on 127.0.0.1:<random port>."""

    def __init__(
        self,
        args: argparse.Namespace,
        env: dict[str, str],
        logs: Path,
        *,
        app: str = "tourism.wsgi:application",
    ):
        self.port = free_port()
        self.logs = logs
        self.access_log = logs / "access.log"
        self.error_log = logs / "error.log"
        self.stderr_log = logs / "stderr.log"  # Django's own log (WARNING and up)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--pythonpath",
            str(ROOT / "benchmarks"),
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--timeout",
            "120",
            "--backlog",
            "2048",
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_FORMAT,
            "--error-logfile",
            str(self.error_log),
        ]
        if args.worker_class == "gthread":
            command += ["--threads", str(args.threads)]
        with self.stderr_log.open("wb") as stderr:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    def pids(self) -> list[int]:
        """The master and its workers."""
        return [self.process.pid, *children_of(self.process.pid)]

    def wait_ready(self, key: str, workers: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        client = Client(self.port, key)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if len(self.pids()) > workers:
                result = client.call("GET", "/api/octo/supplier")
                if result.status == 200:
                    client.close()
                    return
            time.sleep(0.2)
        tail = (
            self.error_log.read_text()[-4000:] if self.error_log.exists() else "(none)"
        )
        raise SystemExit(f"gunicorn did not start; its log:\n{tail}")

    def access_times(self) -> list[tuple[str, str, int, float]]:
        """(method, path, status, seconds) of every request so far."""
        rows = []
        if not self.access_log.exists():
            return rows
        for line in self.access_log.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
                rows.append((parts[0], parts[1], int(parts[2]), int(parts[3]) / 1e6))
        return rows

    def errors_logged(self) -> int:
        """Tracebacks in gunicorn's and Django's logs (a 5xx leaves one)."""
        return sum(
            log.read_text().count("Traceback (most recent call last)")
            for log in (self.error_log, self.stderr_log)
            if log.exists()
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class CeleryWorker:
    """``celery worker`` (one process, solo pool) on the benchmark's Redis and
    database, run as docker-compose runs it beside gunicorn: at a lower CPU priority
    (``nice -n 10``), so background work yields to requests when the CPUs are full
    and catches up after."""

    def __init__(self, env: dict[str, str], logs: Path, *, nice: int = 10):
        if not env.get("REDIS_URL"):
            raise SystemExit("error: set REDIS_URL (bin/with-services sets it)")
        self.nice = nice
        self.log = logs / "celery.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    "nice",
                    "-n",
                    str(nice),
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tourism.celery_app",
                    "worker",
                    "--pool=solo",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=WARNING",
                    "-n",
                    f"bench-{uuid.uuid4().hex[:8]}@localhost",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        from tourism.celery_app import app

        deadline = time.monotonic() + timeout
        while not app.control.ping(timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"error: the Celery worker did not start ({self.log})")

    def queue_length(self) -> int:
        """Messages waiting in the default queue."""
        from tourism.celery_app import app

        with app.connection_for_read() as connection:
            return connection.default_channel.client.llen("celery")

    def drain(self, timeout: float = 300.0) -> float | None:
        """Seconds until the queue is empty (None: not within ``timeout``)."""
        started = time.monotonic()
        while self.queue_length() > 0:
            if time.monotonic() - started > timeout:
                return None
            time.sleep(0.2)
        return time.monotonic() - started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class MemorySampler(threading.Thread):
    """Samples the summed RSS (and PSS) of gunicorn's master and workers every
    ``interval`` seconds; remembers the peaks and each worker's VmHWM."""

    def __init__(self, server: Gunicorn, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_pss_kib = 0
        self.hwm_kib: dict[int, int] = {}
        self.samples = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        pids = self.server.pids()
        self.peak_rss_kib = max(
            self.peak_rss_kib, sum(_status_kib(p, "VmRSS") for p in pids)
        )
        if self.samples % 5 == 0:  # PSS walks the page tables: less often
            self.peak_pss_kib = max(self.peak_pss_kib, sum(_pss_kib(p) for p in pids))
        for pid in pids:
            self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), _status_kib(pid, "VmHWM"))
        self.samples += 1

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()

    def line(self) -> str:
        master = self.server.process.pid
        workers = sorted(kib for pid, kib in self.hwm_kib.items() if pid != master)
        worker_text = (
            f"{workers[0] / 1024:.0f}–{workers[-1] / 1024:.0f} MiB each"
            if workers
            else "?"
        )
        client = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (
            f"peak memory: gunicorn master + {len(workers)} workers "
            f"{self.peak_rss_kib / 1024:.0f} MiB RSS summed "
            f"({self.peak_pss_kib / 1024:.0f} MiB PSS; workers' VmHWM {worker_text}, "
            f"master {self.hwm_kib.get(master, 0) / 1024:.0f} MiB; "
            f"{self.samples} samples); client (this script) "
            f"{client / 1024:.0f} MiB VmHWM"
        )


# --- HTTP client ----------------------------------------------------------------------


@dataclass
class Result:
    status: int | None  # None: the connection failed
    data: Any
    seconds: float
    error: str = ""


class Client:
    """One keep-alive connection (re-opened when the server closes it, as a sync
    worker does after every response) with an agency's API key.

    A request that cannot even be sent on a kept-alive connection (the server had
    closed it: broken pipe, reset) is sent once more on a new connection, as HTTP
    clients do, and counted in ``resent``; any other failure is an error."""

    def __init__(self, port: int, key: str, timeout: float = 120.0) -> None:
        self.port = port
        self.key = key
        self.timeout = timeout
        self.resent = 0
        self.conn = self._new()

    def _new(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)

    def connect(self) -> None:
        self.conn.connect()

    def close(self) -> None:
        self.conn.close()

    def call(self, method: str, path: str, body: Any = None) -> Result:
        headers = {
            "Authorization": f"Bearer {self.key}",
            "Octo-Capabilities": CAPS,
            "Accept": "application/json",
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            reused = self.conn.sock is not None
            try:
                self.conn.request(method, path, body=payload, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                if not reused:
                    raise
                self.conn.close()
                self.conn = self._new()
                self.resent += 1
                self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
            seconds = time.perf_counter() - started
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = self._new()
            return Result(None, None, time.perf_counter() - started, repr(exc))
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw[:200]
        return Result(response.status, data, seconds)


def warm_up(port: int, key: str, clients: int, rounds: int = 3) -> None:
    """Concurrent reads so every worker has loaded the URLconf, translations and its
    database connection before anything is measured."""

    def run() -> None:
        client = Client(port, key)
        for _ in range(rounds):
            client.call("GET", "/api/octo/products")
            client.call("GET", "/api/octo/supplier")
        client.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def race(count: int, attempt: Callable[[int], Any]) -> tuple[list[Any], float]:
    """``count`` threads; each prepares (connects), waits for all the others, then
    runs its attempt. Returns the results in thread order and the wall time from the
    barrier's release to the last answer."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count + 1, timeout=300)

    def run(n: int) -> None:
        prepared = attempt(n)  # a generator: connect, yield, then fire
        next(prepared)
        barrier.wait()
        try:
            next(prepared)
        except StopIteration as stop:
            results[n] = stop.value

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


# --- Seeding --------------------------------------------------------------------------


def seed_route() -> None:
    from django.core.management import call_command

    call_command("seed_route", stdout=StringIO())


def make_provider(place_slug: str = "puno", name: str = "Benchmark provider"):
    from catalogue.models import Place
    from providers.models import Provider

    home = Place.objects.get(slug=place_slug)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    return Provider.objects.create(
        name=name,
        slug=slug,
        kind=Provider.Kind.FAMILY,
        country=home.country,
        home_place=home,
        contact_name="Rosa",
        email=f"{slug}@example.org",
        status=Provider.Status.APPROVED,
    )


def make_tour(provider, *, capacity: int, start_times: list[str], title: str):
    """An activity with adult, child and infant units (as tests/providers/factories.py
    makes listings): instant confirmation, 24 h booking cut-off."""
    from catalogue.models import Country
    from providers.models import Listing, ListingUnit

    listing = Listing.objects.create(
        provider=provider,
        kind=Listing.Kind.ACTIVITY,
        place=provider.home_place,
        title_en=title,
        title_es=title,
        currency=Country.objects.get(pk=provider.country_id).currency,
        default_capacity=capacity,
        booking_cutoff_hours=24,
        start_times=start_times,
        duration_min=120,
    )
    for code, name_es, extra in (
        ("adult", "Adulto", {"price_minor": 5000}),
        ("child", "Niño", {"price_minor": 2500, "min_age": 3, "max_age": 11}),
        (
            "infant",
            "Bebé",
            {"price_minor": 0, "max_age": 2, "occupies_capacity": False},
        ),
    ):
        ListingUnit.objects.create(
            listing=listing, code=code, name_en=code.title(), name_es=name_es, **extra
        )
    return listing


def make_agencies(count: int, prefix: str) -> list[tuple[Any, str]]:
    """(agency, API key) pairs, made by the service staff and create_agency use."""
    from agencies.services import agency_create

    made = []
    for n in range(count):
        agency, new = agency_create(
            name=f"{prefix} agency {n + 1}", commission_bps=1000
        )
        made.append((agency, new.key))
    return made


def reserve_body(listing, day: dt.date, start: dt.time | None, units: list[str]):
    from octo.selectors import availability_id

    return {
        "productId": str(listing.pk),
        "optionId": "DEFAULT",
        "availabilityId": availability_id(listing, day, start),
        "unitItems": [{"unitId": unit} for unit in units],
        "uuid": str(uuid.uuid4()),
    }


# --- Race 1: OCTO reserves on one slot ------------------------------------------------


@dataclass
class Check:
    label: str
    ok: bool
    detail: str = ""


@dataclass
class RaceReport:
    title: str
    outcomes: Counter = field(default_factory=Counter)
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def print(self) -> None:
        print(f"\n{self.title}")
        lat = sorted(self.latencies)
        print(
            f"  wall {self.wall * 1000:.0f} ms from the barrier to the last answer; "
            f"per request p50 {percentile(lat, 50) * 1000:.0f} ms, "
            f"p95 {percentile(lat, 95) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
        )
        print(f"  {'answer':<52} {'count':>5}")
        for outcome, n in sorted(self.outcomes.items(), key=lambda kv: -kv[1]):
            print(f"  {outcome:<52} {n:>5}")
        for check in self.checks:
            mark = "met" if check.ok else "NOT MET"
            detail = f" — {check.detail}" if check.detail else ""
            print(f"  [{mark:>7}] {check.label}{detail}")


def octo_race(port: int, requests: int, capacity: int, agencies: int) -> RaceReport:
    from django.db import connection

    from providers.models import Booking, Slot

    provider = make_provider()
    tour = make_tour(
        provider, capacity=capacity, start_times=["07:30"], title="Raced weaving tour"
    )
    keys = [key for _agency, key in make_agencies(agencies, "Race")]
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=40)
    bodies = [
        reserve_body(tour, day, dt.time(7, 30), ["adult"]) for _ in range(requests)
    ]

    def attempt(n: int):
        client = Client(port, keys[n % len(keys)])
        try:
            client.connect()
        except OSError as exc:
            yield
            return Result(None, None, 0.0, repr(exc))
        yield
        result = client.call("POST", "/api/octo/bookings", bodies[n])
        client.close()
        return result

    results, wall = race(requests, attempt)
    report = RaceReport(
        title=(
            f"Race 1 — {requests} concurrent OCTO reserves (1 adult each, {agencies} "
            f"agencies) for one slot with capacity {capacity}"
        ),
        wall=wall,
        latencies=[r.seconds for r in results],
    )
    for r in results:
        if r.status is None:
            report.outcomes[f"connection error {r.error[:30]}"] += 1
        elif r.status == 200:
            report.outcomes[f"200 {r.data.get('status')}"] += 1
        else:
            code = r.data.get("error") if isinstance(r.data, dict) else r.data
            report.outcomes[f"{r.status} {code}"] += 1
    held_ok = report.outcomes.get("200 ON_HOLD", 0)
    refused = report.outcomes.get("400 UNPROCESSABLE_ENTITY", 0)
    server_errors = sum(
        n for k, n in report.outcomes.items() if k[:1] == "5" or k.startswith("conn")
    )
    slot = Slot.objects.get(listing=tour)
    on_hold = Booking.objects.filter(slot=slot, status=Booking.Status.ON_HOLD)
    persons = sum(on_hold.values_list("persons", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM providers_slot WHERE listing_id = %s "
            "AND held + booked + blocked > capacity",
            [tour.pk],
        )
        oversold = cursor.fetchone()[0]
    report.checks = [
        Check(f"exactly {capacity} ON_HOLD", held_ok == capacity, f"{held_ok}"),
        Check(
            f"{requests - capacity} UNPROCESSABLE_ENTITY (HTTP 400)",
            refused == requests - capacity,
            f"{refused}",
        ),
        Check(
            "0 server errors (5xx) or connection errors",
            server_errors == 0,
            f"{server_errors}",
        ),
        Check(
            f"slot row held == {capacity}, booked == 0, capacity {capacity}",
            (slot.held, slot.booked, slot.capacity) == (capacity, 0, capacity),
            f"held {slot.held}, booked {slot.booked}, capacity {slot.capacity}",
        ),
        Check(
            "ON_HOLD bookings in the database match the slot",
            on_hold.count() == capacity and persons == slot.held,
            f"{on_hold.count()} bookings, {persons} persons",
        ),
        Check("never oversold (held + booked + blocked ≤ capacity)", oversold == 0),
    ]
    return report


# --- Race 2: whole-itinerary holds on the last beds -----------------------------------


PLAN_BODY = {
    "origin": "cusco",
    "destination": "la-paz",
    "days": 6,
    "adults": 2,
    "children": 0,
    "nationality": "CL",
    "interests": {"textiles": 5, "lake": 3},
}
PERSONS = 2


def trip_race(port: int, trips: int, beds: int) -> RaceReport:
    from django.core.management import call_command
    from django.db.models import Sum

    from itineraries.models import TripBooking, TripPlan
    from itineraries.selectors import plan_trip_parts
    from providers.models import Booking, Listing, Slot
    from providers.services import slot_set

    call_command("seed_demo", stdout=StringIO())
    agencies = make_agencies(trips, "Trip")
    start = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    first = Client(port, agencies[0][1])
    made = first.call(
        "POST", "/api/v1/plans/", {**PLAN_BODY, "start_date": start.isoformat()}
    )
    first.close()
    if made.status != 201:
        raise SystemExit(f"plan not solved at once: {made.status} {made.data}")
    solved = TripPlan.objects.get(pk=made.data["id"])
    specs, _local = plan_trip_parts(solved)
    stays = [
        s
        for s in specs
        if s.kind == "stay"
        and Listing.objects.filter(pk=s.listing_id, stay_type="homestay").exists()
    ]
    if not stays:
        raise SystemExit(f"the solved plan has no homestay night: {specs}")
    night = stays[-1]
    # Room for everybody on every part but one homestay night.
    Listing.objects.filter(pk__in={s.listing_id for s in specs}).update(
        default_capacity=trips * PERSONS
    )
    contested = slot_set(
        listing=Listing.objects.get(pk=night.listing_id), day=night.day, capacity=beds
    )
    plans = [solved] + [
        TripPlan.objects.create(
            request=solved.request,
            status=TripPlan.Status.SOLVED,
            days=solved.days,
            agency=agency,
        )
        for agency, _key in agencies[1:]
    ]
    expected = beds // PERSONS

    def attempt(n: int):
        client = Client(port, agencies[n][1])
        try:
            client.connect()
        except OSError as exc:
            yield
            return Result(None, None, 0.0, repr(exc))
        yield
        result = client.call(
            "POST",
            f"/api/v1/plans/{plans[n].pk}/hold",
            {"lead": {"name": f"Traveller {n}", "email": f"t{n}@example.org"}},
        )
        client.close()
        return result

    results, wall = race(trips, attempt)
    report = RaceReport(
        title=(
            f"Race 2 — {trips} concurrent whole-itinerary holds ({len(specs)} parts "
            f"each, {PERSONS} adults) competing for {beds} beds on one homestay night"
        ),
        wall=wall,
        latencies=[r.seconds for r in results],
    )
    named_wrong = 0
    for r in results:
        if r.status is None:
            report.outcomes[f"connection error {r.error[:30]}"] += 1
        elif r.status == 201:
            report.outcomes["201 held"] += 1
        elif r.status == 409 and isinstance(r.data, dict) and "unavailable" in r.data:
            steps = [p["step_id"] for p in r.data["unavailable"]]
            report.outcomes["409 unavailable (names the part)"] += 1
            named_wrong += steps != [night.step_id]
        else:
            detail = r.data.get("detail") if isinstance(r.data, dict) else r.data
            report.outcomes[f"{r.status} {str(detail)[:40]}"] += 1
    held_trips = TripBooking.objects.filter(status=TripBooking.Status.ON_HOLD)
    held_bookings = Booking.objects.filter(trip_part__trip__in=held_trips)
    slots_ok, slot_detail = True, []
    for spec in specs:
        slot = Slot.objects.get(
            listing_id=spec.listing_id, date=spec.day, start_time=spec.start_time
        )
        persons = held_bookings.filter(slot=slot).aggregate(n=Sum("persons"))["n"] or 0
        # A homestay used on several nights of the plan: one slot per night.
        want = (
            expected
            * PERSONS
            * sum(
                1
                for s in specs
                if (s.listing_id, s.day, s.start_time)
                == (spec.listing_id, spec.day, spec.start_time)
            )
        )
        if (slot.held, slot.booked, persons) != (want, 0, want):
            slots_ok = False
            slot_detail.append(
                f"{spec.step_id}: held {slot.held}, booked {slot.booked}, "
                f"bookings {persons}, want {want}"
            )
    contested.refresh_from_db()
    stray = Booking.objects.filter(
        slot__listing_id__in={s.listing_id for s in specs}, trip_part__isnull=True
    ).count()
    server_errors = sum(
        n for k, n in report.outcomes.items() if k[:1] == "5" or k.startswith("conn")
    )
    report.checks = [
        Check(
            f"exactly {expected} trips held ({beds} beds, {PERSONS} per party)",
            report.outcomes.get("201 held", 0) == expected == held_trips.count(),
            f"{report.outcomes.get('201 held', 0)} answered 201, "
            f"{held_trips.count()} ON_HOLD in the database",
        ),
        Check(
            f"{trips - expected} answered 409 naming the contested night only "
            f"({night.step_id})",
            report.outcomes.get("409 unavailable (names the part)", 0)
            == trips - expected
            and named_wrong == 0,
            f"{named_wrong} named other parts",
        ),
        Check(
            "0 server errors (5xx) or connection errors",
            server_errors == 0,
            f"{server_errors}",
        ),
        Check(
            f"every part's slot: held == {expected} trips × {PERSONS}, booked 0, "
            "equal to the held trips' bookings",
            slots_ok,
            "; ".join(slot_detail[:3]),
        ),
        Check(
            "no booking left by a failed trip; TripBookings only for held trips",
            stray == 0
            and TripBooking.objects.count() == expected
            and held_bookings.count() == expected * len(specs),
            f"{stray} stray bookings, {TripBooking.objects.count()} trip bookings",
        ),
        Check(
            "contested night never oversold",
            contested.held + contested.booked + contested.blocked <= contested.capacity,
            f"held {contested.held} of {contested.capacity}",
        ),
    ]
    return report


# --- Main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reserves", type=int, default=200)
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--agencies", type=int, default=10, help="keys in race 1")
    parser.add_argument("--trips", type=int, default=50)
    parser.add_argument("--beds", type=int, default=10, help="contested night")
    add_server_args(parser)
    args = parser.parse_args(argv)

    machine = machine_line()
    command = command_line("benchmarks/booking_race_bench.py")
    environment = Environment.create("booking_bench", keep=args.keep_db)
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / environment.name
    logs.mkdir(parents=True, exist_ok=True)
    server = None
    reports: list[RaceReport] = []
    try:
        environment.setup_django()
        from django.db import connections

        seed_route()
        ((_agency, probe_key),) = make_agencies(1, "Probe")
        connections.close_all()
        server = Gunicorn(args, environment.env, logs)
        server.wait_ready(probe_key, args.workers)
        warm_up(server.port, probe_key, clients=4 * args.workers)
        memory = MemorySampler(server)
        memory.start()
        busy_before = cpu_busy()
        reports.append(
            octo_race(server.port, args.reserves, args.capacity, args.agencies)
        )
        reports.append(trip_race(server.port, args.trips, args.beds))
        busy_after = cpu_busy()
        memory.stop()
        tracebacks = server.errors_logged()
    finally:
        if server is not None:
            server.stop()
        environment.drop()

    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    print("Booking race benchmark (gunicorn on PostgreSQL)")
    print(f"  machine: {machine}")
    print(f"  command: {command}")
    print(f"  server:  {server_line(args)}")
    for report in reports:
        report.print()
    print(f"\n  machine CPU busy during the races: {busy * 100:.0f} %")
    print(f"  tracebacks in gunicorn's logs: {tracebacks}")
    print(f"  {memory.line()}")
    print(f"  logs: {logs}")
    ok = all(report.ok for report in reports) and tracebacks == 0
    print(f"\n  overall: {'all expectations met' if ok else 'NOT MET (see above)'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
