"""Per-tour cap on active time (``Tour.max_active_min``, the traveller's pace)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import permutations
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from itineraries.solver import lns as lns_module
from itineraries.solver.extract import plans_from_sequences
from itineraries.solver.heuristic import RouteSearch, run_ils
from itineraries.solver.lns import improve_with_lns
from itineraries.solver.model import build_model
from itineraries.solver.reach import all_reach
from itineraries.solver.toptw import read_instance, to_problem

PARAMS = SolverParams(time_limit_s=3.0, num_workers=1, random_seed=0)
DATA = Path(__file__).resolve().parents[2] / "data" / "toptw"


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


def active_time(problem: OrienteeringProblem, plan: TourPlan) -> int:
    """Service time of the active nodes visited by ``plan``."""
    nodes = problem.nodes
    return sum(nodes[v.node].service_min for v in plan.visits if nodes[v.node].active)


def pace_problem(
    cap: int | None,
    *extra: Node,
    inactive: Sequence[int] = (),
    mandatory: Sequence[int] = (),
) -> OrienteeringProblem:
    """Depot 0 and four activities close by; plenty of time, so only the cap binds.

    Services 60, 60, 30, 30 and scores 10, 8, 5, 4: with a cap of 90 the best set
    is {1, 3} (score 15); without a cap everything is visited (score 27). ``extra``
    nodes are appended (their ids are set), ``inactive`` and ``mandatory`` list
    the nodes to flag.
    """
    nodes = [
        Node(0),
        Node(1, service_min=60, score=10),
        Node(2, service_min=60, score=8),
        Node(3, service_min=30, score=5),
        Node(4, service_min=30, score=4),
    ]
    for node in extra:
        nodes.append(replace(node, id=len(nodes)))
    for i in inactive:
        nodes[i] = replace(nodes[i], active=False)
    for i in mandatory:
        nodes[i] = replace(nodes[i], mandatory=True)
    positions = list(range(len(nodes)))
    return OrienteeringProblem(
        tuple(nodes),
        (Tour(0, 0, 0, 1000, max_active_min=cap),),
        line_travel(positions),
    )


# --- datatypes ----------------------------------------------------------------


def test_defaults_and_positional_order() -> None:
    """``active`` is Node's last field (default True), the cap Tour's (None)."""
    node = Node(1, 10, 5, (), 0, False, None, "museum", False)
    assert node.active is False
    assert Node(1).active is True
    tour = Tour(0, 0, 0, 100, 50)
    assert tour.max_active_min == 50
    assert Tour(0, 0, 0, 100).max_active_min is None
    assert Tour(0, 0, 0, 100, 0).max_active_min == 0
    with pytest.raises(ValueError, match="max_active_min"):
        Tour(0, 0, 0, 100, max_active_min=-1)


# --- known optima ----------------------------------------------------------------


def test_cap_changes_the_optimum() -> None:
    """Without a cap all four nodes fit (27); a 90-minute cap keeps {1, 3} (15)."""
    free = checked(pace_problem(None))
    assert free.status == SolveStatus.OPTIMAL
    assert free.score == 27
    capped = checked(pace_problem(90))
    assert capped.status == SolveStatus.OPTIMAL
    assert capped.score == 15
    assert capped.bound == 15
    assert visited(capped) == {1, 3}


def test_zero_cap_allows_only_inactive_or_zero_service_nodes() -> None:
    """A cap of 0 still allows inactive nodes and active nodes without service."""
    problem = pace_problem(
        0,
        Node(0, service_min=0, score=2),
        inactive=[2],
    )
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert visited(solution) == {2, 5}
    assert solution.score == 10


def test_inactive_nodes_do_not_count() -> None:
    """Node 2 inactive: {1, 2, 3} uses 90 active minutes and scores 23."""
    problem = pace_problem(90, inactive=[2])
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 23
    assert visited(solution) == {1, 2, 3}
    assert active_time(problem, solution.tours[0]) == 90


def test_inactive_nodes_still_take_time() -> None:
    """An inactive node is free for the cap, not for the clock."""
    nodes = (
        Node(0),
        Node(1, service_min=50, score=10, active=False),
        Node(2, service_min=50, score=9, active=False),
    )
    problem = OrienteeringProblem(
        nodes, (Tour(0, 0, 0, 70, max_active_min=0),), line_travel([0, 1, 2])
    )
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 10


def test_terminals_never_count() -> None:
    """A terminal's service is ignored, active or not."""
    problem = pace_problem(90)
    nodes = (replace(problem.nodes[0], service_min=500), *problem.nodes[1:])
    problem = replace_nodes(problem, nodes)
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 15


