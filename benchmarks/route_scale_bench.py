"""Route-scale itinerary planner benchmark (not a test).

Builds a synthetic catalogue at the size of the whole route
(``benchmarks/synthetic_catalogue.py``: by default 2,000 listings with 90 days of
availability on the real Cusco – Puno – Lake Titicaca – La Paz places) in a fresh
database. It then plans ``--plans`` varied trips of ``--plan-days`` days (both
directions, parties of 1–6, different interests, paces and budgets) in the
planner's API request format. Each plan's wall time and the peak memory of its
solve are measured. The table shows each plan's status and optimality gap, then
p50/p95/max time and the peak RSS.

SQLite (a throwaway file, ``/tmp/route_scale.sqlite3``)::

    .venv/bin/python benchmarks/route_scale_bench.py --listings 2000 --days 90

PostgreSQL: with ``DATABASE_URL=postgres://…`` the script creates a fresh database
``route_scale_<random>`` on that server (the user needs CREATEDB) and drops it at the
end (``--keep-db`` keeps it). ``bin/with-services`` starts a throwaway server::

    bin/with-services .venv/bin/python benchmarks/route_scale_bench.py

An explicit ``DATABASE_URL=sqlite:///…`` is used as it is: the synthetic catalogue in
it is replaced, nothing else is touched.

STATUS: the data half only. ``compute()`` is a placeholder until the planner service
exists; the run stops with exit code 2 after the data is built and the first request
is shown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import resource
import shlex
import statistics
import sys
import time
import tracemalloc
import uuid
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import synthetic_catalogue  # noqa: E402

SQLITE_FILE = Path("/tmp/route_scale.sqlite3")
ENDS = ("cusco", "la-paz")
NATIONALITIES = (
    ("DE", 14),
    ("US", 14),
    ("FR", 10),
    ("GB", 10),
    ("ES", 6),
    ("NL", 5),
    ("IT", 5),
    ("CA", 5),
    ("AU", 5),
    ("IL", 4),
    ("BR", 4),
    ("AR", 4),
    ("CL", 3),
    ("JP", 3),
    ("PE", 4),
    ("BO", 4),
)
# Rough exchange rates, only to make budgets of similar size in each currency.
PER_USD = {"USD": 1.0, "PEN": 3.75, "BOB": 6.9}


# --- Requests -------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def plan_requests(
    *, count: int, start: dt.date, days: int, plan_days: int, seed: int
) -> list[dict]:
    """``count`` varied plan requests in the planner's API request format, each
    starting in ``start .. start + days - plan_days`` (the whole trip inside the
    availability)."""
    from providers.models import InterestTag

    latest = days - plan_days
    if latest < 0:
        raise SystemExit(f"--plan-days {plan_days} do not fit in --days {days}")
    rng = random.Random(f"plans-{seed}")
    requests = []
    for n in range(count):
        origin = ENDS[n % 2] if rng.random() < 0.8 else rng.choice(ENDS)
        adults = _weighted(rng, ((1, 25), (2, 45), (3, 15), (4, 15)))
        children = _weighted(rng, ((0, 70), (1, 18), (2, 12)))
        interests = {
            tag: rng.choice((0, 0, 1, 2, 3, 4, 5)) for tag in InterestTag.values
        }
        if not any(interests.values()):
            interests[rng.choice(list(interests))] = 5
        request: dict[str, Any] = {
            "origin": origin,
            "destination": ENDS[1] if origin == ENDS[0] else ENDS[0],
            "start_date": (
                start + dt.timedelta(days=rng.randint(0, latest))
            ).isoformat(),
            "days": plan_days,
            "adults": adults,
            "children": children,
            "nationality": _weighted(rng, NATIONALITIES),
            "arrival": _weighted(rng, (("overland", 55), ("flight", 45))),
            "interests": interests,
            "pace": _weighted(rng, (("relaxed", 30), ("normal", 50), ("packed", 20))),
        }
        if rng.random() < 0.6:
            currency = _weighted(rng, (("USD", 50), ("PEN", 30), ("BOB", 20)))
            per_person_day = rng.randrange(40, 201, 10)  # USD
            persons = adults + 0.5 * children
            amount = per_person_day * persons * plan_days * PER_USD[currency]
            request["budget"] = {"amount": f"{round(amount)}.00", "currency": currency}
        requests.append(request)
    return requests


def compute(request: dict) -> dict:
    """Plan one request; returns the planner's result dict with ``status`` and
    ``stats["objective"]`` / ``stats["bound"]``."""
    # wired to itineraries.services.plan_compute once it exists
    raise NotImplementedError("itineraries.services.plan_compute does not exist yet")


# --- Measuring ------------------------------------------------------------------------


def gap_of(result: dict) -> float | None:
    """(bound - objective) / bound, or None when the result has no usable bound."""
    stats = result.get("stats") or {}
    objective, bound = stats.get("objective"), stats.get("bound")
    if objective is None or not bound:
        return None
    return (float(bound) - float(objective)) / float(bound)


def run_plans(requests: list[dict], *, trace: bool) -> list[dict]:
    rows = []
    if trace:
        tracemalloc.start()
    try:
        for n, request in enumerate(requests, 1):
            gc.collect()
            if trace:
                tracemalloc.reset_peak()
            error = None
            started = time.perf_counter()
            try:
                result = compute(request)
            except NotImplementedError:
                raise
            except Exception as exc:  # one failed plan must not end the run
                result, error = {"status": "error"}, f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if trace else None
            stats = result.get("stats") or {}
            rows.append(
                {
                    "n": n,
                    "request": request,
                    "status": str(result.get("status", "?")),
                    "objective": stats.get("objective"),
                    "bound": stats.get("bound"),
                    "gap": gap_of(result),
                    "seconds": seconds,
                    "traced_peak": peak,
                    "error": error,
                }
            )
    finally:
        if trace:
            tracemalloc.stop()
    return rows


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f}"


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:g}"


def print_rows(rows: list[dict]) -> None:
    header = (
        f"  {'#':>3} {'route':<14} {'start':<10} {'party':>5} {'pace':<7} "
        f"{'arrival':<8} {'budget':>14} {'status':<12} {'objective':>10} "
        f"{'bound':>10} {'gap':>7} {'time s':>7} {'solve MiB':>9}"
    )
    print(header)
    for row in rows:
        req = row["request"]
        budget = req.get("budget")
        gap = "-" if row["gap"] is None else f"{row['gap'] * 100:.2f}%"
        print(
            f"  {row['n']:>3} {req['origin'] + '→' + req['destination']:<14} "
            f"{req['start_date']:<10} {req['adults']:>3}+{req['children']} "
            f"{req['pace']:<7} {req['arrival']:<8} "
            f"{(budget['amount'] + ' ' + budget['currency']) if budget else '-':>14} "
            f"{row['status']:<12} {_num(row['objective']):>10} "
            f"{_num(row['bound']):>10} {gap:>7} {row['seconds']:>7.2f} "
            f"{_mib(row['traced_peak']):>9}"
        )


# --- Database -------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(keep: bool) -> tuple[str, Any]:
    """Point DATABASE_URL at a fresh database; returns its label and a cleanup."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        name = f"route_scale_{uuid.uuid4().hex[:8]}"
        _admin(base, f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = _with_database(base, name)

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            if not keep:
                _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"PostgreSQL, fresh database {name}", drop
    if base:
        return f"{base} (as given; synthetic catalogue replaced)", lambda: None
    files = [SQLITE_FILE.with_name(SQLITE_FILE.name + s) for s in ("", "-wal", "-shm")]
    for path in files:
        path.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_FILE}"

    def remove() -> None:
        from django.db import connections

        connections.close_all()
        if not keep:
            for path in files:
                path.unlink(missing_ok=True)

    return f"SQLite, fresh file {SQLITE_FILE}", remove


