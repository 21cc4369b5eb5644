"""TOPTW benchmark files: reader, mapping onto the engine, and a CLI.

Usage::

    python -m itineraries.solver.toptw INSTANCE --tours M --time-limit S [--seed N]

prints one JSON line ``{"instance", "tours", "score", "routes", "seconds"}``.

File format (see the benchmark's FORMAT.md): everything before the first vertex
line is one flat header token list (``c204.txt`` splits it over two lines
differently), of which only ``N`` (third token) matters; vertex lines are
``i x y d S f a <a values> O C`` with ``O``/``C`` the LAST two tokens (earliest and
latest start of service). The depot's ``C`` is Tmax. Line endings may be CRLF.

Route rules: travel time = Euclidean distance truncated to 1 decimal (Solomon
based files) or 2 decimals (Cordeau based ``pr`` files). To stay in integers the
whole instance is scaled by ``10**decimals`` (tenths or hundredths of a time
unit) and distances are truncated exactly with integer arithmetic.

The mapping onto :class:`OrienteeringProblem`: node 0 is the depot and the start
and end of ``M`` identical tours over ``[0, Tmax]``; customers have one window
``[O, C]``, service ``d`` and score ``S``; no prices, no budget, nothing mandatory.
The same :func:`itineraries.solver.solve` engine solves it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

from itineraries.solver.datatypes import (
    Node,
    OrienteeringProblem,
    Solution,
    SolverParams,
    Tour,
)
from itineraries.solver.solve import solve


@dataclass(frozen=True, slots=True)
class ToptwVertex:
    """One vertex line, exactly as read (decimal text kept as Decimal)."""

    id: int
    x: Decimal
    y: Decimal
    service: Decimal
    score: int
    open: Decimal
    close: Decimal


@dataclass(frozen=True, slots=True)
class ToptwInstance:
    """A TOPTW instance file."""

    name: str
    header: tuple[str, ...]
    vertices: tuple[ToptwVertex, ...]
    decimals: int  # precision of the travel times (1 Solomon, 2 Cordeau)

    @property
    def n_customers(self) -> int:
        """Number of customers N (vertices 1..N)."""
        return len(self.vertices) - 1

    @property
    def tmax(self) -> Decimal:
        """Time budget of every route: the depot's closing time."""
        return self.vertices[0].close

    @property
    def scale(self) -> int:
        """Integer time units per original time unit."""
        return 10**self.decimals


def parse_instance(text: str, name: str, decimals: int | None = None) -> ToptwInstance:
    """Parse the text of an instance file."""
    lines = [line.split() for line in text.splitlines()]
    header: list[str] = []
    index = 0
    while index < len(lines) and len(lines[index]) < 9:
        header.extend(lines[index])
        index += 1
    if len(header) < 3:
        raise ValueError(f"{name}: header too short: {header}")
    n = int(header[2])
    vertices: list[ToptwVertex] = []
    for fields in lines[index:]:
        if not fields:
            continue
        if len(vertices) == n + 1:
            break
        if len(fields) < 9:
            raise ValueError(f"{name}: short vertex line {fields}")
        vertex = ToptwVertex(
            id=int(fields[0]),
            x=Decimal(fields[1]),
            y=Decimal(fields[2]),
            service=Decimal(fields[3]),
            score=int(Decimal(fields[4])),
            open=Decimal(fields[-2]),
            close=Decimal(fields[-1]),
        )
        if vertex.id != len(vertices):
            raise ValueError(f"{name}: vertex {vertex.id} out of order")
        vertices.append(vertex)
    if len(vertices) != n + 1:
        raise ValueError(f"{name}: expected {n + 1} vertices, got {len(vertices)}")
    if decimals is None:
        # Problem-type code 4 = Solomon based; 5 and 6 = Cordeau based (pr files).
        decimals = 2 if int(header[0]) >= 5 else 1
    return ToptwInstance(name, tuple(header), tuple(vertices), decimals)


def read_instance(path: str | Path, decimals: int | None = None) -> ToptwInstance:
    """Read an instance file (LF or CRLF)."""
    path = Path(path)
    return parse_instance(path.read_text(), path.stem, decimals)


def _scaled(value: Decimal, scale: int, rounding: str) -> int:
    return int((value * scale).to_integral_value(rounding=rounding))