def replace_nodes(
    problem: OrienteeringProblem, nodes: Sequence[Node]
) -> OrienteeringProblem:
    """The same problem with other nodes."""
    return OrienteeringProblem(
        tuple(nodes), problem.tours, problem.travel, problem.budget_minor
    )


def test_mandatory_nodes_count() -> None:
    """Mandatory node 4 (30 active minutes) leaves 60: {1, 4} scores 14."""
    problem = pace_problem(90, mandatory=[4])
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 14
    assert visited(solution) == {1, 4}


def test_inactive_mandatory_ride_does_not_count() -> None:
    """A fixed, inactive transport ride (2 hours) leaves the cap untouched."""
    ride = Node(0, service_min=120, windows=((200, 200),), mandatory=True, active=False)
    problem = pace_problem(90, ride)
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 15
    assert visited(solution) == {1, 3, 5}


def test_mandatory_over_the_cap_gives_no_plan() -> None:
    """Mandatory active time 60 > cap 50: no plan, whichever phase answers."""
    problem = pace_problem(50, mandatory=[3, 4])
    for params in (PARAMS, replace(PARAMS, use_cp_sat=False)):
        solution = solve(problem, params)
        assert solution.status in (
            SolveStatus.INFEASIBLE,
            SolveStatus.NO_SOLUTION_IN_TIME,
        )
        assert not solution.has_plan
        assert solution.tours == ()
    assert solve(problem, PARAMS).status == SolveStatus.INFEASIBLE


def test_single_mandatory_node_over_the_cap_is_infeasible() -> None:
    """A mandatory node whose own service exceeds the cap cannot be placed."""
    problem = pace_problem(59, mandatory=[1])
    solution = solve(problem, PARAMS)
    assert solution.status == SolveStatus.INFEASIBLE
    assert solution.tours == ()


def test_mandatory_nodes_split_over_capped_days() -> None:
    """Two capped days: the mandatory nodes only fit one per day."""
    nodes = (
        Node(0),
        Node(1, service_min=30, score=1, mandatory=True),
        Node(2, service_min=30, score=1, mandatory=True),
        Node(3, service_min=10, score=5),
    )
    tours = (
        Tour(0, 0, 0, 1000, max_active_min=40),
        Tour(0, 0, 0, 1000, max_active_min=40),
    )
    problem = OrienteeringProblem(nodes, tours, line_travel([0, 1, 2, 3]))
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 7
    for plan in solution.tours:
        assert active_time(problem, plan) <= 40
    assert sorted(len(plan.visits) for plan in solution.tours) == [1, 2]
    # Both mandatory nodes restricted to the first day: infeasible.
    only_first = tuple(
        replace(node, allowed_tours=frozenset({0})) if node.mandatory else node
        for node in nodes
    )
    solution = solve(replace_nodes(problem, only_first), PARAMS)
    assert solution.status == SolveStatus.INFEASIBLE


def test_caps_are_per_tour() -> None:
    """Day 0 is capped at 30 minutes, day 1 is not."""
    problem = pace_problem(None)
    tours = (
        Tour(0, 0, 0, 1000, max_active_min=30),
        Tour(0, 0, 0, 1000),
    )
    problem = OrienteeringProblem(problem.nodes, tours, problem.travel)
    solution = checked(problem)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 27
    assert active_time(problem, solution.tours[0]) <= 30


def test_heuristic_alone_respects_the_cap() -> None:
    """The ILS alone (fast and exact insertion) finds the capped optimum."""
    multi = Node(0, service_min=30, score=6, windows=((0, 100), (200, 900)))
    problem = pace_problem(90, multi)
    solution = checked(problem, replace(PARAMS, use_cp_sat=False))
    assert solution.has_plan
    assert active_time(problem, solution.tours[0]) <= 90
    assert solution.score == 16  # 10 + 6, exactly 90 active minutes
    assert visited(solution) == {1, 5}


def route_search(problem: OrienteeringProblem, seed: int = 0) -> RouteSearch:
    """The heuristic's search object for ``problem``."""
    return RouteSearch(problem, all_reach(problem), random.Random(seed))


