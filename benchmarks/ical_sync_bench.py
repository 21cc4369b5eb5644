"""iCal availability sync benchmark (not a test).

1,000 listings with one external calendar each (20–60 events: Airbnb-style
reservations, timed events, weekly/daily RRULEs with EXDATE, cancelled and free
events) are served by a threaded HTTP server on 127.0.0.1 inside this process and
synced by 2 real Celery worker processes through Redis into PostgreSQL, the way
production runs it: one ``calendar_feed_sync_due_task`` (the beat dispatcher) enqueues
a ``calendar_feed_sync_task`` per feed.

Two passes: the first import (every block, slot and conflict is new), then a steady
state re-sync where every feed answers 304 to its stored ETag.

Needs running PostgreSQL and Redis servers (``bin/test`` shows how to start
throwaway ones)::

    DATABASE_URL=postgres://USER@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python benchmarks/ical_sync_bench.py

The script creates a fresh database ``ical_bench_<random>`` on that server (the user
needs CREATEDB), migrates it, and drops it at the end (``--keep-db`` keeps it). Use a
Redis database nobody else's workers consume. It stops by itself: ``--timeout``
bounds each pass, and the workers and the HTTP server are always shut down.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import random
import re
import resource
import shlex
import statistics
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

from benchdb import admin_sql, with_database  # noqa: E402

TASK_DONE = re.compile(
    r"Task providers\.tasks\.calendar_feed_sync_task\[[^\]]+\] succeeded in "
    r"([0-9.]+)s"
)


# --- Feeds ----------------------------------------------------------------------------


def _date(day: dt.date) -> str:
    return f"{day:%Y%m%d}"


def feed_body(index: int, today: dt.date) -> bytes:
    """A realistic feed for listing ``index``: 20–60 events, deterministic."""
    rng = random.Random(index)
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN",
        "CALSCALE:GREGORIAN",
        "VERSION:2.0",
    ]
    for n in range(rng.randint(20, 60)):
        uid = f"{hashlib.sha1(f'{index}-{n}'.encode()).hexdigest()}@bench.example"
        start = today + dt.timedelta(days=rng.randint(-10, 360))
        lines += ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", f"UID:{uid}"]
        roll = rng.random()
        if roll < 0.72:  # a reservation of some nights
            nights = rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5, 7])
            lines += [
                f"DTSTART;VALUE=DATE:{_date(start)}",
                f"DTEND;VALUE=DATE:{_date(start + dt.timedelta(days=nights))}",
                "SUMMARY:Reserved",
                "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservat",
                f" ions/details/HM{index:05d}{n:03d}\\nPhone Number (Last 4 Digits): "
                f"{rng.randint(1000, 9999)}",
            ]
        elif roll < 0.84:  # a timed event in UTC
            at = dt.datetime.combine(start, dt.time(rng.randint(0, 23)), tzinfo=dt.UTC)
            end = at + dt.timedelta(hours=rng.randint(1, 8))
            lines += [
                f"DTSTART:{at:%Y%m%dT%H%M%SZ}",
                f"DTEND:{end:%Y%m%dT%H%M%SZ}",
                "SUMMARY:Private group",
            ]
        elif roll < 0.90:  # weekly owner's day off, one week skipped
            skipped = start + dt.timedelta(weeks=rng.randint(1, 3))
            lines += [
                f"DTSTART;VALUE=DATE:{_date(start)}",
                f"DTEND;VALUE=DATE:{_date(start + dt.timedelta(days=1))}",
                f"RRULE:FREQ=WEEKLY;COUNT={rng.randint(4, 26)}",
                f"EXDATE;VALUE=DATE:{_date(skipped)}",
                "SUMMARY:Closed (owner)",
            ]
        elif roll < 0.94:  # a daily morning tour for some days, in Lima time
            lines += [
                f"DTSTART;TZID=America/Lima:{_date(start)}T090000",
                f"DTEND;TZID=America/Lima:{_date(start)}T113000",
                f"RRULE:FREQ=DAILY;COUNT={rng.randint(3, 10)}",
                "SUMMARY:Morning tour",
            ]
        elif roll < 0.97:
            lines += [
                f"DTSTART;VALUE=DATE:{_date(start)}",
                f"DTEND;VALUE=DATE:{_date(start + dt.timedelta(days=2))}",
                "STATUS:CANCELLED",
                "SUMMARY:Cancelled reservation",
            ]
        else:
            lines += [
                f"DTSTART;VALUE=DATE:{_date(start)}",
                "TRANSP:TRANSPARENT",
                "SUMMARY:Market day",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


class FeedServer:
    """Threaded HTTP server on 127.0.0.1 serving /feeds/<n>.ics with ETags."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.etags = {
            path: f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            for path, body in bodies.items()
        }
        self.hits = {"200": 0, "304": 0, "404": 0}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = server.bodies.get(self.path)
                if body is None:
                    server.hits["404"] += 1
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = server.etags[self.path]
                if self.headers.get("If-None-Match") == etag:
                    server.hits["304"] += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                server.hits["200"] += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- Database and workers -------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (a worker's feed-reading helper)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(_stat(int(stat.parent.name))[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far, with that of its children:
    the ones it has waited for and the live ones (the helper that reads feeds)."""
    ticks = sum(int(_stat(pid)[n]) for n in (11, 12, 13, 14))
    for child in _children(pid):
        with contextlib.suppress(OSError):
            ticks += sum(int(_stat(child)[n]) for n in (11, 12))
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    """VmRSS (resident set now) of a live process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _peak_rss_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def start_workers(count: int, env: dict[str, str], logs: Path) -> list:
    from tourism.celery_app import app

    workers = []
    for n in range(count):
        name = f"ical-bench-{n}-{uuid.uuid4().hex[:6]}@localhost"
        log = (logs / f"worker-{n}.log").open("w+")
        process = subprocess.Popen(
            [
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
                "-Q",  # the dispatcher's default queue and the syncs' own
                "celery,sync",
                "-n",
                name,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append((name, process, log))
    deadline = time.monotonic() + 60
    for name, process, log in workers:
        while not app.control.ping(destination=[name], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"worker {name} did not start:\n{log.read()[-3000:]}")
    return workers


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


def create_listings(count: int, base_url: str, today: dt.date) -> None:
    from django.core.management import call_command

    from catalogue.models import Place
    from providers.models import Listing, Provider, Slot
    from providers.sync.services import calendar_feed_create

    call_command("seed_route", stdout=StringIO())
    puno = Place.objects.get(slug="puno")
    provider = Provider.objects.create(
        name="Benchmark provider",
        slug="ical-bench",
        kind=Provider.Kind.ASSOCIATION,
        country=puno.country,
        home_place=puno,
        contact_name="Bench",
        email="bench@example.org",
        status=Provider.Status.APPROVED,
    )
    listings = Listing.objects.bulk_create(
        [
            Listing(
                provider=provider,
                kind=Listing.Kind.ACTIVITY if n % 7 == 0 else Listing.Kind.STAY,
                start_times=["09:00", "15:00"] if n % 7 == 0 else [],
                place=puno,
                title_en=f"Listing {n}",
                title_es=f"Alojamiento {n}",
                default_capacity=6,
            )
            for n in range(count)
        ]
    )
    rng = random.Random(0)
    sold = []
    for n, listing in enumerate(listings):
        calendar_feed_create(listing=listing, url=f"{base_url}/feeds/{n}.ics")
        if n % 10 == 0:  # some nights already sold here: conflicts will show up
            for day in {today + dt.timedelta(days=rng.randint(0, 120)) for _ in "abc"}:
                start_time = dt.time(9) if listing.start_times else None
                sold.append(
                    Slot(
                        listing=listing,
                        date=day,
                        start_time=start_time,
                        capacity=6,
                        booked=2,
                    )
                )
    Slot.objects.bulk_create(sold)


def run_pass(label: str, feeds: int, workers: list, timeout: float) -> dict:
    from django.utils import timezone

    from providers.models import CalendarFeed
    from providers.tasks import calendar_feed_sync_due_task

    offsets = [log.seek(0, os.SEEK_END) for _n, _p, log in workers]
    cpu_before = sum(_cpu_seconds(p.pid) for _n, p, _l in workers)
    CalendarFeed.objects.update(next_run_at=None)
    started_at = timezone.now()
    started = time.monotonic()
    calendar_feed_sync_due_task.delay()
    done = 0
    while time.monotonic() - started < timeout:
        done = CalendarFeed.objects.filter(last_attempt_at__gte=started_at).count()
        if done >= feeds:
            break
        time.sleep(0.1)
    wall = time.monotonic() - started
    cpu = sum(_cpu_seconds(p.pid) for _n, p, _l in workers) - cpu_before
    durations = []
    for (_name, _process, log), offset in zip(workers, offsets, strict=True):
        log.flush()
        log.seek(offset)
        durations += [float(s) for s in TASK_DONE.findall(log.read())]
    failed = CalendarFeed.objects.filter(
        last_error_at__gte=started_at, last_attempt_at__gte=started_at
    ).count()
    return {
        "label": label,
        "done": done,
        "wall": wall,
        "cpu": cpu,
        "durations": sorted(durations),
        "failed": failed,
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0, help="per pass (s)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    base_db, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL")
    if not base_db.startswith(("postgres://", "postgresql://")) or not redis_url:
        print(__doc__)
        print("error: set DATABASE_URL=postgres://… and REDIS_URL=redis://…")
        return 2
    command = (
        "DATABASE_URL=… REDIS_URL=… "
        + shlex.join([".venv/bin/python", "benchmarks/ical_sync_bench.py"])
        + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "")
    )
    load = os.getloadavg()[0]
    db_name = f"ical_bench_{uuid.uuid4().hex[:8]}"
    admin_sql(base_db, f'CREATE DATABASE "{db_name}"')
    env = {
        **os.environ,
        "DATABASE_URL": with_database(base_db, db_name),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",  # the local feed server only
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "tourism.settings",
        # Persistent connections, as docker-compose.yml runs the workers.
        "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / db_name
    logs.mkdir(parents=True, exist_ok=True)
    workers: list = []
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from providers.models import ExternalBlock, Slot, SyncConflict

        setup_started = time.monotonic()
        call_command("migrate", verbosity=0)
        today = dt.datetime.now(dt.UTC).date()
        bodies = {f"/feeds/{n}.ics": feed_body(n, today) for n in range(args.feeds)}
        sizes = sorted(len(b) for b in bodies.values())
        with FeedServer(bodies) as server:
            create_listings(args.feeds, server.base_url, today)
            setup = time.monotonic() - setup_started
            workers = start_workers(args.workers, env, logs)
            passes = [
                run_pass("first import", args.feeds, workers, args.timeout),
                run_pass("re-sync (304)", args.feeds, workers, args.timeout),
            ]
            peaks = [_peak_rss_kib(p.pid) for _n, p, _l in workers]
            helper_rss = [
                _rss_kib(child) for _n, p, _l in workers for child in _children(p.pid)
            ]
            hits = dict(server.hits)
        counts = {
            "blocks": ExternalBlock.objects.count(),
            "blocked slots": Slot.objects.filter(blocked__gt=0).count(),
            "open conflicts": SyncConflict.objects.filter(
                resolved_at__isnull=True
            ).count(),
        }
        connections.close_all()
    finally:
        stop_workers(workers)
        if not args.keep_db:
            admin_sql(base_db, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"iCal sync benchmark: {args.feeds} feeds, {args.workers} Celery workers")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load:.2f} at the start")
    print(f"  command: {command}")
    print(
        f"  feed size: median {statistics.median(sizes) / 1024:.1f} KiB, "
        f"max {sizes[-1] / 1024:.1f} KiB; setup (migrate, seed, feeds) {setup:.1f} s"
    )
    ok = True
    for result in passes:
        durations = result["durations"]
        ok &= result["done"] >= args.feeds and result["failed"] == 0
        print(
            f"  {result['label']:<14} wall {result['wall']:6.1f} s for "
            f"{result['done']}/{args.feeds} feeds ({result['failed']} failed); "
            f"per-feed task p50 {percentile(durations, 50) * 1000:.0f} ms, "
            f"p95 {percentile(durations, 95) * 1000:.0f} ms (n={len(durations)}); "
            f"workers' CPU {result['cpu']:.0f} s"
        )
    print(f"  HTTP answers: {hits}")
    print("  result: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    workers_mib = ", ".join(f"{kib / 1024:.0f}" for kib in peaks)
    helpers_mib = ", ".join(f"{kib / 1024:.0f}" for kib in helper_rss) or "none"
    print(
        f"  peak RSS: workers {workers_mib} MiB (their feed-reading helpers at the "
        f"end: {helpers_mib} MiB); script {own_peak / 1024:.0f} MiB"
    )
    print(f"  worker logs: {logs}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
