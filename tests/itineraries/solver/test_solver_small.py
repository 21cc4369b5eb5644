"""Hand-made orienteering problems with known optimal answers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from itineraries.solver import (
    Node,
    OrienteeringProblem,
    Solution,
    SolverParams,
    SolveStatus,
    Tour,
    solve,
    validate,
)

PARAMS = SolverParams(time_limit_s=3.0, num_workers=1, random_seed=0)


def line_travel(positions: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Symmetric travel times between points on a line."""
    return tuple(tuple(abs(a - b) for b in positions) for a in positions)


def checked(problem: OrienteeringProblem, params: SolverParams = PARAMS) -> Solution:
    """Solve and assert that any returned plan passes the independent validator."""
    solution = solve(problem, params)
    if solution.has_plan:
        assert validate(problem, solution) == []
    return solution


def visited(solution: Solution) -> set[int]:
    """All visited node ids."""
    return {v.node for plan in solution.tours for v in plan.visits}


def test_line_optimum() -> None:
    """Only the two closest high-score nodes fit in the time span: optimum 9."""
    # Depot at 0, nodes at 2, 5, 9 (service 1 each), back by 12.
    nodes = (
        Node(0),
        Node(1, service_min=1, score=4),
        Node(2, service_min=1, score=5),
        Node(3, service_min=1, score=7),
    )
    problem = OrienteeringProblem(
        nodes, (Tour(0, 0, 0, 12),), line_travel([0, 2, 5, 9])
    )
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 9
    assert solution.bound == 9
    assert visited(solution) == {1, 2}


def test_windows_force_order_and_waiting() -> None:
    """Windows force visiting the far node first and waiting at the near one."""
    nodes = (
        Node(0),
        Node(1, service_min=0, score=3, windows=((20, 25),)),
        Node(2, service_min=0, score=3, windows=((5, 10),)),
    )
    problem = OrienteeringProblem(nodes, (Tour(0, 0, 0, 40),), line_travel([0, 2, 5]))
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 6
    assert [(v.node, v.start) for v in solution.tours[0].visits] == [(2, 5), (1, 20)]


def test_multiple_windows_use_second_window() -> None:
    """A node whose first window is missed is visited in its second window."""
    nodes = (
        Node(0),
        Node(1, service_min=5, score=10, windows=((0, 3), (50, 60))),
    )
    problem = OrienteeringProblem(nodes, (Tour(0, 0, 0, 100),), line_travel([0, 10]))
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.tours[0].visits[0].start == 50


def test_asymmetric_travel_direction_matters() -> None:
    """With one-way fast links, only the cheap direction of the loop fits."""
    big = 100
    travel = (
        (0, 1, big),
        (big, 0, 1),
        (1, big, 0),
    )
    nodes = (Node(0), Node(1, score=2), Node(2, score=3))
    problem = OrienteeringProblem(nodes, (Tour(0, 0, 0, 5),), travel)
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 5
    assert solution.tours[0].node_sequence(problem) == (0, 1, 2, 0)


def test_budget_limits_the_choice() -> None:
    """The budget allows only one of two priced nodes: the better one is kept."""
    nodes = (
        Node(0),
        Node(1, score=5, price_minor=700),
        Node(2, score=8, price_minor=600),
        Node(3, score=1, price_minor=0),
    )
    problem = OrienteeringProblem(
        nodes, (Tour(0, 0, 0, 100),), line_travel([0, 1, 2, 3]), budget_minor=1000
    )
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert visited(solution) == {2, 3}
    assert solution.score == 9


def test_mandatory_node_displaces_better_one() -> None:
    """A low-score mandatory node is visited even though it costs a better node."""
    nodes = (
        Node(0),
        Node(1, score=1, mandatory=True),
        Node(2, score=10),
    )
    # Node 1 at -5 and node 2 at +5: only one of them fits in 12 minutes.
    problem = OrienteeringProblem(nodes, (Tour(0, 0, 0, 12),), line_travel([0, -5, 5]))
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert visited(solution) == {1}


