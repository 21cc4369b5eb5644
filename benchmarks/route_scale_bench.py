"""Route-scale itinerary planner benchmark (not a test).

Builds a synthetic catalogue at the size of the whole route
(``benchmarks/synthetic_catalogue.py``: by default 2,000 listings with 90 days of
availability on the real Cusco – Puno – Lake Titicaca – La Paz places) in a fresh
database. It then plans ``--plans`` varied trips of ``--plan-days`` days (both
directions, parties of 1–6, different interests, paces and budgets) in the
planner's API request format, each with ``itineraries.services.plan_compute`` (world
loading from the database, then ``Planner.run()``), exactly as previews do.

Per plan it measures the world loading (``world_load``), the solve (``Planner.run``
wall time, rendering included; the planner's own ``stats["seconds"]`` is shown too)
and the total. The table shows each plan's status, objective, the planner's bound and
gap, then p50/p95/max of the three times, the status counts, the mean/max gap over
solved plans, the peak RSS of the planning phase (VmHWM reset once the data is built)
and of the whole process (``ru_maxrss``); with ``--tracemalloc``, each plan's peak of
Python allocations too (from a second pass under tracemalloc, so the timed pass runs
without its overhead).
A second pass (``--bound-seconds``, default 10; its time is not in the figures)
plans every solved request again with the planner's tighter bound (each day of the
best route of days solved alone by the engine) and prints the gap to it.
Infeasible plans are listed with the planner's explanation, failed ones with their
traceback. ``--profile N`` re-runs the N slowest plans under cProfile.

SQLite (a throwaway file, ``/tmp/route_scale.sqlite3``)::

    .venv/bin/python benchmarks/route_scale_bench.py --listings 2000 --days 90

The seeded demo catalogue only (``seed_route`` + ``seed_demo``, no synthetic data):
20 Cusco → La Paz plans of 6 days, four varied parties and interests::

    .venv/bin/python benchmarks/route_scale_bench.py --demo-only

PostgreSQL: with ``DATABASE_URL=postgres://…`` the script creates a fresh database
``route_scale_<random>`` on that server (the user needs CREATEDB) and drops it at the
end (``--keep-db`` keeps it). ``bin/with-services`` starts a throwaway server::

    bin/with-services .venv/bin/python benchmarks/route_scale_bench.py

An explicit ``DATABASE_URL=sqlite:///…`` is used as it is: the synthetic catalogue in
it is replaced, nothing else is touched.

The time limit per plan is ``settings.SOLVER_TIME_LIMIT_SECONDS`` unless
``--time-limit`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import gc
import io
import json
import os
import pstats
import random
import resource
import shlex
import statistics
import sys
import time
import traceback
import tracemalloc
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import benchdb  # noqa: E402
import synthetic_catalogue  # noqa: E402

SQLITE_FILE = Path("/tmp/route_scale.sqlite3")
PROFILE_DIR = Path("/tmp")
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


# The demo catalogue: one Cusco → La Paz trip of 6 days, four parties and interests.
DEMO_VARIANTS: tuple[dict[str, Any], ...] = (
    {
        "adults": 2,
        "children": 0,
        "nationality": "DE",
        "interests": {"culture": 5, "lake": 4, "food": 3},
        "pace": "normal",
    },
    {
        "adults": 1,
        "children": 0,
        "nationality": "US",
        "interests": {"hiking": 5, "nature": 4, "archaeology": 3},
        "pace": "packed",
    },
    {
        "adults": 2,
        "children": 2,
        "nationality": "FR",
        "interests": {"lake": 5, "farming": 4, "textiles": 3, "culture": 2},
        "pace": "relaxed",
    },
    {
        "adults": 4,
        "children": 0,
        "nationality": "PE",
        "interests": {"archaeology": 5, "food": 4, "festivals": 3},
        "pace": "normal",
        "budget": {"amount": "6000.00", "currency": "PEN"},
    },
)


def demo_requests(*, count: int, start: dt.date, plan_days: int) -> list[dict]:
    """``count`` Cusco → La Paz requests on ``start``, cycling through the variants."""
    requests = []
    for n in range(count):
        request: dict[str, Any] = {
            "origin": "cusco",
            "destination": "la-paz",
            "start_date": start.isoformat(),
            "days": plan_days,
            "arrival": "overland",
        }
        request.update(json.loads(json.dumps(DEMO_VARIANTS[n % len(DEMO_VARIANTS)])))
        requests.append(request)
    return requests


# --- The planner ----------------------------------------------------------------------

# Seconds spent in the wrapped functions during the current plan.
TIMERS = {"load": 0.0, "render": 0.0}


def _timed(key: str, func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            TIMERS[key] += time.perf_counter() - started

    wrapper.bench_timed = True  # type: ignore[attr-defined]
    return wrapper


def instrument() -> None:
    """Time world loading and rendering inside ``plan_compute`` by wrapping the two
    functions where the planner code looks them up (its code is not changed):
    ``world_load`` in ``itineraries.services`` and ``render_plan`` in
    ``itineraries.planning.render`` (imported by ``Planner._render`` at call time)."""
    from itineraries import services
    from itineraries.planning import render

    if not getattr(services.world_load, "bench_timed", False):
        services.world_load = _timed("load", services.world_load)
    if not getattr(render.render_plan, "bench_timed", False):
        render.render_plan = _timed("render", render.render_plan)


def compute(request: dict, *, time_limit_s: float | None = None) -> dict:
    """Plan one request with ``itineraries.services.plan_compute``; returns the status,
    the planner's stats, its explanation (English) when infeasible, and the seconds
    spent loading the world, solving (``Planner.run``, rendering included) and in
    total."""
    from itineraries.planning.messages import render_all
    from itineraries.services import plan_compute

    instrument()
    TIMERS.update(load=0.0, render=0.0)
    started = time.perf_counter()
    result = plan_compute(request, time_limit_s=time_limit_s)
    total = time.perf_counter() - started
    return {
        "status": result.status,
        "stats": dict(result.stats),
        "explanation": (
            render_all(result.explanation)["en"] if result.status != "solved" else []
        ),
        "days": len(result.days),
        "load_s": TIMERS["load"],
        "solve_s": total - TIMERS["load"],
        "render_s": TIMERS["render"],
        "total_s": total,
    }


# --- Measuring ------------------------------------------------------------------------


def gap_of(result: dict) -> float | None:
    """The planner's ``stats["gap"]`` ((bound - objective) / bound), else computed
    from objective and bound; None when the result has no usable bound."""
    stats = result.get("stats") or {}
    if stats.get("gap") is not None:
        return float(stats["gap"])
    objective, bound = stats.get("objective"), stats.get("bound")
    if objective is None or not bound:
        return None
    return (float(bound) - float(objective)) / float(bound)


def tighten_bounds(rows: list[dict], *, seconds: float, time_limit_s: float) -> None:
    """After the timed pass (its timings untouched): each solved plan again with
    the planner's tighter bound (``Planner(bound_seconds=…)``: the best route of
    days with each of its days solved alone by the engine), for ``tight_bound``
    and ``tight_gap``. The plans are deterministic: the same objective comes back
    (checked)."""
    from itineraries.planning.planner import Planner
    from itineraries.services import plan_request_build, world_load

    for row in rows:
        row["tight_bound"] = row["tight_gap"] = row["bound_s"] = None
        if row["status"] != "solved":
            continue
        request = plan_request_build(row["request"])
        world = world_load(request)
        started = time.perf_counter()
        try:
            result = Planner(
                world, request, time_limit_s=time_limit_s, bound_seconds=seconds
            ).run()
        except Exception as exc:  # one failed bound must not end the run
            row["tight_note"] = f"tighter bound failed: {type(exc).__name__}: {exc}"
            continue
        row["bound_s"] = time.perf_counter() - started
        stats = result.stats
        if stats.get("objective") != row["objective"]:
            row["tight_note"] = (
                f"objective {stats.get('objective')} on the second run, "
                f"{row['objective']} on the first"
            )
        row["tight_bound"] = stats.get("bound")
        row["tight_gap"] = gap_of({"stats": stats})


def _proc_status_kib(field: str) -> int | None:
    """``VmHWM`` (peak RSS) or ``VmRSS`` of this process in KiB (Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset the process's peak RSS (VmHWM, and with it ``ru_maxrss``) to its
    current RSS (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def run_plans(requests: list[dict], *, time_limit_s: float | None) -> list[dict]:
    """The timed pass: one plan after the other, without tracemalloc."""
    rows = []
    for n, request in enumerate(requests, 1):
        gc.collect()
        error = None
        started = time.perf_counter()
        try:
            result = compute(request, time_limit_s=time_limit_s)
        except Exception as exc:  # one failed plan must not end the run
            result = {"status": "error", "total_s": time.perf_counter() - started}
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        stats = result.get("stats") or {}
        rows.append(
            {
                "n": n,
                "request": request,
                "status": str(result.get("status", "?")),
                "objective": stats.get("objective"),
                "bound": stats.get("bound"),
                "gap": gap_of(result),
                "proven": stats.get("proven"),
                "skeletons": stats.get("skeletons_solved"),
                "planner_s": stats.get("seconds"),
                "load_s": result.get("load_s"),
                "solve_s": result.get("solve_s"),
                "render_s": result.get("render_s"),
                "total_s": result["total_s"],
                "explanation": result.get("explanation") or [],
                "traced_peak": None,
                "error": error,
            }
        )
    return rows


def trace_plans(
    rows: list[dict], *, time_limit_s: float | None, only: set[int] | None = None
) -> None:
    """The memory pass: the plans again under tracemalloc, each one's peak of
    Python allocations (world loading included) into ``row["traced_peak"]``."""
    tracemalloc.start()
    try:
        for row in rows:
            if only is not None and row["n"] not in only:
                continue
            gc.collect()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            try:
                compute(row["request"], time_limit_s=time_limit_s)
            except Exception:  # reported by the timed pass
                continue
            row["traced_peak"] = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# Where a plan's time goes: (label, file suffix, function, caller or None). With a
# caller, only the calls from that function count (cProfile's per-caller figures).
PLANNER = "itineraries/planning/planner.py"
SKELETON = "itineraries/planning/skeleton.py"
PHASES: tuple[tuple[str, str, str, tuple[str, str] | None], ...] = (
    ("world loading (world_load)", "itineraries/selectors.py", "world_load", None),
    ("Planner.run", PLANNER, "run", None),
    ("  values (Planner.__init__)", PLANNER, "__init__", None),
    ("  canonical DPs (to_go)", SKELETON, "to_go", None),
    ("  beam search", SKELETON, "beam", None),
    ("  exhaustive search", SKELETON, "skeletons", None),
    ("  tight bounds", PLANNER, "_tight_bound", None),
    ("  solve days", PLANNER, "_solve_days", None),
    ("    choose stays", PLANNER, "choose_stays", None),
    ("    build problem", PLANNER, "_problem", None),
    ("    engine solve", "itineraries/solver/solve.py", "solve", None),
    ("  global bound", PLANNER, "_global_bound", None),
    ("  render", "itineraries/planning/render.py", "render_plan", None),
    ("  explain failure", PLANNER, "_explain_failure", None),
    ("  one-click fixes", PLANNER, "_fixes", None),
    ("DP transitions (all)", SKELETON, "transitions", None),
    ("ride chains (moves)", SKELETON, "moves", None),
)


def phase_seconds(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """Cumulative seconds and calls of each phase's function, summed over its code
    objects (e.g. both ``to_go`` closures), from the given caller only if one is
    named."""
    found = []
    table = stats.stats  # type: ignore[attr-defined]
    for label, suffix, name, caller in PHASES:
        seconds, calls = 0.0, 0
        for (filename, _line, func), (_cc, nc, _tt, ct, callers) in table.items():
            if func != name or not filename.endswith(suffix):
                continue
            if caller is None:
                seconds += ct
                calls += nc
                continue
            for (c_file, _c_line, c_func), figures in callers.items():
                if c_func == caller[1] and c_file.endswith(caller[0]):
                    calls += figures[0]
                    seconds += figures[3]
        found.append((label, seconds, calls))
    return found


def profile_plans(
    rows: list[dict], *, count: int, time_limit_s: float | None, top: int = 30
) -> None:
    """Re-run the ``count`` slowest plans under cProfile: top ``top`` functions by
    cumulative time, then the time per phase. Profiles go to /tmp."""
    slowest = sorted(
        (row for row in rows if row["error"] is None),
        key=lambda row: -row["total_s"],
    )[:count]
    for row in slowest:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            result = compute(row["request"], time_limit_s=time_limit_s)
        finally:
            profiler.disable()
        path = PROFILE_DIR / f"route_scale_plan_{row['n']}.prof"
        profiler.dump_stats(path)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(top)
        print(
            f"\n  profile of plan {row['n']} (timed pass {row['total_s']:.2f} s; "
            f"under cProfile {result['total_s']:.2f} s, {result['status']}, "
            f"{(result['stats'] or {}).get('skeletons_solved')} skeletons solved); "
            f"saved to {path}"
        )
        print("  request: " + json.dumps(row["request"], sort_keys=True))
        lines = out.getvalue().splitlines()
        start = next(
            (i for i, line in enumerate(lines) if "ncalls" in line), 0
        )  # skip pstats' preamble
        for line in lines[start:]:
            if line.strip():
                print("    " + line.replace(str(ROOT) + "/", ""))
        print("  phases (cumulative s, calls):")
        for label, seconds, calls in phase_seconds(stats):
            print(f"    {label:<30} {seconds:>8.3f} s {calls:>8}")


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


def _sec(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_rows(rows: list[dict]) -> None:
    header = (
        f"  {'#':>3} {'route':<14} {'start':<10} {'party':>5} {'pace':<7} "
        f"{'arrival':<8} {'budget':>14} {'status':<10} {'objective':>9} "
        f"{'bound':>9} {'gap':>7} {'tight':>7} {'sk':>3} {'load s':>6} "
        f"{'solve s':>7} "
        f"{'total s':>7} {'MiB':>6}"
    )
    print(header)
    for row in rows:
        req = row["request"]
        budget = req.get("budget")
        gap = "-" if row["gap"] is None else f"{row['gap'] * 100:.2f}%"
        tight = row.get("tight_gap")
        tight = "-" if tight is None else f"{tight * 100:.2f}%"
        print(
            f"  {row['n']:>3} {req['origin'] + '→' + req['destination']:<14} "
            f"{req['start_date']:<10} {req.get('adults', 1):>3}+"
            f"{req.get('children', 0)} {req.get('pace', 'normal'):<7} "
            f"{req.get('arrival', 'overland'):<8} "
            f"{(budget['amount'] + ' ' + budget['currency']) if budget else '-':>14} "
            f"{row['status']:<10} {_num(row['objective']):>9} "
            f"{_num(row['bound']):>9} {gap:>7} {tight:>7} {_num(row['skeletons']):>3} "
            f"{_sec(row['load_s']):>6} {_sec(row['solve_s']):>7} "
            f"{row['total_s']:>7.2f} {_mib(row['traced_peak']):>6}"
        )


def _spread(rows: list[dict], key: str) -> str:
    values = sorted(row[key] for row in rows if row[key] is not None)
    if not values:
        return "-"
    return (
        f"p50 {percentile(values, 50):.2f} s, p95 {percentile(values, 95):.2f} s, "
        f"max {values[-1]:.2f} s"
    )


def summary(rows: list[dict]) -> dict[str, Any]:
    solved = [row for row in rows if row["status"] == "solved"]
    gaps = [row["gap"] for row in solved if row["gap"] is not None]
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    solve = sorted(row["solve_s"] for row in rows if row["solve_s"] is not None)
    total = sorted(row["total_s"] for row in rows)
    return {
        "statuses": statuses,
        "gaps": gaps,
        "proven": sum(1 for row in solved if row["proven"]),
        "solved": len(solved),
        "solve_p95": percentile(solve, 95) if solve else None,
        "total_p95": percentile(total, 95) if total else None,
        "total_max": total[-1] if total else None,
    }


def print_summary(rows: list[dict], figures: dict[str, Any]) -> None:
    print(f"  world loading:           {_spread(rows, 'load_s')}")
    print(f"  solve (Planner.run):     {_spread(rows, 'solve_s')}")
    print(f"    planner's own seconds: {_spread(rows, 'planner_s')}")
    print(f"    of which rendering:    {_spread(rows, 'render_s')}")
    print(f"  total (plan_compute):    {_spread(rows, 'total_s')}")
    print(
        "  statuses: "
        + ", ".join(f"{n} {s}" for s, n in sorted(figures["statuses"].items()))
        + f"; {figures['proven']} of {figures['solved']} solved plans proven optimal"
    )
    gaps = figures["gaps"]
    if gaps:
        print(
            f"  gap to the planner's bound (solved plans): mean "
            f"{statistics.mean(gaps) * 100:.2f}%, max {max(gaps) * 100:.2f}% "
            f"({len(gaps)} plans)"
        )
    tight = [row["tight_gap"] for row in rows if row.get("tight_gap") is not None]
    if tight:
        spent = [row["bound_s"] for row in rows if row.get("bound_s") is not None]
        print(
            f"  gap to the tighter bound (days solved alone, second pass): mean "
            f"{statistics.mean(tight) * 100:.2f}%, median "
            f"{statistics.median(tight) * 100:.2f}%, max {max(tight) * 100:.2f}% "
            f"({len(tight)} plans; {statistics.median(spent):.1f} s median per plan "
            "with its solve)"
        )
    for row in rows:
        if row.get("tight_note"):
            print(f"  plan {row['n']}: {row['tight_note']}")
    for row in rows:
        if row["status"] not in ("solved", "error"):
            print(
                f"  plan {row['n']} {row['status']}: " + " | ".join(row["explanation"])
            )
            print("    request: " + json.dumps(row["request"], sort_keys=True))
    for row in rows:
        if row["error"]:
            print(f"  plan {row['n']} failed: {row['error']}")
            print("    request: " + json.dumps(row["request"], sort_keys=True))


# --- Database -------------------------------------------------------------------------


def fresh_database(keep: bool) -> tuple[str, Any]:
    """Point DATABASE_URL at a fresh database; returns its label and a cleanup."""
    return benchdb.fresh_database(
        "route_scale", SQLITE_FILE, keep=keep, other_url_as_given=True
    )


# --- The benchmark --------------------------------------------------------------------

TARGET_SOLVE_P95_S = 3.0  # 2,000 listings x 90 days, 14-day plans
TARGET_PEAK_BYTES = 500 * 10**6
TARGET_DEMO_S = 1.0  # a 6-day plan on the demo catalogue


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90, help="days of availability")
    parser.add_argument("--plans", type=int, help="default 30 (20 with --demo-only)")
    parser.add_argument("--plan-days", type=int, help="default 14 (6 with --demo-only)")
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
        "--demo-only",
        action="store_true",
        help="no synthetic data: Cusco → La Paz plans on seed_route + seed_demo",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        help="seconds per plan (default: settings.SOLVER_TIME_LIMIT_SECONDS)",
    )
    parser.add_argument(
        "--tracemalloc",
        dest="trace",
        action="store_true",
        help=(
            "plan everything a second time under tracemalloc for each plan's peak of "
            "Python allocations (MiB column); slow: tracemalloc slows the search "
            "about tenfold, so plans run into their time limit"
        ),
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="re-run the N slowest plans under cProfile (top 30 by cumulative)",
    )
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="do not plan the first request once, untimed, before the timed pass",
    )
    parser.add_argument(
        "--bound-seconds",
        type=float,
        default=10.0,
        help="seconds per solved plan for the tighter bound, in a second pass "
        "after the timed one (0: skip)",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    plans = args.plans or (20 if args.demo_only else 30)
    plan_days = args.plan_days or (6 if args.demo_only else 14)

    command = shlex.join([".venv/bin/python", "benchmarks/route_scale_bench.py"])
    if sys.argv[1:] and argv is None:
        command += " " + shlex.join(sys.argv[1:])
    if os.environ.get("DATABASE_URL"):
        url = synthetic_catalogue._redacted(os.environ["DATABASE_URL"])
        command = f"DATABASE_URL={url} {command}"
    load = os.getloadavg()[0]
    start = args.start or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)

    database, cleanup = fresh_database(args.keep_db)
    try:
        synthetic_catalogue.setup_django(os.environ["DATABASE_URL"])
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        setup_started = time.perf_counter()
        synthetic_catalogue.prepare_database()
        if args.demo or args.demo_only:
            call_command("seed_demo", stdout=StringIO())
        synthetic_catalogue.clear()
        setup = time.perf_counter() - setup_started
        if args.demo_only:
            from providers.models import Listing

            counts = {"listings": Listing.objects.count()}
            requests = demo_requests(count=plans, start=start, plan_days=plan_days)
            title = (
                f"Demo-catalogue planner benchmark: {plans} plans of {plan_days} days "
                f"Cusco → La Paz from {start} on seed_route + seed_demo "
                f"({counts['listings']} listings, no synthetic data)"
            )
            data = f"migrate and seed {setup:.1f} s"
        else:
            counts = synthetic_catalogue.generate(
                listings=args.listings, days=args.days, start=start, seed=args.seed
            )
            requests = plan_requests(
                count=plans,
                start=start,
                days=args.days,
                plan_days=plan_days,
                seed=args.seed,
            )
            title = (
                f"Route-scale planner benchmark: {plans} plans of {plan_days} days "
                f"on {counts['listings']} listings x {args.days} days"
            )
            data = (
                f"{counts['providers']} providers, {counts['listings']} listings, "
                f"{counts['units']} units, {counts['slots']} slots from {start} "
                f"(seed {args.seed}{', plus demo data' if args.demo else ''}) in "
                f"{counts['seconds']:.1f} s; migrate and seed {setup:.1f} s"
            )
        rss_after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        limit = (
            args.time_limit
            if args.time_limit is not None
            else settings.SOLVER_TIME_LIMIT_SECONDS
        )
        limit_source = (
            "--time-limit"
            if args.time_limit is not None
            else "settings.SOLVER_TIME_LIMIT_SECONDS"
        )

        print(title)
        print(
            f"  machine: {os.cpu_count()} CPUs, load average {load:.2f} at the start; "
            f"Python {sys.version.split()[0]}"
        )
        print(f"  command: {command}")
        print(f"  database: {database} ({connection.vendor})")
        print(f"  data: {data}")
        print(f"  time limit per plan: {limit:g} s ({limit_source})")

        instrument()
        if args.warmup and requests:
            warm = time.perf_counter()
            with contextlib.suppress(Exception):  # the timed pass reports it
                compute(requests[0], time_limit_s=limit)
            print(
                f"  warm-up (request 1 once, untimed): "
                f"{time.perf_counter() - warm:.2f} s"
            )
        gc.collect()
        rss_before = _proc_status_kib("VmRSS")
        peak_reset = reset_peak_rss()
        rows = run_plans(requests, time_limit_s=limit)
        planning_peak = _proc_status_kib("VmHWM") if peak_reset else None
        rss_after_plans = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if args.bound_seconds > 0:
            tighten_bounds(rows, seconds=args.bound_seconds, time_limit_s=limit)
        if args.trace:
            trace_plans(rows, time_limit_s=limit)
        if args.profile:
            profile_plans(rows, count=args.profile, time_limit_s=limit)
    finally:
        cleanup()

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    figures = summary(rows)
    print()
    print_rows(rows)
    print_summary(rows, figures)
    traced = [row["traced_peak"] for row in rows if row["traced_peak"] is not None]
    if planning_peak:
        print(
            f"  peak RSS while planning: {planning_peak / 1024:.0f} MiB (VmHWM, reset "
            f"after building the data and the warm-up, when RSS was "
            f"{(rss_before or 0) / 1024:.0f} MiB)"
        )
    print(
        f"  ru_maxrss of the process: {rss_after_data / 1024:.0f} MiB after building "
        f"the data, {rss_after_plans / 1024:.0f} MiB after the timed pass, "
        f"{peak_rss / 1024:.0f} MiB at the end (tracemalloc and cProfile passes "
        "included)"
    )
    if traced:
        print(
            f"  tracemalloc peak per plan (second pass): median "
            f"{_mib(statistics.median(traced))} MiB, max {_mib(max(traced))} MiB"
        )
    peak_bytes = (planning_peak or peak_rss) * 1024
    if args.demo_only:
        total_max = figures["total_max"]
        print(
            f"  target: a {plan_days}-day demo plan ≤ {TARGET_DEMO_S:g} s: total p95 "
            f"{figures['total_p95']:.2f} s, max {total_max:.2f} s: "
            f"{_met(total_max <= TARGET_DEMO_S)}"
        )
    elif (args.listings, args.days, plan_days) == (2000, 90, 14):
        solve_p95 = figures["solve_p95"]
        print(
            f"  target: p95 solve ≤ {TARGET_SOLVE_P95_S:g} s: {solve_p95:.2f} s "
            f"(total p95 {figures['total_p95']:.2f} s): "
            f"{_met(solve_p95 is not None and solve_p95 <= TARGET_SOLVE_P95_S)}"
        )
        print(
            f"  target: peak memory ≤ {TARGET_PEAK_BYTES / 10**6:.0f} MB: "
            f"{peak_bytes / 10**6:.0f} MB: {_met(peak_bytes <= TARGET_PEAK_BYTES)}"
        )
    else:
        print("  targets: defined for 2000 listings x 90 days, 14-day plans only")
    print(f"  command: {command}")
    return 1 if any(row["error"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
