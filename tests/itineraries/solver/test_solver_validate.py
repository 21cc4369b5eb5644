"""The independent validator catches hand-broken plans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from itineraries.solver import (
    Node,
    OrienteeringProblem,
    Solution,
    SolverParams,
    SolveStatus,
    Tour,
    TourPlan,
    Visit,
    solve,
    validate,
)


@pytest.fixture
def problem() -> OrienteeringProblem:
    """Depot 0 and three nodes on a line, windows on node 2, a budget, one must."""
    positions = [0, 2, 5, 9]
    travel = tuple(tuple(abs(a - b) for b in positions) for a in positions)
    nodes = (
        Node(0),
        Node(1, service_min=1, score=4, price_minor=300, mandatory=True),
        Node(2, service_min=1, score=5, windows=((4, 8),), price_minor=300),
        Node(3, service_min=1, score=7, price_minor=900, allowed_tours=frozenset({1})),
    )
    tours = (Tour(0, 0, 0, 12), Tour(0, 0, 0, 30))
    return OrienteeringProblem(nodes, tours, travel, budget_minor=1000)


def good_plan() -> tuple[TourPlan, ...]:
    """A valid plan: 1 and 2 on tour 0, nothing on tour 1."""
    return (
        TourPlan(0, 0, (Visit(1, 2), Visit(2, 6)), 12),
        TourPlan(1, 0, (), 0),
    )


def test_valid_plan_has_no_violation(problem: OrienteeringProblem) -> None:
    """A hand-checked valid plan passes."""
    assert validate(problem, good_plan()) == []


def test_solver_plan_passes(problem: OrienteeringProblem) -> None:
    """The solver's optimal plan for the fixture passes the validator."""
    solution = solve(problem, SolverParams(time_limit_s=3.0))
    assert solution.status == SolveStatus.OPTIMAL
    assert validate(problem, solution) == []
    # Node 3 (900) never fits next to the mandatory node 1 (300): 1 + 2 it is.
    assert solution.score == 9


def test_window_violation_is_reported(problem: OrienteeringProblem) -> None:
    """Starting node 2 after its window closes is reported."""
    plan = good_plan()
    broken = (replace(plan[0], visits=(Visit(1, 2), Visit(2, 9))), plan[1])
    errors = validate(problem, broken)
    assert any("outside its windows" in e for e in errors)


def test_start_before_arrival_is_reported(problem: OrienteeringProblem) -> None:
    """Starting a visit before one can get there is reported."""
    plan = good_plan()
    broken = (replace(plan[0], visits=(Visit(1, 1), Visit(2, 6))), plan[1])
    assert any("cannot arrive before" in e for e in validate(problem, broken))


def test_late_at_depot_is_reported(problem: OrienteeringProblem) -> None:
    """Returning to the end node after the tour's latest arrival is reported."""
    plan = good_plan()
    broken = (replace(plan[0], visits=(Visit(1, 2), Visit(2, 8))), plan[1])
    errors = validate(problem, broken)
    assert any("later than 12" in e for e in errors)


def test_duplicate_visit_is_reported(problem: OrienteeringProblem) -> None:
    """Visiting the same node on two tours is reported."""
    plan = good_plan()
    broken = (plan[0], TourPlan(1, 0, (Visit(2, 5),), 11))
    assert any("already visited" in e for e in validate(problem, broken))


def test_over_budget_is_reported(problem: OrienteeringProblem) -> None:
    """Spending more than the budget is reported."""
    plan = good_plan()
    broken = (plan[0], TourPlan(1, 0, (Visit(3, 9),), 19))
    errors = validate(problem, broken)
    assert any("exceeds budget" in e for e in errors)


def test_missing_mandatory_is_reported(problem: OrienteeringProblem) -> None:
    """Leaving out a mandatory node is reported."""
    broken = (TourPlan(0, 0, (Visit(2, 5),), 11), TourPlan(1, 0, (), 0))
    assert any("mandatory node 1" in e for e in validate(problem, broken))


def test_disallowed_tour_is_reported(problem: OrienteeringProblem) -> None:
    """Visiting a node on a tour it does not allow is reported."""
    broken = (
        TourPlan(0, 0, (Visit(1, 2), Visit(3, 9)), 19),
        TourPlan(1, 0, (), 0),
    )
    errors = validate(problem, broken)
    assert any("not allowed" in e for e in errors)


def test_wrong_claimed_score_is_reported(problem: OrienteeringProblem) -> None:
    """A solution whose score does not match its visits is reported."""
    solution = Solution(SolveStatus.FEASIBLE, good_plan(), 99, 99, None, 0.0)
    assert any("claimed score 99" in e for e in validate(problem, solution))