def test_allowed_tours_and_per_tour_terminals() -> None:
    """Days differ (start/end/time span); nodes go only on the days they allow."""
    # Places: 0 hotel A, 1 hotel B, 2..4 activities.
    positions = [0, 20, 2, 18, 10]
    nodes = (
        Node(0),
        Node(1),
        Node(2, service_min=3, score=5, allowed_tours=frozenset({1})),
        Node(3, service_min=3, score=5),
        Node(4, service_min=3, score=2, allowed_tours=frozenset({0})),
    )
    tours = (
        Tour(0, 1, 0, 30),  # day 1: A -> B
        Tour(1, 1, 100, 150),  # day 2: around B
    )
    problem = OrienteeringProblem(nodes, tours, line_travel(positions))
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 12
    on_day = [{v.node for v in plan.visits} for plan in solution.tours]
    assert 4 in on_day[0]
    assert 2 in on_day[1]


def test_fixed_transport_block_is_kept() -> None:
    """A bus is a mandatory node on one tour with a single narrow window."""
    # Node 1 is the bus departure (service = ride) whose travel row is measured
    # from the arrival town; node 2 is an activity in that town.
    travel = (
        (0, 5, 50, 45),
        (45, 0, 2, 0),  # from the bus arrival town
        (47, 47, 0, 2),
        (45, 0, 2, 0),
    )
    nodes = (
        Node(0),
        Node(1, service_min=180, windows=((60, 60),), mandatory=True),
        Node(2, service_min=30, score=4),
        Node(3),
    )
    problem = OrienteeringProblem(nodes, (Tour(0, 3, 0, 400),), travel)
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    visits = solution.tours[0].visits
    assert (visits[0].node, visits[0].start) == (1, 60)
    assert [v.node for v in visits] == [1, 2]


def test_unreachable_mandatory_node_is_infeasible() -> None:
    """A mandatory node that cannot be reached in time makes the problem INFEASIBLE."""
    nodes = (Node(0), Node(1, score=1, mandatory=True, windows=((0, 3),)))
    problem = OrienteeringProblem(nodes, (Tour(0, 0, 0, 100),), line_travel([0, 10]))
    solution = checked(problem)
    assert solution.status == SolveStatus.INFEASIBLE
    assert solution.tours == ()
    assert not solution.has_plan


def test_budget_below_mandatory_price_is_infeasible() -> None:
    """Mandatory nodes that together exceed the budget make it INFEASIBLE."""
    nodes = (
        Node(0),
        Node(1, mandatory=True, price_minor=600),
        Node(2, mandatory=True, price_minor=600),
    )
    problem = OrienteeringProblem(
        nodes, (Tour(0, 0, 0, 100),), line_travel([0, 1, 2]), budget_minor=1000
    )
    assert checked(problem).status == SolveStatus.INFEASIBLE


def test_no_solution_in_time() -> None:
    """Without time for any search, a problem with mandatory nodes has no plan."""
    nodes = (Node(0), Node(1, score=1, mandatory=True))
    problem = OrienteeringProblem(nodes, (Tour(0, 0, 0, 100),), line_travel([0, 1]))
    params = SolverParams(time_limit_s=0.001, use_heuristic=False)
    solution = solve(problem, params)
    assert solution.status == SolveStatus.NO_SOLUTION_IN_TIME
    assert solution.tours == ()
    assert solution.wall_time_s < 0.5


def test_empty_plan_is_optimal_when_nothing_fits() -> None:
    """If no node fits, the empty plan is returned as OPTIMAL with score 0."""
    nodes = (Node(0), Node(1, score=5))
    problem = OrienteeringProblem(nodes, (Tour(0, 0, 0, 10),), line_travel([0, 20]))
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 0
    assert solution.tours[0].visits == ()


def test_time_limit_is_respected() -> None:
    """The whole solve of a 48-customer, 2-tour instance stays within its limit."""
    from itineraries.solver.toptw import read_instance, to_problem

    from_file = read_instance(_data("pr01.txt"))
    problem = to_problem(from_file, 2)
    solution = checked(problem, SolverParams(time_limit_s=1.5))
    assert solution.has_plan
    assert solution.wall_time_s <= 1.5