# --- The benchmark --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90, help="days of availability")
    parser.add_argument("--plans", type=int, default=30)
    parser.add_argument("--plan-days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        help="first day of availability (default: a week from today, UTC, so "
        "booking cut-offs do not bite)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="also load the demo providers (seed_demo) next to the synthetic ones",
    )
    parser.add_argument(
        "--no-tracemalloc",
        dest="trace",
        action="store_false",
        help="time the solves without tracemalloc's overhead (no solve MiB column)",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)

    command = shlex.join([".venv/bin/python", "benchmarks/route_scale_bench.py"])
    if sys.argv[1:]:
        command += " " + shlex.join(sys.argv[1:])
    if os.environ.get("DATABASE_URL"):
        command = "DATABASE_URL=… " + command
    load = os.getloadavg()[0]
    start = args.start or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)

    database, cleanup = fresh_database(args.keep_db)
    try:
        synthetic_catalogue.setup_django(os.environ["DATABASE_URL"])
        from django.core.management import call_command

        setup_started = time.perf_counter()
        synthetic_catalogue.prepare_database()
        if args.demo:
            call_command("seed_demo", stdout=StringIO())
        synthetic_catalogue.clear()
        setup = time.perf_counter() - setup_started
        counts = synthetic_catalogue.generate(
            listings=args.listings, days=args.days, start=start, seed=args.seed
        )
        rss_after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        requests = plan_requests(
            count=args.plans,
            start=start,
            days=args.days,
            plan_days=args.plan_days,
            seed=args.seed,
        )

        print(
            f"Route-scale planner benchmark: {args.plans} plans of {args.plan_days} "
            f"days on {counts['listings']} listings x {args.days} days"
        )
        print(f"  machine: {os.cpu_count()} CPUs, load average {load:.2f} at the start")
        print(f"  command: {command}")
        print(f"  database: {database}")
        print(
            f"  data: {counts['providers']} providers, {counts['listings']} "
            f"listings, {counts['units']} units, {counts['slots']} slots from "
            f"{start} (seed {args.seed}{', plus demo data' if args.demo else ''}) "
            f"in {counts['seconds']:.1f} s; migrate and seed {setup:.1f} s"
        )
        try:
            rows = run_plans(requests, trace=args.trace)
        except NotImplementedError as exc:
            print(f"  planner not wired: {exc}")
            print("  first request: " + json.dumps(requests[0], sort_keys=True))
            return 2
    finally:
        cleanup()

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    times = sorted(row["seconds"] for row in rows)
    gaps = [row["gap"] for row in rows if row["gap"] is not None]
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    print_rows(rows)
    for row in rows:
        if row["error"]:
            print(f"  plan {row['n']} failed: {row['error'][:300]}")
    print(
        f"  time per plan: p50 {percentile(times, 50):.2f} s, "
        f"p95 {percentile(times, 95):.2f} s, max {times[-1]:.2f} s"
        + (" (with tracemalloc on)" if args.trace else "")
    )
    if gaps:
        print(
            f"  gap: mean {statistics.mean(gaps) * 100:.2f}%, "
            f"max {max(gaps) * 100:.2f}% ({len(gaps)} plans with a bound)"
        )
    print("  statuses: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    traced = [row["traced_peak"] for row in rows if row["traced_peak"] is not None]
    print(
        f"  peak RSS: {peak_rss / 1024:.0f} MiB "
        f"({rss_after_data / 1024:.0f} MiB after building the data)"
        + (f"; largest solve allocated {_mib(max(traced))} MiB" if traced else "")
    )
    return 1 if any(row["error"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
