"""Itinerary quality benchmark (not a test): would an expert sell these plans?

In a fresh database (``benchmarks/benchdb.py``: a throwaway SQLite file, or a fresh
PostgreSQL database when ``DATABASE_URL=postgres://…``) it migrates, seeds the real
route (``seed_route``) and the demo providers (``seed_demo``), then generates
``--count`` (default 320) plan requests deterministically from ``--seed``: Cusco → La
Paz and La Paz → Cusco (about 40 % each) and trips between the other hubs, 2–14 days,
1–6 adults, some children, every pace, arrival overland or by air, budgets in PEN /
BOB / USD from tiny to generous or none, every month and weekday of ``--year`` (2027;
dates more than the API's 365 days ahead move back by whole weeks), include / exclude
of real listing ids and of ``"sight:<slug>"`` from ``GET /api/v1/sights/`` (skipped
when that endpoint answers 404), and ``via`` absent / copacabana / desaguadero / any.

Each request is POSTed to ``/api/v1/plans/`` through Django's test ``Client`` (tasks
eager, ``Accept-Language: en``, HTTPS, the plan rate limit lifted), exactly as a
traveller's browser or an agency would, and every solved plan is judged by
``benchmarks/quality/checker.py`` — route facts transcribed from the research briefs,
independent of the planner's code. Every ``infeasible`` or ``failed`` request is then
re-run with ``--retry-factor`` (10) times the solver's time limit
(``SOLVER_TIME_LIMIT_SECONDS``, overridden in the settings the plan task reads) and
counted when it solves.

It prints the defects per class (plans with it, occurrences, hard / soft), the share
of requests solved / infeasible / failed / rejected (400), the Copacabana share over
overland Cusco ↔ La Paz trips of 4+ days (``via`` absent or copacabana; plans whose
explanation says why not are left out), the share of plans with any soft defect, the
"infeasible but solved with 10× time" count, the end-to-end time per request
(p50 / p95 / max of the POST), the peak RSS, and the targets next to the figures.
``--json out.json`` dumps every request, answer and defect; ``--show N`` prints N
solved plans in full as a traveller reads them, with their defects; ``--rejudge
out.json`` judges the plans of such a dump again with the current checker, without
planning (for work on the checker).

SQLite (a throwaway file, ``/tmp/itinerary_quality.sqlite3``)::

    .venv/bin/python benchmarks/itinerary_quality.py --show 12 --json /tmp/quality.json

PostgreSQL (+ Redis as the cache) on throwaway servers, a fresh database
``itinerary_quality_<random>`` dropped at the end (``--keep-db`` keeps it)::

    bin/with-services .venv/bin/python benchmarks/itinerary_quality.py
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import resource
import shlex
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import benchdb  # noqa: E402
import synthetic_catalogue  # noqa: E402  (setup_django, _redacted)

from benchmarks.quality import checker, show  # noqa: E402

SQLITE_FILE = Path("/tmp/itinerary_quality.sqlite3")
TARGET_SOFT_SHARE = 0.05
MAIN_PAIRS = (("cusco", "la-paz"), ("la-paz", "cusco"))
OTHER_PAIRS = (
    ("cusco", "puno"),
    ("puno", "cusco"),
    ("puno", "la-paz"),
    ("la-paz", "puno"),
    ("puno", "copacabana"),
    ("copacabana", "puno"),
    ("copacabana", "la-paz"),
    ("la-paz", "copacabana"),
    ("cusco", "copacabana"),
    ("copacabana", "cusco"),
)
PACES = ("relaxed", "normal", "packed")
NATIONALITIES = ("DE", "US", "FR", "GB", "ES", "NL", "IT", "CA", "AU", "IL", "BR", "PE")
# Budget per person and day in USD, tiny to generous; rough rates to express it in PEN
# and BOB (only to size the budgets, not to judge them).
BUDGET_LEVELS = (("tiny", 5), ("low", 25), ("mid", 60), ("high", 150), ("lavish", 400))
PER_USD = {"USD": 1.0, "PEN": 3.75, "BOB": 6.9}
VIA = ((None, 40), ("copacabana", 20), ("desaguadero", 20), ("any", 20))


# --- Requests -------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _date(
    rng: random.Random, year: int, month: int, weekday: int, latest: dt.date
) -> dt.date:
    first = dt.date(year, month, 1)
    first += dt.timedelta(days=(weekday - first.weekday()) % 7)
    day = first + dt.timedelta(weeks=rng.randint(0, 3))
    if day.month != month:
        day -= dt.timedelta(weeks=1)
    while day > latest:
        day -= dt.timedelta(weeks=1)
    return day


def make_requests(
    *,
    count: int,
    seed: int,
    year: int,
    latest: dt.date,
    listings: list[int],
    sights: list[str],
    tags: list[str],
) -> list[dict[str, Any]]:
    """``count`` requests; month and weekday run through all 84 combinations."""
    rng = random.Random(f"itinerary-quality-{seed}")
    requests = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.8:
            origin, destination = MAIN_PAIRS[0 if roll < 0.4 else 1]
        else:
            origin, destination = rng.choice(OTHER_PAIRS)
        days = rng.randint(2, 14)
        adults = _weighted(rng, ((1, 20), (2, 35), (3, 15), (4, 15), (5, 8), (6, 7)))
        children = 0 if rng.random() < 0.7 else rng.randint(1, 3)
        start = _date(rng, year, n % 12 + 1, (n // 12) % 7, latest)
        request: dict[str, Any] = {
            "origin": origin,
            "destination": destination,
            "start_date": start.isoformat(),
            "days": days,
            "adults": adults,
            "children": children,
            "nationality": rng.choice(NATIONALITIES),
            "arrival": "flight" if rng.random() < 0.4 else "overland",
            "pace": PACES[n % 3],
            "interests": {tag: rng.choice((0, 0, 1, 2, 3, 4, 5)) for tag in tags},
        }
        if rng.random() < 0.75:
            currency = ("PEN", "BOB", "USD")[n % 3 if rng.random() < 0.5 else 2 - n % 3]
            _level, per_day = rng.choice(BUDGET_LEVELS)
            amount = per_day * (adults + 0.5 * children) * days * PER_USD[currency]
            request["budget"] = {
                "amount": f"{max(1, round(amount))}.00",
                "currency": currency,
            }
        else:
            request["budget"] = None
        include: list[Any] = []
        exclude: list[Any] = []
        if listings and rng.random() < 0.15:
            include = rng.sample(listings, k=min(len(listings), rng.randint(1, 2)))
        if listings and rng.random() < 0.12:
            left = [lid for lid in listings if lid not in include]
            exclude = rng.sample(left, k=min(len(left), rng.randint(1, 3)))
        if sights and rng.random() < 0.10:
            include.append(f"sight:{rng.choice(sights)}")
        if sights and rng.random() < 0.08:
            slug = f"sight:{rng.choice(sights)}"
            if slug not in include:
                exclude.append(slug)
        if include:
            request["include"] = include
        if exclude:
            request["exclude"] = exclude
        via = _weighted(rng, VIA)
        if via is not None:
            request["via"] = via
        requests.append(request)
    return requests


def budget_level(request: dict[str, Any]) -> str:
    budget = request.get("budget")
    if not budget:
        return "none"
    persons = request["adults"] + 0.5 * request.get("children", 0)
    per_day = (
        float(budget["amount"])
        / PER_USD[budget["currency"]]
        / persons
        / request["days"]
    )
    return min(BUDGET_LEVELS, key=lambda level: abs(level[1] - per_day))[0]


# --- Running --------------------------------------------------------------------------


def post_plan(
    client: Any, request: dict[str, Any]
) -> tuple[int, dict[str, Any], float]:
    """POST one request (and poll if it was queued); status code, body, seconds."""
    started = time.perf_counter()
    response = client.post(
        "/api/v1/plans/", request, content_type="application/json", secure=True
    )
    body = response.json()
    while response.status_code == 202 and body.get("status") in ("queued", "solving"):
        time.sleep(0.2)
        response = client.get(f"/api/v1/plans/{body['id']}/", secure=True)
        body = response.json()
    return response.status_code, body, time.perf_counter() - started


def _proc_status_kib(field: str) -> int | None:
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


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- Report ---------------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def report(rows: list[dict[str, Any]], args: argparse.Namespace, meta: dict) -> None:
    total = len(rows)
    statuses = collections.Counter(row["status"] for row in rows)
    solved = [row for row in rows if row["status"] == "solved"]
    print()
    print("Requests by status")
    for status in ("solved", "infeasible", "failed", "rejected"):
        print(f"  {status:<11} {statuses[status]:>4}  {_pct(statuses[status], total)}")
    print(f"  {'total':<11} {total:>4}")

    print()
    print(f"Defects over {len(solved)} solved plans")
    print(
        f"  {'class':<30} {'severity':<12} {'plans':>6} {'share':>7} "
        f"{'occurrences':>12}"
    )
    plans_with: collections.Counter[str] = collections.Counter()
    occurrences: collections.Counter[str] = collections.Counter()
    for row in solved:
        keys = [d["class"] for d in row["defects"]]
        occurrences.update(keys)
        plans_with.update(set(keys))
    for cls in checker.DEFECT_CLASSES:
        print(
            f"  {cls.label:<30} {cls.severity:<12} {plans_with[cls.key]:>6} "
            f"{_pct(plans_with[cls.key], len(solved)):>7} {occurrences[cls.key]:>12}"
        )
    hard_plans = sum(
        1 for row in solved if any(d["severity"] == "hard" for d in row["defects"])
    )
    soft_plans = sum(
        1 for row in solved if any(d["severity"] == "soft" for d in row["defects"])
    )
    hard_total = sum(
        occurrences[c.key] for c in checker.DEFECT_CLASSES if c.severity == "hard"
    )
    clean = sum(
        1
        for row in solved
        if not any(d["severity"] in ("hard", "soft") for d in row["defects"])
    )

    copa = collections.Counter(
        row["copacabana"]
        for row in solved
        if {row["request"]["origin"], row["request"]["destination"]}
        == {"cusco", "la-paz"}
        and row["request"]["days"] >= 4
    )
    judged = copa["passed"] + copa["skipped"]
    retried = [row for row in rows if row.get("retry")]
    rescued = [row for row in retried if row["retry"]["status"] == "solved"]
    seconds = [row["seconds"] for row in rows if row["status"] != "rejected"]

    solver_seconds = [
        float(row["plan"]["stats"]["seconds"])
        for row in rows
        if row["plan"]
        and isinstance((row["plan"].get("stats") or {}).get("seconds"), (int, float))
    ]
    peak = meta.get("peak_rss_kib")
    figures = (
        (
            "hard defects: occurrences / plans with any",
            f"{hard_total} / {hard_plans} ({_pct(hard_plans, len(solved))})",
            "0",
        ),
        (
            "Copacabana route, overland Cusco↔La Paz, 4+ days",
            f"{_pct(copa['passed'], judged)} ({copa['passed']}/{judged})",
            "100 %",
        ),
        (
            "plans with any soft defect",
            f"{_pct(soft_plans, len(solved))} ({soft_plans}/{len(solved)})",
            f"≤ {TARGET_SOFT_SHARE:.0%}",
        ),
        (
            f"infeasible/failed that solve with {args.retry_factor:g}× time",
            f"{len(rescued)} of {len(retried)}",
            "0",
        ),
        ("plans with no hard or soft defect", f"{clean}/{len(solved)}", ""),
        (
            "time per request (POST, end to end)",
            f"p50 {percentile(seconds, 0.5):.2f} s, p95 "
            f"{percentile(seconds, 0.95):.2f} s, max {max(seconds, default=0):.2f} s",
            "",
        ),
        (
            "planner's own time (stats.seconds)",
            f"p50 {percentile(solver_seconds, 0.5):.2f} s, p95 "
            f"{percentile(solver_seconds, 0.95):.2f} s, "
            f"max {max(solver_seconds, default=0):.2f} s",
            "",
        ),
        (
            "peak RSS while planning / whole process",
            (f"{peak / 1024:.0f} MiB" if peak else "n/a")
            + f" / {meta['ru_maxrss_kib'] / 1024:.0f} MiB",
            "",
        ),
    )
    print()
    print(f"  {'figure':<52} {'measured':<40} target")
    for name, measured, target in figures:
        print(f"  {name:<52} {measured:<40} {target}")
    print(
        f"  (Copacabana share leaves out {copa['explained']} plans that explain why "
        f"and {copa['n/a']} with via ≠ copacabana or a flight leg)"
    )
    if rescued:
        print()
        print(f"Solved only with {args.retry_factor:g}× the time limit:")
        for row in rescued:
            print(f"  #{row['n']}: {show.request_line(row['request'])}")
            for line in row["explanation"][:2]:
                print(f"      was: {line}")
    unsolved = [row for row in rows if row["status"] in ("infeasible", "failed")]
    if unsolved:
        print()
        print("Why not solved (first explanation line, numbers and dates hidden):")
        reasons = collections.Counter(
            re.sub(r"\d[\d:.,-]*", "#", (row["explanation"] or ["(none)"])[0])[:110]
            for row in unsolved
        )
        for reason, count in reasons.most_common(10):
            print(f"  {count:>4} × {reason}")
    crow = collections.Counter()
    for row in solved:
        crow.update(tuple(pair) for pair in row["crow_pairs"])
    if crow:
        print()
        print("Ride pairs judged only by the crow-flight bound (no sourced leg):")
        for (a, b), count in crow.most_common():
            print(f"  {a} → {b}: {count}")
    print()
    print("Coverage of the requests")
    for label, key in (
        ("direction", lambda r: f"{r['origin']}→{r['destination']}"),
        ("pace", lambda r: r["pace"]),
        ("arrival", lambda r: r["arrival"]),
        ("budget", lambda r: (r["budget"] or {}).get("currency", "none")),
        ("budget level", budget_level),
        ("via", lambda r: r.get("via", "(absent)")),
        ("days", lambda r: r["days"]),
        ("month", lambda r: r["start_date"][5:7]),
        ("weekday", lambda r: dt.date.fromisoformat(r["start_date"]).strftime("%a")),
    ):
        counts = collections.Counter(key(row["request"]) for row in rows)
        print(
            f"  {label:<12} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
    combos = {
        (
            r["request"]["start_date"][5:7],
            dt.date.fromisoformat(r["request"]["start_date"]).weekday(),
        )
        for r in rows
    }
    print(f"  month × weekday combinations covered: {len(combos)} of 84")
    with_children = sum(1 for r in rows if r["request"].get("children"))
    with_lists = sum(
        1 for r in rows if r["request"].get("include") or r["request"].get("exclude")
    )
    print(f"  with children {with_children}; with include/exclude {with_lists}")
    print(f"  sights endpoint: {meta['sights']}")
    rejected = [row for row in rows if row["status"] == "rejected"]
    if rejected:
        reasons = collections.Counter(
            json.dumps(row["answer"].get("errors") or row["answer"].get("detail"))[:120]
            for row in rejected
        )
        print()
        print("Rejected (400) requests:")
        for reason, count in reasons.most_common(8):
            print(f"  {count:>4} × {reason}")


# --- Main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument(
        "--retry-factor", type=float, default=10.0, help="time-limit factor for re-runs"
    )
    parser.add_argument("--no-retry", action="store_true")
    parser.add_argument("--json", type=Path, help="dump requests, plans and defects")
    parser.add_argument("--show", type=int, default=0, help="print N plans in full")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--rejudge",
        type=Path,
        metavar="OUT_JSON",
        help="judge the plans of an earlier --json dump again (no planning)",
    )
    args = parser.parse_args(argv)
    if args.rejudge:
        return rejudge(args)

    hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
    os.environ["DJANGO_ALLOWED_HOSTS"] = f"{hosts},testserver"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ["PLAN_RATE_LIMIT"] = "1000000/min"
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("DJANGO_SECRET_KEY", "itinerary-quality-benchmark-only")
    label, cleanup = benchdb.fresh_database(
        "itinerary_quality", SQLITE_FILE, keep=args.keep_db, other_url_as_given=False
    )
    try:
        return run(args, label)
    finally:
        cleanup()


def judge(row: dict[str, Any]) -> None:
    """The checker's findings on a row's plan (and on its re-run's)."""
    request, plan = row["request"], row["plan"]
    row["defects"], row["crow_pairs"], row["copacabana"] = [], [], "n/a"
    if row["status"] == "solved":
        context = checker.check_plan_context(request, plan)
        row["defects"] = [d.as_dict() for d in context.defects]
        row["crow_pairs"] = sorted(context.crow_pairs)
        row["copacabana"] = checker.copacabana_status(request, plan)
    if row.get("retry"):
        row["retry"]["defects"] = [
            d.as_dict() for d in checker.check_plan(request, row["retry"]["plan"])
        ]


def show_plans(rows: list[dict[str, Any]], count: int) -> None:
    """``count`` solved plans spread over the run, in full, with their defects."""
    solved = [row for row in rows if row["status"] == "solved"]
    for row in solved[:: max(1, len(solved) // count)][:count]:
        defects = checker.check_plan(row["request"], row["plan"])
        print()
        print(f"=== Plan #{row['n']} " + "=" * 60)
        print(show.plan_text(row["request"], row["plan"], defects))


def rejudge(args: argparse.Namespace) -> int:
    """Judge a dump's plans with the checker as it is now: for changes to the
    checker, without planning again (times and memory are the dump's)."""
    dump = json.loads(args.rejudge.read_text())
    meta, rows = dump["meta"], dump["results"]
    for row in rows:
        judge(row)
    args.retry_factor = meta["retry_factor"]
    print(f"Itinerary quality: the plans of {args.rejudge} judged again")
    print(f"  planned by: {meta['command']} ({meta['database']})")
    report(rows, args, meta)
    if args.show:
        show_plans(rows, args.show)
    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "results": rows}, indent=1, ensure_ascii=False)
        )
        print(f"\nWrote {args.json}")
    return 0


