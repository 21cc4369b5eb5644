"""Agency booking API latency through gunicorn on PostgreSQL (a benchmark, not a test).

``--clients`` (default 20) agencies, each with its own API key and one keep-alive
connection, loop without think time over the OCTO booking flow against one tour with
plenty of capacity (two start times a day, 2 adults per booking):

- ``POST /api/octo/availability/calendar`` for 30 days (target p95 ≤ 100 ms),
- ``POST /api/octo/bookings`` on a random day and start time of those 30 days
  (reserve, its own uuid; target p95 ≤ 150 ms),
- ``POST /api/octo/bookings/{uuid}/confirm`` with a contact (target p95 ≤ 150 ms).

Every client first runs ``--warmup`` rounds (not counted), then all start the measured
``--rounds`` together (a barrier). Then, through the same gunicorn and PostgreSQL,
each operation alone and a bare endpoint (``GET /bench/row/<pk>``: one row read by
primary key, served by ``benchmarks/bench_wsgi.py`` — the project's application plus
that view) are driven at saturation, ``--phase-requests`` per client, all clients at
once: each operation's throughput is reported as a share of the bare endpoint's, with
its server-side p95 (machine-independent figures: targets reserve and confirm ≥ 40 %
of the bare throughput, calendar ≥ 50 %, server-side p95 ≤ 30 ms).

It prints per operation p50/p95/max as the client saw it and as gunicorn logged it
(the server's own time, without the wait in the listen queue), throughput, errors,
CPU use, and the peak memory of gunicorn (master + workers, sampled from /proc) and of
this client. The harness (gunicorn subprocess,
fresh database, sampling) is in ``booking_race_bench.py``::

    bin/with-services .venv/bin/python benchmarks/booking_latency_bench.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import booking_race_bench as harness

OPERATIONS = ("calendar", "reserve", "confirm")
TARGET_P95_MS = {"calendar": 100.0, "reserve": 150.0, "confirm": 150.0}
# Each operation alone at saturation, against the bare endpoint (issue 12).
PHASES = ("bare", *OPERATIONS)
TARGET_SHARE = {"calendar": 0.50, "reserve": 0.40, "confirm": 0.40}
TARGET_SERVER_P95_MS = 30.0
DAYS = 30
UNITS = ["adult", "adult"]
CONTACT = {
    "fullName": "Ana Mamani",
    "emailAddress": "ana@example.org",
    "phoneNumber": "+51 951 000 111",
}


def _operation(method: str, path: str) -> str | None:
    """Which measured operation an access-log line is."""
    if method == "GET" and path.startswith("/bench/row/"):
        return "bare"
    if method != "POST":
        return None
    if path.endswith("/availability/calendar"):
        return "calendar"
    if path.endswith("/confirm"):
        return "confirm"
    if path.endswith("/bookings"):
        return "reserve"
    return None


class Flow:
    """One agency's client: calendar → reserve → confirm, again and again."""

    def __init__(self, port: int, key: str, tour, first_day: dt.date, seed: int):
        self.client = harness.Client(port, key)
        self.tour = tour
        self.first_day = first_day
        self.random = random.Random(seed)
        self.calendar_body = {
            "productId": str(tour.pk),
            "optionId": "DEFAULT",
            "localDateStart": first_day.isoformat(),
            "localDateEnd": (first_day + dt.timedelta(days=DAYS - 1)).isoformat(),
            "units": [{"id": "adult", "quantity": 2}],
        }
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.holds: list[str] = []  # reserved in the reserve phase, for confirm

    def _record(self, op: str, result: harness.Result, ok: bool) -> None:
        self.times[op].append(result.seconds)
        if not ok:
            detail = result.error or f"{result.status} {str(result.data)[:120]}"
            self.errors[op].append(detail)

    def round(self) -> None:
        calendar = self.client.call(
            "POST", "/api/octo/availability/calendar", self.calendar_body
        )
        self._record(
            "calendar",
            calendar,
            calendar.status == 200 and len(calendar.data or []) == DAYS,
        )
        day = self.first_day + dt.timedelta(days=self.random.randrange(DAYS))
        start = self.random.choice([dt.time(7, 30), dt.time(14, 0)])
        body = harness.reserve_body(self.tour, day, start, UNITS)
        reserve = self.client.call("POST", "/api/octo/bookings", body)
        held = reserve.status == 200 and reserve.data.get("status") == "ON_HOLD"
        self._record("reserve", reserve, held)
        if not held:
            return
        confirm = self.client.call(
            "POST",
            f"/api/octo/bookings/{body['uuid']}/confirm",
            {"contact": CONTACT, "resellerReference": body["uuid"][:8]},
        )
        self._record(
            "confirm",
            confirm,
            confirm.status == 200 and confirm.data.get("status") == "CONFIRMED",
        )

    def reset(self) -> None:
        self.times.clear()
        self.errors.clear()
        self.client.resent = 0

    # --- one operation alone (the saturation phases) -------------------------
    def one(self, op: str) -> None:
        if op == "bare":
            result = self.client.call("GET", f"/bench/row/{self.tour.pk}")
            self._record(op, result, result.status == 200)
        elif op == "calendar":
            result = self.client.call(
                "POST", "/api/octo/availability/calendar", self.calendar_body
            )
            self._record(op, result, result.status == 200)
        elif op == "reserve":
            day = self.first_day + dt.timedelta(days=self.random.randrange(DAYS))
            start = self.random.choice([dt.time(7, 30), dt.time(14, 0)])
            body = harness.reserve_body(self.tour, day, start, UNITS)
            result = self.client.call("POST", "/api/octo/bookings", body)
            held = result.status == 200 and result.data.get("status") == "ON_HOLD"
            self._record(op, result, held)
            if held:
                self.holds.append(body["uuid"])
        else:
            if not self.holds:
                return
            booking_uuid = self.holds.pop()
            result = self.client.call(
                "POST",
                f"/api/octo/bookings/{booking_uuid}/confirm",
                {"contact": CONTACT, "resellerReference": booking_uuid[:8]},
            )
            self._record(
                op,
                result,
                result.status == 200 and result.data.get("status") == "CONFIRMED",
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50, help="measured, per client")
    parser.add_argument("--warmup", type=int, default=5, help="rounds per client")
    parser.add_argument(
        "--phase-requests",
        type=int,
        default=40,
        help="requests per client in each saturation phase (bare, calendar, "
        "reserve, confirm)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="the Celery worker's niceness (docker-compose: 10; 0: same as gunicorn)",
    )
    harness.add_server_args(parser)
    args = parser.parse_args(argv)

    machine = harness.machine_line()
    command = harness.command_line("benchmarks/booking_latency_bench.py")
    # Not eager: the booking emails go to a real Celery worker through Redis, as in
    # production, and its CPU (on the same 2 cores) is counted below.
    environment = harness.Environment.create(
        "booking_bench", keep=args.keep_db, eager=False
    )
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / environment.name
    logs.mkdir(parents=True, exist_ok=True)
    server = None
    worker = None
    try:
        environment.setup_django()
        from django.db import connections

        from providers.models import Booking

        harness.seed_route()
        provider = harness.make_provider()
        tour = harness.make_tour(
            provider,
            capacity=1_000_000,
            start_times=["07:30", "14:00"],
            title="Weaving workshop (latency)",
        )
        agencies = harness.make_agencies(args.clients, "Latency")
        connections.close_all()
        worker = harness.CeleryWorker(environment.env, logs, nice=args.worker_nice)
        server = harness.Gunicorn(
            args, environment.env, logs, app="bench_wsgi:application"
        )
        server.wait_ready(agencies[0][1], args.workers)
        worker.wait_ready()
        first_day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)
        flows = [
            Flow(server.port, key, tour, first_day, seed=n)
            for n, (_agency, key) in enumerate(agencies)
        ]
        memory = harness.MemorySampler(server)
        memory.start()
        postmaster = harness.postgres_postmaster()
        gunicorn_cpu = 0.0
        worker_cpu = 0.0
        # Warm-up requests are the first lines of the access log.
        warm_lines = 0
        pg_before = 0.0
        busy_before = (0, 0)
        client_cpu_before = 0.0

        def mark() -> None:
            nonlocal warm_lines, gunicorn_cpu, busy_before, client_cpu_before, pg_before
            nonlocal worker_cpu
            warm_lines = len(server.access_times())
            worker_cpu = harness.tree_cpu_seconds(worker.process.pid)
            pg_before = harness.tree_cpu_seconds(postmaster) if postmaster else 0.0
            gunicorn_cpu = harness.tree_cpu_seconds(server.process.pid)
            busy_before = harness.cpu_busy()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            client_cpu_before = usage.ru_utime + usage.ru_stime

        # The measured rounds start after every client's warm-up: mark then.
        wall = run_with_mark(flows, args.warmup, args.rounds, mark)
        busy_after = harness.cpu_busy()
        pg_cpu = (
            harness.tree_cpu_seconds(postmaster) if postmaster else 0.0
        ) - pg_before
        server_cpu = harness.tree_cpu_seconds(server.process.pid) - gunicorn_cpu
        worker_cpu = harness.tree_cpu_seconds(worker.process.pid) - worker_cpu
        backlog = worker.queue_length()
        drained = worker.drain()  # the emails left when the load ended
        usage = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = usage.ru_utime + usage.ru_stime - client_cpu_before
        memory.stop()
        logged = server.access_times()[warm_lines:]
        phases = run_phases(flows, server, args.phase_requests)
        tracebacks = server.errors_logged()
        counts = {
            status: Booking.objects.filter(listing=tour, status=status).count()
            for status in (Booking.Status.CONFIRMED, Booking.Status.ON_HOLD)
        }
    finally:
        if server is not None:
            server.stop()
        if worker is not None:
            worker.stop()
        environment.drop()

    server_times: dict[str, list[float]] = defaultdict(list)
    for method, path, _status, seconds in logged:
        op = _operation(method, path)
        if op:
            server_times[op].append(seconds)
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    for flow in flows:
        for op in OPERATIONS:
            times[op] += flow.times[op]
            errors[op] += flow.errors[op]
    total = sum(len(v) for v in times.values())
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])

    print("Booking latency benchmark (gunicorn on PostgreSQL)")
    print(f"  machine: {machine}")
    print(f"  command: {command}")
    print(f"  server:  {harness.server_line(args)}")
    print(
        f"  load:    {args.clients} concurrent clients (one agency key and keep-alive "
        f"connection each, no think time), {args.warmup} warm-up + {args.rounds} "
        f"measured rounds each of calendar ({DAYS} days) → reserve (2 adults) → "
        f"confirm"
    )
    print(
        f"\n  {'operation':<10} {'n':>5} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'max ms':>7} {'req/s':>6}   {'server p50/p95 ms':>17}   target p95"
    )
    ok = True
    for op in OPERATIONS:
        values = sorted(times[op])
        server_values = sorted(server_times[op])
        p95 = harness.percentile(values, 95) * 1000
        met = p95 <= TARGET_P95_MS[op] and not errors[op]
        ok &= met
        print(
            f"  {op:<10} {len(values):>5} {len(errors[op]):>6} "
            f"{harness.percentile(values, 50) * 1000:>7.1f} {p95:>7.1f} "
            f"{values[-1] * 1000:>7.1f} {len(values) / wall:>6.1f}   "
            f"{harness.percentile(server_values, 50) * 1000:>7.1f} / "
            f"{harness.percentile(server_values, 95) * 1000:>6.1f}   "
            f"≤ {TARGET_P95_MS[op]:.0f} ms: {'met' if met else 'NOT MET'}"
        )
    print(
        f"  {'all':<10} {total:>5} {sum(len(e) for e in errors.values()):>6} "
        f"{'':>7} {'':>7} {'':>7} {total / wall:>6.1f}   in {wall:.1f} s"
    )
    for op in OPERATIONS:
        for detail in sorted(set(errors[op]))[:3]:
            print(f"  error ({op}): {detail}")
    per = 1000 / max(1, total)
    capacity = wall * (os.cpu_count() or 1)
    other = busy * capacity - server_cpu - pg_cpu - client_cpu - worker_cpu
    print(
        f"\n  CPU over {wall:.0f} s × {os.cpu_count()} CPUs: machine "
        f"{busy * 100:.0f} % busy; per request gunicorn {server_cpu * per:.1f} ms, "
        f"PostgreSQL {pg_cpu * per:.1f} ms, Celery worker (booking emails) "
        f"{worker_cpu * per:.1f} ms, client {client_cpu * per:.1f} ms; "
        f"everything else (Redis, kernel, other work) {max(0.0, other):.0f} CPU-s "
        f"({max(0.0, other) / capacity * 100:.0f} % of the machine)"
    )
    print(
        f"  Celery worker (nice {args.worker_nice}): {backlog} emails still "
        f"queued when the load ended, all sent "
        + (f"{drained:.1f} s later" if drained is not None else "NOT within 300 s")
    )
    print(
        f"  bookings made: {counts[Booking.Status.CONFIRMED]} confirmed, "
        f"{counts[Booking.Status.ON_HOLD]} on hold (warm-up included)"
    )
    resent = sum(flow.client.resent for flow in flows)
    print(
        f"  requests sent again on a new connection (the server had closed the "
        f"kept-alive one): {resent}"
    )
    ok &= print_phases(phases, args)
    print(f"  tracebacks in gunicorn's logs: {tracebacks}")
    print(f"  {memory.line()}")
    print(f"  logs: {logs}")
    ok &= tracebacks == 0
    print(f"\n  overall: {'all targets met' if ok else 'NOT MET (see above)'}")
    return 0 if ok else 1


