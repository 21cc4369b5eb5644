"""Website page render benchmark (not a test): the itinerary page and its neighbours.

The issue's targets: "the itinerary page renders server-side in p95 ≤ 200 ms" and
"pages weigh ≤ 200 KB transferred without map tiles and photos".

In a fresh database (as ``benchmarks/route_scale_bench.py`` makes one: a throwaway
SQLite file, or a fresh PostgreSQL database when ``DATABASE_URL=postgres://…``) it
migrates, seeds the real route (``seed_route``) and the demo providers
(``seed_demo``), then plans a **14-day** and a **6-day** Cusco → La Paz trip the way
the website does: the request validated by the API's serializer, stored with
``itineraries.services.plan_create`` and solved by its Celery task, eager
(``CELERY_TASK_ALWAYS_EAGER=true``) when the transaction commits. It books the 14-day
plan (left on hold: the checkout page) and books and confirms the 6-day one (the
manage and printable pages), through the website's own views.

Then it requests each page ``--runs`` times (after ``--warmup`` untimed requests)
with Django's test ``Client`` — the whole middleware stack, production settings
(``DEBUG`` off), HTTPS requests so no redirect — and prints per page p50/p95/max of
the wall time of ``client.get``, the SQL queries of one request, the response size in
bytes and gzipped (level 6, as a proxy would send it; the site itself does not
compress), and met / NOT MET: p95 ≤ 200 ms for the itinerary pages, ≤ 200 KB for
every page. The pages carry their CSS and JavaScript inline and load nothing else
(the home page's OpenStreetMap layer is loaded on request only: map tiles), so the
HTML is what a visit transfers. It prints the peak RSS of the timed phase (VmHWM,
reset after set-up) and of the whole process, the machine (CPUs, load average) and
the exact command.

``--http`` also measures the itinerary pages through a real server: ``gunicorn``
(``tourism.wsgi``, ``--http-workers`` sync workers) on 127.0.0.1, same database,
requests from this process with ``http.client`` (keep-alive off, as a first visit).

SQLite (a throwaway file, ``/tmp/itinerary_page.sqlite3``)::

    .venv/bin/python benchmarks/itinerary_page_bench.py

PostgreSQL (+ Redis as the cache) on throwaway servers; a fresh database
``itinerary_page_<random>`` is created and dropped at the end (``--keep-db`` keeps
it)::

    bin/with-services .venv/bin/python benchmarks/itinerary_page_bench.py

An explicit ``DATABASE_URL=sqlite:///…`` is not accepted: the data would be added to
whatever is in it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import gzip
import http.client
import os
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import time
import warnings
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import benchdb  # noqa: E402
import synthetic_catalogue  # noqa: E402  (setup_django, prepare_database, _redacted)

SQLITE_FILE = Path("/tmp/itinerary_page.sqlite3")
TARGET_P95_MS = 200.0
TARGET_BYTES = 200 * 1024  # 200 KB, read as KiB (the stricter reading would be 200,000)
LEAD = {"name": "Ana Mamani", "email": "ana@example.org", "phone": "+51 951 000 111"}
PLANS = {
    14: {
        "adults": 2,
        "children": 0,
        "nationality": "DE",
        "interests": {"culture": 5, "lake": 4, "food": 3, "textiles": 2},
        "pace": "normal",
    },
    6: {
        "adults": 2,
        "children": 1,
        "nationality": "CL",
        "interests": {"textiles": 5, "lake": 3},
        "pace": "normal",
    },
}


# --- Database (the approach of route_scale_bench.py) ----------------------------------


def fresh_database(keep: bool) -> tuple[str, Any]:
    """Point DATABASE_URL at a fresh database; returns its label and a cleanup."""
    return benchdb.fresh_database(
        "itinerary_page", SQLITE_FILE, keep=keep, other_url_as_given=False
    )


# --- Data -----------------------------------------------------------------------------


# The plans' secret: their pages are /plans/<id>/<KEY>/.
KEY = "itinerary-page-benchmark-key"


def make_plan(days: int, start: dt.date):
    """A plan made as the plan form makes it, solved by the (eager) task."""
    from django.db import transaction

    from itineraries.apis import PlanRequestSerializer, request_data
    from itineraries.models import TripPlan
    from itineraries.services import plan_create

    data = {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": start.isoformat(),
        "days": days,
        "arrival": "overland",
        **PLANS[days],
    }
    serializer = PlanRequestSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    started = time.perf_counter()
    with transaction.atomic():
        plan = plan_create(data=request_data(serializer.validated_data), secret=KEY)
    plan = TripPlan.objects.get(pk=plan.pk)
    seconds = time.perf_counter() - started
    if plan.status != TripPlan.Status.SOLVED:
        raise SystemExit(
            f"the {days}-day plan is {plan.status}: {plan.explanation or plan.error}"
        )
    steps = sum(len(day["steps"]) for day in plan.days)
    return plan, f"{days}-day plan solved in {seconds:.2f} s ({steps} steps)"


def book(client, plan, *, confirm: bool) -> tuple[str | None, str]:
    """Book ``plan`` through the website; returns the checkout URL (on hold) or the
    manage URL (confirmed), and a note."""
    response = client.post(f"/plans/{plan.pk}/{KEY}/book/")
    if response.status_code != 302:
        return None, f"booking refused ({response.status_code})"
    checkout = response["Location"]
    if not confirm:
        return checkout, "held"
    response = client.post(checkout, LEAD)
    if response.status_code != 302:
        return None, f"confirmation refused ({response.status_code})"
    return response["Location"], "confirmed"


def https_client():
    """A test client whose requests come over HTTPS (production settings redirect
    plain HTTP)."""
    from django.test import Client

    class HttpsClient(Client):
        def generic(self, *args: Any, **kwargs: Any):
            kwargs["secure"] = True
            return super().generic(*args, **kwargs)

    return HttpsClient()


# --- Measuring ------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def measure(client, url: str, *, runs: int, warmup: int) -> dict[str, Any]:
    from django.db import connection

    for _ in range(warmup):
        client.get(url)
    queries = []  # counted by a wrapper: each request resets connection.queries

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.headers}")
    content = response.content
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "times": times,
        "queries": len(queries),
        "bytes": len(content),
        "gzip": len(gzip.compress(content, compresslevel=6)),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_http(
    paths: dict[str, str], *, runs: int, warmup: int, workers: int
) -> dict[str, dict[str, Any]]:
    """The same pages through gunicorn (sync workers) on 127.0.0.1."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONWARNINGS": "ignore:No directory at",  # no collected static files
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tourism.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--preload",  # the app loaded once, before the workers fork
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.1)

        def get(path: str) -> tuple[int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"X-Forwarded-Proto": "https"})
            response = conn.getresponse()
            body = response.read()
            conn.close()
            return response.status, body

        results = {}
        for name, path in paths.items():
            for _ in range(max(warmup, 5 * workers)):  # every worker has loaded
                get(path)
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                status, body = get(path)
                times.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise SystemExit(f"{path} through gunicorn: {status}")
            results[name] = {"times": times, "bytes": len(body)}
        return results
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_table(rows: list[tuple[str, str, dict[str, Any]]]) -> bool:
    print()
    print(
        f"  {'page':<26} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'SQL':>4} "
        f"{'bytes':>8} {'gzip':>7}  p95 ≤ 200 ms   ≤ 200 KB"
    )
    all_met = True
    for name, _url, row in rows:
        times = row["times"]
        p95 = percentile(times, 95)
        timed = name.startswith("itinerary")
        time_ok = p95 <= TARGET_P95_MS
        size_ok = row["bytes"] <= TARGET_BYTES
        all_met &= size_ok and (time_ok or not timed)
        print(
            f"  {name:<26} {statistics.median(times):7.1f} {p95:7.1f} "
            f"{max(times):7.1f} {row.get('queries', '-'):>4} {row['bytes']:8d} "
            f"{row.get('gzip', '-'):>7}  {(_met(time_ok) if timed else '(n/a)'):<13} "
            f"{_met(size_ok)}"
        )
    return all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed requests a page")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    parser.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        help="the trips' first day (default: 30 days from today, UTC)",
    )
    parser.add_argument(
        "--http", action="store_true", help="also through gunicorn (itinerary pages)"
    )
    parser.add_argument(
        "--http-workers", type=int, default=3, help="as the Dockerfile runs it"
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    command = shlex.join([".venv/bin/python", "benchmarks/itinerary_page_bench.py"])
    if sys.argv[1:] and argv is None:
        command += " " + shlex.join(sys.argv[1:])
    if os.environ.get("DATABASE_URL"):
        url = synthetic_catalogue._redacted(os.environ["DATABASE_URL"])
        command = f"DATABASE_URL={url} {command}"
    load_start = os.getloadavg()
    start = args.start or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)

    # Production settings (DEBUG off); the test client's host allowed, tasks eager,
    # emails kept in memory.
    hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
    os.environ["DJANGO_ALLOWED_HOSTS"] = f"{hosts},testserver"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("DJANGO_SECRET_KEY", "itinerary-page-benchmark-only")

    # WhiteNoise warns that STATIC_ROOT was not collected: no static files are used.
    warnings.filterwarnings("ignore", message="No directory at")
    database, cleanup = fresh_database(args.keep_db)
    try:
        synthetic_catalogue.setup_django(os.environ["DATABASE_URL"])
        import django
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        setup_started = time.perf_counter()
        synthetic_catalogue.prepare_database()  # migrate + seed_route
        call_command("seed_demo", stdout=StringIO())
        seeded = time.perf_counter() - setup_started
        notes = [f"migrate, seed_route, seed_demo {seeded:.1f} s"]
        plan14, note = make_plan(14, start)
        notes.append(note)
        plan6, note = make_plan(6, start)
        notes.append(note)

        visitor = https_client()
        checkout, held = book(visitor, plan14, confirm=False)
        buyer = https_client()
        manage, confirmed = book(buyer, plan6, confirm=True)
        notes.append(f"14-day plan booked: {held}; 6-day plan booked: {confirmed}")
        spanish = https_client()
        spanish.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

        pages: list[tuple[str, Any, str]] = [
            ("home", visitor, "/"),
            ("plan form", visitor, "/plan/"),
            ("itinerary 14 d", visitor, f"/plans/{plan14.pk}/{KEY}/"),
            ("itinerary 14 d (es)", spanish, f"/plans/{plan14.pk}/{KEY}/"),
            (
                "itinerary 14 d in USD",
                visitor,
                f"/plans/{plan14.pk}/{KEY}/?currency=USD",
            ),
            ("itinerary 6 d", visitor, f"/plans/{plan6.pk}/{KEY}/"),
        ]
        if checkout:
            pages.append(("checkout (14 d, on hold)", visitor, checkout))
        if manage:
            pages.append(("manage (6 d, confirmed)", buyer, manage))
            pages.append(("print (6 d)", buyer, manage + "print/"))

        print(
            "Itinerary page render benchmark: Django test Client, "
            f"{args.runs} timed requests a page after {args.warmup} untimed"
        )
        print(
            f"  machine: {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.2f}' for x in load_start)} at the start; "
            f"Python {sys.version.split()[0]}, Django {django.get_version()}"
        )
        print(f"  command: {command}")
        print(
            f"  database: {database} ({connection.vendor}); cache: "
            f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
        )
        print(f"  data: {'; '.join(notes)}; trips from {start}")

        gc.collect()
        peak_reset = reset_peak_rss()
        rows = []
        for name, client, url in pages:
            rows.append(
                (name, url, measure(client, url, runs=args.runs, warmup=args.warmup))
            )
        timed_peak = _kib("VmHWM") if peak_reset else None
        all_met = print_table(rows)
        print()
        if timed_peak:
            print(
                "  peak RSS while rendering (VmHWM, reset after set-up): "
                f"{timed_peak / 1024:.0f} MiB"
            )
        print(
            "  peak RSS of the whole process (ru_maxrss): "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
        )

        if args.http:
            paths = {
                "itinerary 14 d (http)": f"/plans/{plan14.pk}/{KEY}/",
                "itinerary 6 d (http)": f"/plans/{plan6.pk}/{KEY}/",
                "home (http)": "/",
            }
            connection.close()
            results = measure_http(
                paths, runs=args.runs, warmup=args.warmup, workers=args.http_workers
            )
            print()
            print(
                f"  through gunicorn ({args.http_workers} sync workers, 127.0.0.1, "
                "a new connection a request):"
            )
            all_met &= print_table(
                [(name, path, results[name]) for name, path in paths.items()]
            )
        load_end = os.getloadavg()
        print()
        print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in load_end)}")
        print(f"  targets: {'all met' if all_met else 'NOT all met'}")
        return 0 if all_met else 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