def run(args: argparse.Namespace, label: str) -> int:
    synthetic_catalogue.setup_django(os.environ["DATABASE_URL"])
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client, override_settings
    from django.utils import timezone

    from providers.models import InterestTag
    from providers.selectors import listing_list_bookable

    print("Itinerary quality benchmark")
    print(f"  command: {shlex.join(['.venv/bin/python', *sys.argv])}")
    print(f"  database: {label}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_route", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    print(f"  migrate + seed_route + seed_demo: {time.perf_counter() - started:.1f} s")

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    answer = client.get("/api/v1/sights/", secure=True)
    sights: list[str] = []
    if answer.status_code == 200:
        data = answer.json()
        items = data.get("results", data) if isinstance(data, dict) else data
        sights = sorted(str(item["slug"]) for item in items if item.get("slug"))
        sights_note = f"{len(sights)} sights"
    else:
        sights_note = f"GET /api/v1/sights/ answered {answer.status_code}: no sights"
    listings = sorted(listing_list_bookable().values_list("pk", flat=True))
    latest = timezone.localdate() + dt.timedelta(days=365)
    requests = make_requests(
        count=args.count,
        seed=args.seed,
        year=args.year,
        latest=latest,
        listings=listings,
        sights=sights,
        tags=list(InterestTag.values),
    )
    limit = settings.SOLVER_TIME_LIMIT_SECONDS
    print(
        f"  {len(requests)} requests, seed {args.seed}, year {args.year}; "
        f"{len(listings)} bookable listings; {sights_note}"
    )
    print(
        f"  solver time limit {limit:g} s (re-runs {limit * args.retry_factor:g} s); "
        f"CPUs {os.cpu_count()}, load {os.getloadavg()[0]:.2f}"
    )

    peak_reset = reset_peak_rss()
    rows = []
    run_started = time.perf_counter()
    for n, request in enumerate(requests):
        code, body, seconds = post_plan(client, request)
        status = body.get("status") if code in (200, 201) else "rejected"
        row: dict[str, Any] = {
            "n": n,
            "request": request,
            "http_status": code,
            "status": status,
            "seconds": seconds,
            "answer": body if status == "rejected" else None,
            "plan": body if status != "rejected" else None,
            "explanation": body.get("explanation") or [],
        }
        judge(row)
        rows.append(row)
        if (n + 1) % 50 == 0:
            print(f"  … {n + 1} planned ({time.perf_counter() - run_started:.0f} s)")
    peak = _proc_status_kib("VmHWM") if peak_reset else None

    if not args.no_retry:
        again = [row for row in rows if row["status"] in ("infeasible", "failed")]
        print(
            f"  re-running {len(again)} infeasible/failed with "
            f"{args.retry_factor:g}× time"
        )
        with override_settings(SOLVER_TIME_LIMIT_SECONDS=limit * args.retry_factor):
            for row in again:
                code, body, seconds = post_plan(client, row["request"])
                row["retry"] = {
                    "status": body.get("status"),
                    "seconds": seconds,
                    "plan": body,
                }
                judge(row)
    meta = {
        "database": label,
        "count": len(rows),
        "seed": args.seed,
        "year": args.year,
        "time_limit_s": limit,
        "retry_factor": args.retry_factor,
        "sights": sights_note,
        "peak_rss_kib": peak,
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "seconds": time.perf_counter() - run_started,
        "command": shlex.join([".venv/bin/python", *sys.argv]),
    }
    report(rows, args, meta)
    print(f"\n  wall time planning + re-runs: {meta['seconds']:.0f} s")

    if args.show:
        show_plans(rows, args.show)
    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "results": rows}, indent=1, ensure_ascii=False)
        )
        print(f"\nWrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