def run_phases(
    flows: list[Flow], server, per_client: int
) -> dict[str, tuple[int, int, float, list[float]]]:
    """Each of PHASES alone, all clients at once: (requests, errors, wall seconds,
    the server's own times from gunicorn's log) per phase. Reserve leaves the holds
    that confirm then confirms."""
    results = {}
    # The mixed run's figures are printed afterwards: keep them.
    kept = [(dict(f.times), dict(f.errors), f.client.resent) for f in flows]
    for op in PHASES:
        for flow in flows:
            flow.reset()
        before = len(server.access_times())
        barrier = threading.Barrier(len(flows) + 1, timeout=600)

        def client(flow: Flow, op: str = op, barrier=barrier) -> None:
            barrier.wait()
            for _ in range(per_client):
                flow.one(op)

        threads = [
            threading.Thread(target=client, args=(f,), daemon=True) for f in flows
        ]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        done = sum(len(f.times[op]) for f in flows)
        failed = sum(len(f.errors[op]) for f in flows)
        server_seconds = [
            seconds
            for method, path, _status, seconds in server.access_times()[before:]
            if _operation(method, path) == op
        ]
        results[op] = (done, failed, wall, server_seconds)
    for flow, (times, errors, resent) in zip(flows, kept, strict=True):
        flow.reset()
        flow.times.update(times)
        flow.errors.update(errors)
        flow.client.resent = resent
    return results