def test_same_seed_same_result() -> None:
    """Two deterministic runs with the same seed return the same plan."""
    from itineraries.solver.toptw import read_instance, to_problem

    problem = to_problem(read_instance(_data("pr01.txt")), 2)
    params = SolverParams(time_limit_s=3.0, random_seed=3, deterministic=True)
    first = checked(problem, params)
    second = checked(problem, params)
    assert first.tours == second.tours
    assert first.score == second.score


def test_invalid_problem_is_rejected() -> None:
    """Malformed input raises ValueError at construction."""
    with pytest.raises(ValueError, match="matrix"):
        OrienteeringProblem((Node(0), Node(1)), (Tour(0, 0, 0, 1),), ((0,),))
    with pytest.raises(ValueError, match="sorted"):
        Node(1, windows=((5, 9), (1, 2)))
    with pytest.raises(ValueError, match="terminal"):
        OrienteeringProblem((Node(0, mandatory=True),), (Tour(0, 0, 0, 1),), ((0,),))


def _data(name: str) -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "data" / "toptw" / name)


def test_heuristic_plan_is_a_model_solution() -> None:
    """The heuristic's plan, fixed as a hint, is a solution of the CP-SAT model."""
    import time

    from ortools.sat.python import cp_model

    from itineraries.solver.extract import plans_from_sequences
    from itineraries.solver.heuristic import run_ils
    from itineraries.solver.model import add_hint, build_model
    from itineraries.solver.reach import all_reach
    from itineraries.solver.toptw import read_instance, to_problem

    problem = to_problem(read_instance(_data("pr01.txt")), 3)
    reach = all_reach(problem)
    sequences = run_ils(problem, reach, 0, time.perf_counter() + 0.3)
    assert sequences is not None
    plans = plans_from_sequences(problem, sequences)
    assert plans is not None
    built = build_model(problem, reach)
    add_hint(problem, built, plans)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 5.0
    assert solver.solve(built.model) == cp_model.OPTIMAL
    assert round(solver.objective_value) == sum(
        problem.nodes[v.node].score for plan in plans for v in plan.visits
    )


def test_two_workers_interleaved_is_reproducible() -> None:
    """num_workers=2 (interleaved CP-SAT search) gives the same optimum twice."""
    nodes = (
        Node(0),
        Node(1, service_min=1, score=4),
        Node(2, service_min=1, score=5),
        Node(3, service_min=1, score=7),
    )
    problem = OrienteeringProblem(
        nodes, (Tour(0, 0, 0, 12), Tour(0, 0, 0, 20)), line_travel([0, 2, 5, 9])
    )
    params = SolverParams(time_limit_s=3.0, num_workers=2, random_seed=5)
    first, second = checked(problem, params), checked(problem, params)
    assert first.status == SolveStatus.OPTIMAL
    assert first.score == 16
    assert first.tours == second.tours


def test_mandatory_prices_over_the_budget_are_infeasible_at_once() -> None:
    """Many mandatory nodes whose prices alone exceed the budget: INFEASIBLE at
    once, whatever the phases (the heuristic alone used to return a plan over the
    budget, which the final check called a solver bug)."""
    nodes = (
        Node(0),
        *(Node(i, mandatory=True, price_minor=300, score=1) for i in range(1, 6)),
    )
    problem = OrienteeringProblem(
        nodes,
        (Tour(0, 0, 0, 1000),),
        line_travel(list(range(6))),
        budget_minor=1000,
    )
    for params in (
        SolverParams(time_limit_s=0.5, use_cp_sat=False),
        SolverParams(time_limit_s=0.5),
    ):
        solution = solve(problem, params)
        assert solution.status == SolveStatus.INFEASIBLE
        assert not solution.has_plan


