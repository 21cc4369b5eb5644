"""Hostile calendar feeds benchmark (not a test): time and memory per hostile feed,
and how long a traveller's plan waits while hostile syncs are queued.

Two real Celery workers run as docker-compose runs them: ``default`` consumes the
default queue (plans, emails, the sync dispatcher) at nice 10 and ``sync`` the
``sync`` queue (calendar feeds) at nice 15. Both use ``--pool=solo`` so that "the
process that syncs" is one process whose memory can be read (/proc/<pid>/status);
it reads feeds in its helper process (``providers.sync.sandbox``), whose CPU time
and peak memory per feed come back with each result. Feeds are served by an HTTP
server on 127.0.0.1 inside this script, through the SSRF guard.

1. Each feed below is synced once through the sync worker
   (``calendar_feed_sync_task``): the time from enqueue to result, the outcome, the
   CPU time and peak resident memory of the helper that read it (pages shared with
   the worker included), and the sync worker's resident memory after it and the
   growth of its peak (VmHWM) since the start.
2. Four ``never`` feeds (several CPU seconds each) are queued, then a 6-day
   Cusco → La Paz plan on the demo catalogue: the plan's time from request to
   solved, next to the same plan with nothing queued.

Needs running PostgreSQL and Redis servers (``bin/with-services`` starts throwaway
ones)::

    bin/with-services env OUTBOUND_ALLOWED_NETWORKS=127.0.0.0/8 \\
        .venv/bin/python benchmarks/ical_hostile_bench.py

A fresh database ``ical_hostile_<random>`` is created on that server and dropped at
the end (``--keep-db`` keeps it); the workers and the HTTP server always stop.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import resource
import shlex
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchdb import admin_sql, with_database  # noqa: E402
from ical_sync_bench import feed_body  # noqa: E402

# --- Feeds ----------------------------------------------------------------------------

SECONDLY = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
    b"UID:flood\r\nDTSTAMP:20261120T000000Z\r\nDTSTART:20261120T000000Z\r\n"
    b"DTEND:20261120T000001Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def feeds(today: dt.date, max_bytes: int) -> dict[str, tuple[str, bytes]]:
    """name → (what it is, body)."""
    start = today.strftime("%Y%m%d")
    good = feed_body(7, today)
    tiny = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}\r\nDTSTART;VALUE=DATE:{start}\r\nEND:VEVENT\r\n"
        for n in range(30_000)
    )
    big_events = b"".join(
        b"BEGIN:VEVENT"
        + feed_body(n, today).split(b"BEGIN:VEVENT", 1)[1].rsplit(b"END:VCALENDAR")[0]
        for n in range(150)
    )
    backwards = good.replace(
        b"END:VCALENDAR",
        b"BEGIN:VEVENT\r\nUID:backwards\r\nDTSTART;VALUE=DATE:20271220\r\n"
        b"DTEND;VALUE=DATE:20261210\r\nEND:VEVENT\r\nEND:VCALENDAR",
    )
    return {
        "normal": ("a normal feed, 20-60 events (the sync benchmark's)", good),
        "secondly": (f"RRULE:FREQ=SECONDLY, {len(SECONDLY)} bytes", SECONDLY),
        "secondly-2020": (
            "the same from 2020 (reaching the horizon costs too)",
            SECONDLY.replace(b"20261120T", b"20200101T"),
        ),
        "never": (
            "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30 (never happens)",
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:never\r\n"
            b"DTSTART:20261120T000000Z\r\n"
            b"RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30\r\n"
            b"END:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
        "never-x3": (
            "three such rules in one feed (more than the CPU limit)",
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
            + b"".join(
                f"BEGIN:VEVENT\r\nUID:never{n}\r\nDTSTART:20261120T000000Z\r\n"
                "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n".encode()
                for n in range(3)
            )
            + b"END:VCALENDAR\r\n",
        ),
        "tiny-events": (
            "30,000 one-line events, 2.0 MB",
            f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{tiny}END:VCALENDAR\r\n".encode(),
        ),
        "big-realistic": (
            "1.7 MB of realistic events (legitimate, large)",
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + big_events + b"END:VCALENDAR\r\n",
        ),
        "binary": ("4 KiB of random bytes", random.Random(14).randbytes(4096)),
        "utf-16": ("a normal feed encoded UTF-16", good.decode().encode("utf-16")),
        "too-large": (
            f"{max_bytes + 1:,} bytes (1 over ICAL_MAX_BYTES)",
            good + b" " * (max_bytes + 1 - len(good)),
        ),
        "backwards": ("a normal feed plus an event ending before it starts", backwards),
    }


class FeedServer:
    def __init__(self, bodies: dict[str, bytes]) -> None:
        server = self
        self.bodies = bodies

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = server.bodies.get(self.path.lstrip("/"), b"")
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hangs up on a body over the size limit

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- Workers --------------------------------------------------------------------------


def memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _colon, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def start_worker(queue: str, nice: int, env: dict[str, str], logs: Path):
    """A solo worker on ``queue`` at ``nice`` (as docker-compose runs them: 10 for
    the default worker, 15 for the sync worker)."""
    name = f"hostile-{queue}-{uuid.uuid4().hex[:6]}@localhost"
    log = (logs / f"worker-{queue}.log").open("w+")
    process = subprocess.Popen(
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
            "--without-heartbeat",
            "--loglevel=INFO",
            "-Q",
            queue,
            "-n",
            name,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return name, process, log


def wait_ready(workers: list) -> None:
    from tourism.celery_app import app

    deadline = time.monotonic() + 90
    for name, process, log in workers:
        while not app.control.ping(destination=[name], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"worker {name} did not start:\n{log.read()[-3000:]}")


def stop_workers(workers: list) -> None:
    for _name, process, _log in workers:
        process.terminate()
    for _name, process, log in workers:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# --- The benchmark --------------------------------------------------------------------


def create_feeds(server: FeedServer, names: list[str]) -> dict[str, int]:
    from django.core.management import call_command

    from catalogue.models import Place
    from providers.models import Listing, Provider
    from providers.sync.services import calendar_feed_create

    call_command("seed_route", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    puno = Place.objects.get(slug="puno")
    provider = Provider.objects.create(
        name="Hostile benchmark",
        slug="ical-hostile-bench",
        kind=Provider.Kind.COMPANY,
        country=puno.country,
        home_place=puno,
        contact_name="Bench",
        email="bench@example.org",
        status=Provider.Status.APPROVED,
    )
    ids = {}
    for name in names:
        listing = Listing.objects.create(
            provider=provider,
            kind=Listing.Kind.STAY,
            place=puno,
            title_en=f"Listing {name}",
            title_es=f"Alojamiento {name}",
            default_capacity=4,
        )
        ids[name] = calendar_feed_create(listing=listing, url=server.url(name)).pk
    return ids


def plan_seconds(start: dt.date, timeout: float) -> tuple[float, str]:
    """Request a 6-day Cusco → La Paz plan; seconds until it is solved."""
    from django.db import transaction

    from itineraries.models import TripPlan
    from itineraries.services import plan_create

    started = time.monotonic()
    with transaction.atomic():
        plan = plan_create(
            data={
                "origin": "cusco",
                "destination": "la-paz",
                "start_date": start.isoformat(),
                "days": 6,
                "adults": 2,
                "arrival": "overland",
            }
        )
    done = (TripPlan.Status.SOLVED, TripPlan.Status.INFEASIBLE, TripPlan.Status.FAILED)
    status = ""
    while time.monotonic() - started < timeout:
        status = TripPlan.objects.values_list("status", flat=True).get(pk=plan.pk)
        if status in done:
            break
        time.sleep(0.05)
    return time.monotonic() - started, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--timeout", type=float, default=180.0, help="per step (s)")
    args = parser.parse_args(argv)

    base_db, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL")
    if not base_db.startswith(("postgres://", "postgresql://")) or not redis_url:
        print(__doc__)
        print("error: set DATABASE_URL=postgres://… and REDIS_URL=redis://…")
        return 2
    command = (
        "bin/with-services env OUTBOUND_ALLOWED_NETWORKS=127.0.0.0/8 "
        + shlex.join(
            [".venv/bin/python", "benchmarks/ical_hostile_bench.py", *sys.argv[1:]]
        )
    )
    load = os.getloadavg()[0]
    db_name = f"ical_hostile_{uuid.uuid4().hex[:8]}"
    admin_sql(base_db, f'CREATE DATABASE "{db_name}"')
    env = {
        **os.environ,
        "DATABASE_URL": with_database(base_db, db_name),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "tourism.settings",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / db_name
    logs.mkdir(parents=True, exist_ok=True)
    workers: list = []
    rows, plans = [], {}
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from providers.tasks import calendar_feed_sync_task

        call_command("migrate", verbosity=0)
        today = dt.datetime.now(dt.UTC).date()
        catalogue = feeds(today, settings.ICAL_MAX_BYTES)
        bodies = {name: body for name, (_what, body) in catalogue.items()}
        extra = {f"never-{n}": catalogue["never"][1] for n in range(4)}
        with FeedServer({**bodies, **extra}) as server:
            ids = create_feeds(server, [*bodies, *extra])
            workers = [
                start_worker("celery", 10, env, logs),
                start_worker(settings.SYNC_TASK_QUEUE, 15, env, logs),
            ]
            wait_ready(workers)
            sync_pid = workers[1][1].pid
            start_memory = memory_kib(sync_pid)
            for name, (what, _body) in catalogue.items():
                started = time.monotonic()
                result = calendar_feed_sync_task.delay(ids[name]).get(
                    timeout=args.timeout
                )
                seconds = time.monotonic() - started
                memory = memory_kib(sync_pid)
                rows.append((name, what, seconds, result, memory))
            # A plan alone, then the same plan behind four CPU-limit feeds.
            plan_day = today + dt.timedelta(days=60)
            plans["alone"] = plan_seconds(plan_day, args.timeout)
            queued = [calendar_feed_sync_task.delay(ids[name]) for name in extra]
            time.sleep(0.5)  # the first one is being read
            plans["behind 4 'never' feeds"] = plan_seconds(plan_day, args.timeout)
            sync_busy = sum(not r.ready() for r in queued)
            for r in queued:
                r.get(timeout=args.timeout)
    finally:
        stop_workers(workers)
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            admin_sql(base_db, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    print("iCal hostile feeds benchmark: 1 default + 1 sync Celery worker (solo)")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load:.2f} at the start")
    print(f"  command: {command}")
    print(
        f"  limits: ICAL_MAX_INSTANCES {settings.ICAL_MAX_INSTANCES}, "
        f"ICAL_MAX_BLOCKS {settings.ICAL_MAX_BLOCKS}, ICAL_PARSE_CPU_SECONDS "
        f"{settings.ICAL_PARSE_CPU_SECONDS}, ICAL_PARSE_MEMORY_MB "
        f"{settings.ICAL_PARSE_MEMORY_MB}, ICAL_MAX_BYTES {settings.ICAL_MAX_BYTES}"
    )
    print(
        f"  sync worker at the start: RSS {start_memory['VmRSS'] / 1024:.0f} MiB, "
        f"peak {start_memory['VmHWM'] / 1024:.0f} MiB"
    )
    header = (
        f"  {'feed':<14} {'time':>7} {'child CPU':>9} {'child peak':>10} "
        f"{'worker RSS':>10} {'worker peak +':>13}  outcome"
    )
    print(header)
    for name, _what, seconds, result, memory in rows:
        outcome = result["status"]
        if result["message"]:
            outcome += ": " + result["message"][:70]
        print(
            f"  {name:<14} {seconds:6.2f}s {result['parse_cpu_seconds']:8.2f}s "
            f"{result['parse_peak_rss_kib'] / 1024:7.0f} MiB "
            f"{memory['VmRSS'] / 1024:6.0f} MiB "
            f"{(memory['VmHWM'] - start_memory['VmHWM']) / 1024:9.1f} MiB  {outcome}"
        )
    for name, (what, _body) in catalogue.items():
        print(f"    {name}: {what}")
    for label, (seconds, status) in plans.items():
        print(f"  plan {label}: {seconds:.2f} s ({status})")
    print(
        f"  'never' syncs still queued or running when that plan was solved: "
        f"{sync_busy} of 4"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  script peak RSS {own:.0f} MiB; worker logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