@pytest.mark.parametrize("path", ["fast", "exact", "multi-window"])
def test_insertion_skips_nodes_over_the_remaining_cap(path: str) -> None:
    """Route [1] uses 60 of 90 active minutes: node 2 (60, the best ratio without
    the cap) is not insertable, node 3 (30) is; with [1, 3] nothing active fits."""
    extra: tuple[Node, ...] = ()
    if path == "multi-window":
        # Node 5 competes with node 2 on the exact path (two windows).
        extra = (Node(0, service_min=60, score=9, windows=((0, 5), (10, 900))),)
    problem = pace_problem(90, *extra)
    search = route_search(problem)
    search.exponent = 2.0
    route = search.make_route(0, [1])
    assert route is not None
    assert route.active == 60
    assert search.cap_left(route) == 30
    unvisited = [2, 3, 4, *(5 for _ in extra)]
    if path == "exact":
        found = search.best_insertion([route], unvisited, None, False)
    else:
        found = search.best_insertion_fast([route], unvisited, None, None)
    assert found is not None
    assert found[1] == 3
    # Without the cap node 2 (or node 5) would win: the cap made the difference.
    free = route_search(pace_problem(None, *extra))
    free.exponent = 2.0
    free_route = free.make_route(0, [1])
    assert free_route is not None
    if path == "exact":
        found = free.best_insertion([free_route], unvisited, None, False)
    else:
        found = free.best_insertion_fast([free_route], unvisited, None, None)
    assert found is not None
    assert found[1] in (2, 5)
    # A full route: no active node is insertable on either path.
    full = search.make_route(0, [1, 3])
    assert full is not None
    assert search.cap_left(full) == 0
    assert search.best_insertion([full], unvisited, None, False) is None
    assert search.best_insertion_fast([full], unvisited, None, None) is None
    assert search.best_insertion([full], unvisited, None, True) is None
    # A sequence over the cap is not a route at all.
    assert search.make_route(0, [1, 2]) is None


def test_mandatory_insertion_respects_the_cap() -> None:
    """Mandatory-first insertion (exact path) puts each node where it fits."""
    nodes = (
        Node(0),
        Node(1, service_min=30, mandatory=True),
        Node(2, service_min=30, mandatory=True),
        Node(3, service_min=30, mandatory=True),
    )
    tours = tuple(Tour(0, 0, 0, 1000, max_active_min=cap) for cap in (30, 60))
    problem = OrienteeringProblem(nodes, tours, line_travel([0, 1, 2, 3]))
    search = route_search(problem)
    routes = [search.make_route(k, []) for k in range(2)]
    live = [r for r in routes if r is not None]
    assert len(live) == 2
    visited_nodes: set[int] = set()
    search.fill(live, visited_nodes, mandatory_only=True)
    assert visited_nodes == {1, 2, 3}
    assert [r.active for r in live] == [30, 60]


def test_route_active_sums_stay_up_to_date() -> None:
    """Insert, shake and random removal keep every route's active sum exact."""
    problem = capped_toptw(2, 0.06)
    search = route_search(problem, seed=3)
    routes = [search.make_route(k, []) for k in range(2)]
    assert all(r is not None for r in routes)
    live = [r for r in routes if r is not None]
    visited_nodes: set[int] = set()

    def check() -> None:
        for route in live:
            expected = sum(search.active_cost[j] for j in route.seq)
            assert route.active == expected
            cap = problem.tours[route.k].max_active_min
            assert cap is not None
            assert route.active <= cap
        assert visited_nodes == {j for r in live for j in r.seq}

    search.fill(live, visited_nodes)
    check()
    assert any(r.active > 0 for r in live)
    for step in range(30):
        if step % 2:
            search.shake(live, visited_nodes, step, 1 + step % 3)
        else:
            search.random_removal(live, visited_nodes)
        check()
        search.fill(live, visited_nodes, noise_level=0.3)
        check()


# --- validator -----------------------------------------------------------------


def test_validator_flags_a_plan_over_the_cap() -> None:
    """Visiting 1 and 2 uses 120 active minutes against a cap of 90."""
    problem = pace_problem(90)
    plan = TourPlan(0, 0, (Visit(1, 1), Visit(2, 62)), 124)
    errors = validate(problem, (plan,))
    assert errors == ["tour 0: active time 120 exceeds max_active_min 90"]
    # The same plan is valid when node 2 is inactive, or without a cap.
    assert validate(pace_problem(90, inactive=[2]), (plan,)) == []
    assert validate(pace_problem(None), (plan,)) == []
    # Exactly at the cap is fine.
    assert validate(pace_problem(120), (plan,)) == []