def test_local_search_goes_on_from_a_given_plan() -> None:
    """Started from a feasible plan that leaves a day empty (as CP-SAT's first plan
    may, when the greedy start cannot place the mandatory nodes), the local search
    keeps the mandatory visit and fills the empty day with the free node."""
    from itineraries.solver.heuristic import run_ils
    from itineraries.solver.reach import all_reach

    nodes = (
        Node(0),
        Node(1, service_min=2, score=0, mandatory=True, allowed_tours=frozenset({0})),
        Node(2, service_min=2, score=5),
    )
    problem = OrienteeringProblem(
        nodes,
        (Tour(0, 0, 0, 10), Tour(0, 0, 20, 30)),
        line_travel([0, 1, 2]),
    )
    start = [[1], []]
    found = run_ils(problem, all_reach(problem), 0, float("inf"), 50, initial=start)
    assert found is not None
    assert 1 in found[0]
    assert 2 in {node for seq in found for node in seq}
    # A start that breaks the time span is refused, not repaired silently.
    late = OrienteeringProblem(nodes, (Tour(0, 0, 0, 3), Tour(0, 0, 20, 30)),
                               line_travel([0, 1, 2]))  # fmt: skip
    assert (
        run_ils(late, all_reach(late), 0, float("inf"), 50, initial=[[1, 2], []])
        is None
    )


def test_shared_ticket_is_paid_once() -> None:
    """Three sights under one ticket (Isla del Sol's south) and one of their own:
    the ticket is paid once, so the budget takes all three and the fourth; without
    the ticket the budget takes two priced sights only. Each engine (greedy and
    local search alone, CP-SAT included) counts it the same way."""
    priced = (
        Node(1, score=5, price_minor=400, ticket="south"),
        Node(2, score=4, price_minor=400, ticket="south"),
        Node(3, score=3, price_minor=400, ticket="south"),
        Node(4, score=6, price_minor=500),
    )
    problem = OrienteeringProblem(
        (Node(0), *priced),
        (Tour(0, 0, 0, 100),),
        line_travel([0, 1, 2, 3, 4]),
        budget_minor=900,
    )
    assert problem.spend([1, 2, 3]) == 400
    assert problem.spend([1, 2, 4]) == 900
    for params in (
        SolverParams(time_limit_s=0.5, use_cp_sat=False, random_seed=0),
        PARAMS,
    ):
        solution = checked(problem, params)
        assert visited(solution) == {1, 2, 3, 4}
        assert solution.score == 18
    separate = OrienteeringProblem(
        (
            Node(0),
            *(Node(n.id, score=n.score, price_minor=n.price_minor) for n in priced),
        ),
        problem.tours,
        problem.travel,
        budget_minor=900,
    )
    solution = checked(separate)
    assert solution.score == 11  # node 4 and node 1: 900 of 900
    assert visited(solution) == {1, 4}


def test_shared_ticket_over_the_budget_is_checked_once() -> None:
    """The validator charges a shared ticket once and still refuses a plan whose
    ticket and other prices exceed the budget; a ticket with two prices is refused."""
    nodes = (
        Node(0),
        Node(1, score=1, price_minor=600, ticket="t", mandatory=True),
        Node(2, score=1, price_minor=600, ticket="t", mandatory=True),
        Node(3, score=1, price_minor=500, mandatory=True),
    )
    problem = OrienteeringProblem(
        nodes, (Tour(0, 0, 0, 100),), line_travel([0, 1, 2, 3]), budget_minor=1000
    )
    solution = solve(problem, PARAMS)
    assert solution.status == SolveStatus.INFEASIBLE
    cheaper = OrienteeringProblem(
        nodes, problem.tours, problem.travel, budget_minor=1100
    )
    assert visited(checked(cheaper)) == {1, 2, 3}
    with pytest.raises(ValueError, match="two prices"):
        OrienteeringProblem(
            (
                Node(0),
                Node(1, price_minor=1, ticket="t"),
                Node(2, price_minor=2, ticket="t"),
            ),
            (Tour(0, 0, 0, 1),),
            line_travel([0, 1, 2]),
        )