def distance_matrix(instance: ToptwInstance) -> tuple[tuple[int, ...], ...]:
    """Euclidean distances truncated to ``decimals``, in units of ``1/scale``.

    Exact: coordinates become integers in units of ``10**-p`` and
    ``floor(sqrt(D2) * 10**(decimals - p)) == isqrt(floor(D2 * 10**(2*(decimals-p))))``.
    """
    p = max(
        max(-v.x.as_tuple().exponent, -v.y.as_tuple().exponent, 0)  # type: ignore[operator]
        for v in instance.vertices
    )
    xs = [int(v.x.scaleb(p)) for v in instance.vertices]
    ys = [int(v.y.scaleb(p)) for v in instance.vertices]
    shift = 2 * (instance.decimals - p)
    rows: list[tuple[int, ...]] = []
    for xi, yi in zip(xs, ys, strict=True):
        row: list[int] = []
        for xj, yj in zip(xs, ys, strict=True):
            d2 = (xi - xj) ** 2 + (yi - yj) ** 2
            d2 = d2 * 10**shift if shift >= 0 else d2 // 10 ** (-shift)
            row.append(math.isqrt(d2))
        rows.append(tuple(row))
    return tuple(rows)


def to_problem(instance: ToptwInstance, tours: int) -> OrienteeringProblem:
    """Map the instance onto the engine: ``tours`` identical depot tours."""
    if tours < 1:
        raise ValueError("at least one tour")
    scale = instance.scale
    tmax = _scaled(instance.tmax, scale, ROUND_FLOOR)
    nodes = [Node(id=0, name="depot")]
    for v in instance.vertices[1:]:
        window = (
            _scaled(v.open, scale, ROUND_CEILING),
            _scaled(v.close, scale, ROUND_FLOOR),
        )
        nodes.append(
            Node(
                id=v.id,
                service_min=_scaled(v.service, scale, ROUND_CEILING),
                score=v.score,
                windows=(window,) if window[0] <= window[1] else (),
            )
        )
    return OrienteeringProblem(
        nodes=tuple(nodes),
        tours=tuple(Tour(0, 0, 0, tmax) for _ in range(tours)),
        travel=distance_matrix(instance),
    )


def routes_of(solution: Solution) -> list[list[int]]:
    """Routes as ``[0, customers..., 0]`` lists."""
    return [[0, *(v.node for v in plan.visits), 0] for plan in solution.tours]


@dataclass(frozen=True, slots=True)
class ToptwRun:
    """Everything a benchmark needs about one CLI run."""

    instance: ToptwInstance
    problem: OrienteeringProblem
    solution: Solution
    seconds: float

    def as_json(self) -> dict[str, object]:
        """The CLI's JSON object."""
        return {
            "instance": self.instance.name,
            "tours": len(self.problem.tours),
            "score": self.solution.score,
            "routes": routes_of(self.solution),
            "seconds": round(self.seconds, 3),
        }


def run(
    path: str | Path,
    tours: int,
    time_limit_s: float,
    seed: int = 0,
    num_workers: int = 1,
    decimals: int | None = None,
) -> ToptwRun:
    """Read, map and solve one instance; the time limit covers all of it."""
    started = time.perf_counter()
    instance = read_instance(path, decimals)
    problem = to_problem(instance, tours)
    left = max(0.01, time_limit_s - (time.perf_counter() - started))
    params = SolverParams(time_limit_s=left, num_workers=num_workers, random_seed=seed)
    solution = solve(problem, params)
    return ToptwRun(instance, problem, solution, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; prints one JSON line."""
    parser = argparse.ArgumentParser(
        prog="python -m itineraries.solver.toptw", description=__doc__.splitlines()[0]
    )
    parser.add_argument("instance", type=Path, help="TOPTW instance file")
    parser.add_argument("--tours", type=int, required=True, help="number of routes m")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT workers")
    parser.add_argument(
        "--decimals",
        type=int,
        default=None,
        help="distance precision (default: 1 for Solomon, 2 for pr files)",
    )
    args = parser.parse_args(argv)
    result = run(
        args.instance,
        args.tours,
        args.time_limit,
        args.seed,
        args.workers,
        args.decimals,
    )
    sys.stdout.write(json.dumps(result.as_json()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
