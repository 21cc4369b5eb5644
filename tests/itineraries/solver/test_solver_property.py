"""Hypothesis: on random small problems the solver is valid and exactly optimal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import permutations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itineraries.solver import (
    Node,
    OrienteeringProblem,
    SolverParams,
    SolveStatus,
    Tour,
    TourPlan,
    Visit,
    solve,
    validate,
)


@st.composite
def problems(draw: st.DrawFn) -> OrienteeringProblem:
    """Small problems: 2 terminals, up to 4 customers, 1-2 tours, all features."""
    n_customers = draw(st.integers(1, 4))
    n = 2 + n_customers
    n_tours = draw(st.integers(1, 2))
    # Asymmetric travel, triangle inequality not guaranteed.
    travel = tuple(
        tuple(0 if i == j else draw(st.integers(0, 25)) for j in range(n))
        for i in range(n)
    )
    nodes = [Node(0), Node(1)]
    for i in range(2, n):
        points = sorted(draw(st.sets(st.integers(0, 80), max_size=4)))
        windows = tuple(
            (points[k], points[k + 1]) for k in range(0, len(points) - 1, 2)
        )
        allowed = None
        if n_tours > 1 and draw(st.booleans()):
            allowed = frozenset(draw(st.sets(st.integers(0, n_tours - 1))))
        nodes.append(
            Node(
                i,
                service_min=draw(st.integers(0, 10)),
                score=draw(st.integers(0, 10)),
                windows=windows,
                price_minor=draw(st.integers(0, 5)),
                mandatory=draw(st.integers(0, 5)) == 0,
                allowed_tours=allowed,
            )
        )
    tours = []
    for _ in range(n_tours):
        departure = draw(st.integers(0, 20))
        tours.append(
            Tour(
                draw(st.integers(0, 1)),
                draw(st.integers(0, 1)),
                departure,
                departure + draw(st.integers(0, 90)),
            )
        )
    budget = draw(st.one_of(st.none(), st.integers(0, 12)))
    return OrienteeringProblem(tuple(nodes), tuple(tours), travel, budget)


def earliest_plan(
    problem: OrienteeringProblem, k: int, sequence: Sequence[int]
) -> TourPlan:
    """As-early-as-possible schedule (possibly invalid: the validator decides)."""
    tour = problem.tours[k]
    here, ready = tour.start, tour.earliest_departure
    visits = []
    for i in sequence:
        node = problem.nodes[i]
        arrival = ready + problem.travel[here][i]
        start = arrival
        for a, b in node.windows:
            if arrival <= b:
                start = max(arrival, a)
                break
        visits.append(Visit(i, start))
        here, ready = i, start + node.service_min
    return TourPlan(
        k,
        tour.earliest_departure,
        tuple(visits),
        ready + problem.travel[here][tour.end],
    )


def all_plans(
    problem: OrienteeringProblem, k: int, free: frozenset[int]
) -> Iterator[tuple[TourPlan, ...]]:
    """Every assignment of ordered node sequences to tours k, k+1, ..."""
    if k == len(problem.tours):
        yield ()
        return
    for size in range(len(free) + 1):
        for sequence in permutations(sorted(free), size):
            plan = earliest_plan(problem, k, sequence)
            for rest in all_plans(problem, k + 1, free - set(sequence)):
                yield (plan, *rest)


def brute_force(problem: OrienteeringProblem) -> int | None:
    """Best valid score by enumeration, None when no plan is valid."""
    best = None
    for plans in all_plans(problem, 0, frozenset(problem.customers)):
        if not validate(problem, plans):
            score = sum(problem.nodes[v.node].score for p in plans for v in p.visits)
            best = score if best is None else max(best, score)
    return best


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(problems())
def test_random_problems_match_brute_force(problem: OrienteeringProblem) -> None:
    """Returned plans are valid; the status and score match exhaustive search."""
    solution = solve(problem, SolverParams(time_limit_s=2.0, random_seed=0))
    expected = brute_force(problem)
    if expected is None:
        assert solution.status == SolveStatus.INFEASIBLE
        return
    assert solution.status == SolveStatus.OPTIMAL
    assert validate(problem, solution) == []
    assert solution.score == expected
    assert solution.bound == expected