def print_phases(phases, args) -> bool:
    """The saturation phases' table; True when every target is met."""
    bare_done, _failed, bare_wall, _server = phases["bare"]
    bare_rate = bare_done / bare_wall
    print(
        f"\n  Each operation alone at saturation ({args.clients} clients × "
        f"{args.phase_requests} requests), against the bare endpoint "
        f"(GET /bench/row/<pk>: one row by primary key, same gunicorn and PostgreSQL):"
    )
    print(
        f"  {'operation':<10} {'n':>5} {'errors':>6} {'req/s':>7} {'share':>6} "
        f"{'server p50/p95 ms':>18}   targets"
    )
    ok = True
    for op in PHASES:
        done, failed, wall, server = phases[op]
        server = sorted(server)
        rate = done / wall
        share = rate / bare_rate
        p95 = harness.percentile(server, 95) * 1000
        if op == "bare":
            target = "(the yardstick)"
        else:
            met = share >= TARGET_SHARE[op] and p95 <= TARGET_SERVER_P95_MS
            met &= not failed
            ok &= met
            target = (
                f"share ≥ {TARGET_SHARE[op]:.0%}, server p95 ≤ "
                f"{TARGET_SERVER_P95_MS:.0f} ms: {'met' if met else 'NOT MET'}"
            )
        print(
            f"  {op:<10} {done:>5} {failed:>6} {rate:>7.1f} {share:>6.0%} "
            f"{harness.percentile(server, 50) * 1000:>8.1f} / {p95:>6.1f}   {target}"
        )
    return ok


def run_with_mark(flows: list[Flow], warmup: int, rounds: int, mark) -> float:
    """:func:`run`, calling ``mark()`` after the warm-up, before the measured rounds."""
    barrier = threading.Barrier(len(flows) + 1, timeout=600)
    done = threading.Barrier(len(flows) + 1, timeout=3600)

    def client(flow: Flow) -> None:
        for _ in range(warmup):
            flow.round()
        flow.reset()
        barrier.wait()
        for _ in range(rounds):
            flow.round()
        done.wait()

    threads = [threading.Thread(target=client, args=(f,), daemon=True) for f in flows]
    for thread in threads:
        thread.start()
    # Wait for every client's warm-up: the barrier's other parties are all waiting.
    while barrier.n_waiting < len(flows):
        time.sleep(0.01)
    mark()
    barrier.wait()
    started = time.perf_counter()
    done.wait()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