def test_validator_flags_a_claimed_solution() -> None:
    """A Solution object over the cap is flagged as well."""
    problem = pace_problem(60)
    plan = TourPlan(0, 0, (Visit(1, 1), Visit(3, 63)), 96)
    solution = Solution(SolveStatus.FEASIBLE, (plan,), 15, 15, None, 0.0)
    assert validate(problem, solution) == [
        "tour 0: active time 90 exceeds max_active_min 60"
    ]


# --- CP-SAT model and LNS -------------------------------------------------------


def test_model_alone_respects_the_cap() -> None:
    """CP-SAT alone (no heuristic) finds the capped optimum."""
    solution = checked(pace_problem(90), replace(PARAMS, use_heuristic=False))
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.score == 15


def test_reach_drops_nodes_longer_than_the_cap() -> None:
    """An active node longer than the cap is no candidate; an inactive one is."""
    problem = pace_problem(45, inactive=[2])
    (reach,) = all_reach(problem)
    assert reach.candidates == (2, 3, 4)
    built = build_model(problem)
    assert set(built.tours[0].visit) == {2, 3, 4}


def capped_toptw(tours: int, share: float) -> OrienteeringProblem:
    """c101 with every third customer inactive and a cap on each tour."""
    problem = to_problem(read_instance(DATA / "c101.txt"), tours)
    nodes = tuple(
        replace(node, active=node.id % 3 != 0) if node.id else node
        for node in problem.nodes
    )
    total = sum(node.service_min for node in nodes)
    cap = int(total * share / tours)
    capped = tuple(replace(tour, max_active_min=cap) for tour in problem.tours)
    return OrienteeringProblem(nodes, capped, problem.travel)


