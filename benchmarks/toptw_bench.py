"""TOPTW literature benchmark for the itinerary solver engine (not a test).

Runs ``itineraries.solver.toptw.run`` (the code path of the CLI) on a subset of
the 76 standard instances x tours, checks each plan with the independent
validator, and prints a table with the gap to the proven m=1 optima.

Examples::

    .venv/bin/python benchmarks/toptw_bench.py --set optimal-m1 --time-limit 10
    .venv/bin/python benchmarks/toptw_bench.py --instances c101 pr01 --tours 1 2 3 4
"""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from itineraries.solver.toptw import routes_of, run  # noqa: E402
from itineraries.solver.validate import validate  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "toptw"


@dataclass(frozen=True, slots=True)
class Row:
    """One benchmark run."""

    instance: str
    tours: int
    score: int
    status: str
    seconds: float
    feasible: bool
    problems: tuple[str, ...]


def _one(job: tuple[Path, int, float, int, int]) -> Row:
    path, tours, limit, seed, workers = job
    result = run(path, tours, limit, seed=seed, num_workers=workers)
    errors = validate(result.problem, result.solution)
    # The JSON routes must be the validated plan, depot to depot.
    routes = routes_of(result.solution)
    if [r[1:-1] for r in routes] != [
        [v.node for v in plan.visits] for plan in result.solution.tours
    ]:
        errors.append("routes differ from the plan")
    if not result.solution.has_plan:
        errors.append(f"no plan: {result.solution.status}")
    return Row(
        path.stem,
        tours,
        result.solution.score,
        str(result.solution.status),
        result.seconds,
        not errors,
        tuple(errors),
    )


def _optima(data: Path) -> dict[tuple[str, int], int]:
    with (data / "optimal_m1.csv").open(newline="") as handle:
        return {
            (row["instance"], int(row["tours"])): int(row["optimal_score"])
            for row in csv.DictReader(handle)
        }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--instances", nargs="*", default=None, help="names, e.g. c101")
    parser.add_argument(
        "--set",
        choices=["all", "optimal-m1"],
        default="optimal-m1",
        help="instance set when --instances is not given",
    )
    parser.add_argument("--tours", type=int, nargs="+", default=[1])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT workers per run")
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs in parallel (each gets a core)"
    )
    args = parser.parse_args(argv)

    optima = _optima(args.data)
    folder = args.data / "instances"
    if args.instances:
        names = list(args.instances)
    elif args.set == "optimal-m1":
        names = [name for name, tours in optima if tours == 1]
    else:
        names = sorted(p.stem for p in folder.glob("*.txt"))
    jobs = [
        (folder / f"{name}.txt", tours, args.time_limit, args.seed, args.workers)
        for tours in args.tours
        for name in names
    ]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(_one, jobs))
    else:
        rows = [_one(job) for job in jobs]

    print(
        f"{'instance':<9}{'tours':>6}{'score':>7}{'optimum':>9}{'gap%':>7}"
        f"{'seconds':>9}  {'feasible':<9}status"
    )
    gaps: list[float] = []
    for row in rows:
        optimum = optima.get((row.instance, row.tours))
        gap = ""
        if optimum is not None:
            value = 100.0 * (optimum - row.score) / optimum
            gaps.append(value)
            gap = f"{value:.2f}"
        print(
            f"{row.instance:<9}{row.tours:>6}{row.score:>7}"
            f"{optimum if optimum is not None else '':>9}{gap:>7}"
            f"{row.seconds:>9.2f}  {'yes' if row.feasible else 'NO':<9}{row.status}"
        )
        for problem in row.problems:
            print(f"    ! {problem}")
    print()
    if gaps:
        print(
            f"mean gap on {len(gaps)} proven m=1 optima: {sum(gaps) / len(gaps):.3f} %"
            f" (max {max(gaps):.2f} %, at optimum: {sum(g <= 0 for g in gaps)})"
        )
    for tours in args.tours:
        subset = [r for r in rows if r.tours == tours]
        print(
            f"tours={tours}: {len(subset)} runs, total score "
            f"{sum(r.score for r in subset)}, max seconds "
            f"{max(r.seconds for r in subset):.2f}"
        )
    print(f"all feasible: {'yes' if all(r.feasible for r in rows) else 'NO'}")
    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    print(f"command: {command}")
    return 0 if all(r.feasible for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