def test_lns_sub_problems_carry_the_remaining_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each LNS sub-problem's tour gets the cap minus the kept visits' share."""
    problem = capped_toptw(2, 0.12)
    caps = [tour.max_active_min for tour in problem.tours]
    reach = all_reach(problem)
    sequences = run_ils(problem, reach, 0, time.perf_counter() + 30, 200)
    assert sequences is not None
    subs: list[OrienteeringProblem] = []
    original = lns_module.build_model

    def recording(sub: OrienteeringProblem, *args: object, **kwargs: object) -> object:
        subs.append(sub)
        return original(sub, *args, **kwargs)

    monkeypatch.setattr(lns_module, "build_model", recording)
    before = plans_from_sequences(problem, sequences)
    assert before is not None
    improved = improve_with_lns(
        problem,
        reach,
        sequences,
        seed=0,
        deadline=time.perf_counter() + 30,
        max_moves=40,
        deterministic=True,
    )
    assert subs
    for sub in subs:
        (tour,) = sub.tours
        assert tour.max_active_min is not None
        assert 0 <= tour.max_active_min <= max(c for c in caps if c is not None)
    # At least one sub-problem's cap is reduced by the kept visits.
    assert any(sub.tours[0].max_active_min < min(caps) for sub in subs)
    plans = plans_from_sequences(problem, improved)
    assert plans is not None
    assert validate(problem, plans) == []
    assert sum(problem.nodes[i].score for s in improved for i in s) >= sum(
        problem.nodes[i].score for s in sequences for i in s
    )


@pytest.mark.parametrize("tours", [1, 2, 3])
def test_capped_toptw_plans_are_valid(tours: int) -> None:
    """A benchmark instance with tight caps: the full pipeline (LNS included)."""
    problem = capped_toptw(tours, 0.03)
    solution = checked(problem, SolverParams(time_limit_s=2.0, random_seed=0))
    assert solution.has_plan
    for plan, tour in zip(solution.tours, problem.tours, strict=True):
        assert tour.max_active_min is not None
        assert active_time(problem, plan) <= tour.max_active_min
    # The cap binds: without it the same instance scores more.
    free = OrienteeringProblem(
        problem.nodes,
        tuple(replace(t, max_active_min=None) for t in problem.tours),
        problem.travel,
    )
    assert checked(free, SolverParams(time_limit_s=1.0, random_seed=0)).score > (
        solution.score
    )


# --- property tests ------------------------------------------------------------


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
    """Best valid score by enumeration (the validator checks the caps), or None."""
    best = None
    for plans in all_plans(problem, 0, frozenset(problem.customers)):
        if not validate(problem, plans):
            score = sum(problem.nodes[v.node].score for p in plans for v in p.visits)
            best = score if best is None else max(best, score)
    return best


@st.composite
def capped_problems(draw: st.DrawFn) -> OrienteeringProblem:
    """Small problems with all features, active flags and per-tour caps."""
    n_customers = draw(st.integers(1, 4))
    n = 2 + n_customers
    n_tours = draw(st.integers(1, 2))
    travel = tuple(
        tuple(0 if i == j else draw(st.integers(0, 25)) for j in range(n))
        for i in range(n)
    )
    # Terminals may carry a service time: it must never count.
    nodes = [
        Node(0, service_min=draw(st.integers(0, 30))),
        Node(1, service_min=draw(st.integers(0, 30))),
    ]
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
                service_min=draw(st.integers(0, 15)),
                score=draw(st.integers(0, 10)),
                windows=windows,
                price_minor=draw(st.integers(0, 5)),
                mandatory=draw(st.integers(0, 4)) == 0,
                allowed_tours=allowed,
                active=draw(st.integers(0, 3)) > 0,
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
                max_active_min=draw(st.one_of(st.none(), st.integers(0, 30))),
            )
        )
    budget = draw(st.one_of(st.none(), st.integers(0, 12)))
    return OrienteeringProblem(tuple(nodes), tuple(tours), travel, budget)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(capped_problems())
def test_random_capped_problems_match_brute_force(
    problem: OrienteeringProblem,
) -> None:
    """Plans are valid under caps; status and score match exhaustive search."""
    solution = solve(problem, SolverParams(time_limit_s=2.0, random_seed=0))
    expected = brute_force(problem)
    if expected is None:
        assert solution.status == SolveStatus.INFEASIBLE
        return
    assert solution.status == SolveStatus.OPTIMAL
    assert validate(problem, solution) == []
    assert solution.score == expected


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(capped_problems())
def test_random_capped_problems_heuristic_alone(problem: OrienteeringProblem) -> None:
    """The ILS alone never returns a plan over a cap."""
    solution = solve(
        problem, SolverParams(time_limit_s=0.5, random_seed=0, use_cp_sat=False)
    )
    if solution.has_plan:
        assert validate(problem, solution) == []
    elif solution.status == SolveStatus.INFEASIBLE:
        # Proven without a search: the mandatory nodes alone break the budget.
        must = sum(n.price_minor for n in problem.nodes if n.mandatory)
        assert problem.budget_minor is not None and must > problem.budget_minor
    else:
        assert solution.status == SolveStatus.NO_SOLUTION_IN_TIME


def random_problem(seed: int) -> OrienteeringProblem:
    """A medium random itinerary (40 activities, 3 days, caps, inactive rides)."""
    rng = random.Random(seed)
    n = 2 + 40
    points = [(rng.randint(0, 60), rng.randint(0, 60)) for _ in range(n)]
    travel = tuple(
        tuple(abs(ax - bx) + abs(ay - by) for bx, by in points) for ax, ay in points
    )
    nodes = [Node(0), Node(1)]
    for i in range(2, n):
        windows: tuple[tuple[int, int], ...] = ()
        shape = rng.random()
        if shape < 0.4:
            open_ = rng.randint(0, 400)
            windows = ((open_, open_ + rng.randint(30, 200)),)
        elif shape < 0.6:
            open_ = rng.randint(0, 150)
            windows = ((open_, open_ + 60), (open_ + 200, open_ + 300))
        nodes.append(
            Node(
                i,
                service_min=rng.randint(10, 90),
                score=rng.randint(1, 20),
                windows=windows,
                price_minor=rng.randint(0, 50),
                mandatory=rng.random() < 0.05,
                active=rng.random() < 0.8,
                allowed_tours=frozenset({rng.randrange(3)})
                if rng.random() < 0.1
                else None,
            )
        )
    tours = tuple(
        Tour(
            k % 2,
            (k + 1) % 2,
            0,
            600,
            max_active_min=rng.choice([None, 60, 120, 240]),
        )
        for k in range(3)
    )
    return OrienteeringProblem(tuple(nodes), tours, travel, rng.choice([None, 400]))


@pytest.mark.parametrize("seed", range(6))
def test_random_medium_problems_are_valid(seed: int) -> None:
    """Medium random problems with caps: every returned plan passes validation."""
    problem = random_problem(seed)
    solution = solve(problem, SolverParams(time_limit_s=2.0, random_seed=seed))
    if solution.has_plan:
        assert validate(problem, solution) == []
        for plan, tour in zip(solution.tours, problem.tours, strict=True):
            if tour.max_active_min is not None:
                assert active_time(problem, plan) <= tour.max_active_min
    else:
        assert solution.status in (
            SolveStatus.INFEASIBLE,
            SolveStatus.NO_SOLUTION_IN_TIME,
        )
