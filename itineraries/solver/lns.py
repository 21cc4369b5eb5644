"""Large neighbourhood search with CP-SAT on route segments.

One move: pick a tour and a random segment of consecutive visits between two kept
nodes ``u`` and ``w``. The segment is re-optimised exactly by CP-SAT as a small
orienteering problem built with the SAME model code (:func:`build_model`): one
tour from ``u`` (leaving when ``u``'s service ends) to ``w`` (arriving no later
than ``w``'s start plus its max shift, so the rest of the route stays feasible),
over the removed nodes plus nearby unvisited nodes; the budget left over is
the problem's budget minus what the rest of the plan spends; likewise, when the
tour has ``max_active_min``, the sub-problem's tour carries the cap minus the
active time of the visits kept outside the segment on that tour (``u`` and ``w``
are the sub-problem's terminals and never count there). The objective is the
segment's score, ties broken by the earliest arrival at ``w``; a segment that
scores more, or the same but leaves more slack, replaces the old one, then the
greedy insertion of the heuristic fills any slack created.
"""

from __future__ import annotations

import random
import time

from ortools.sat.python import cp_model

from itineraries.solver.datatypes import Node, OrienteeringProblem, SolverBugError, Tour
from itineraries.solver.extract import schedule, sequences_from_values
from itineraries.solver.heuristic import RouteSearch
from itineraries.solver.model import add_hint, build_model
from itineraries.solver.reach import TourReach

_MAX_SEGMENT = 8
_MAX_CANDIDATES = 28
_SUB_TIME_S = 0.25
_SUB_DETERMINISTIC_TIME = 0.05


def _candidates(
    search: RouteSearch,
    k: int,
    u: int,
    w: int,
    depart: int,
    limit: int,
    unvisited: list[int],
    cap_left: int | None = None,
) -> list[int]:
    """Unvisited nodes of tour ``k`` that fit between ``u`` and ``w`` alone
    (and within ``cap_left``, the active time the segment may use, when set)."""
    travel = search.travel
    latest = search.latest[k]
    active_cost = search.active_cost
    scored: list[tuple[float, int]] = []
    for j in unvisited:
        if j not in latest:
            continue
        if cap_left is not None and active_cost[j] > cap_left:
            continue
        arrival = depart + travel[u][j]
        if arrival > latest[j]:
            continue
        s = search.first_start(j, arrival)
        if s < 0:
            continue
        detour = s + search.service[j] + travel[j][w] - depart
        if depart + detour > limit:
            continue
        scored.append((-search.score[j] / (1 + detour), j))
    scored.sort()
    return [j for _, j in scored[:_MAX_CANDIDATES]]


def improve_with_lns(
    problem: OrienteeringProblem,
    reach: list[TourReach],
    sequences: list[list[int]],
    seed: int,
    deadline: float,
    max_moves: int | None = None,
    deterministic: bool = False,
) -> list[list[int]]:
    """Improve a feasible plan (node sequences per tour) until the deadline.

    With ``deterministic`` each sub-solve is bounded by CP-SAT's deterministic
    time instead of wall time (the deadline still caps it as a safety net).
    """
    rng = random.Random(seed + 7919)
    search = RouteSearch(problem, reach, rng)
    routes = []
    for k, seq in enumerate(sequences):
        route = search.make_route(k, seq)
        if route is None:
            raise ValueError("improve_with_lns needs a feasible plan")
        routes.append(route)
    visited = {j for r in routes for j in r.seq}
    travel = problem.travel
    moves = 0
    while True:
        now = time.perf_counter()
        if now >= deadline - 0.02 or (max_moves is not None and moves >= max_moves):
            break
        moves += 1
        k = rng.randrange(len(routes))
        route = routes[k]
        n_visits = len(route.seq)
        length = rng.randint(1, min(_MAX_SEGMENT, n_visits)) if n_visits else 0
        a = rng.randint(0, n_visits - length)
        b = a + length + 1
        u, w = route.nodes[a], route.nodes[b]
        removed = route.seq[a : a + length]
        depart = route.leave[a]
        limit = route.start[b] + route.max_shift[b]
        old_arrival = route.start[b] - route.wait[b]
        unvisited = [j for j in search.all_candidates if j not in visited]
        # Active time the segment may use: the cap minus the kept visits' share.
        cap_left = search.cap_left(route)
        if cap_left is not None:
            cap_left += sum(search.active_cost[j] for j in removed)
        extra = _candidates(search, k, u, w, depart, limit, unvisited, cap_left)
        if not extra and length <= 1:
            continue
        free = [*removed, *extra]
        orig = [u, w, *free]
        kept = visited.difference(removed)
        # Shared tickets the rest of the plan pays are free inside the segment.
        paid = {t for j in kept if (t := problem.nodes[j].ticket)}
        nodes = [Node(0), Node(1)]
        for index, j in enumerate(free, start=2):
            node = problem.nodes[j]
            nodes.append(
                Node(
                    index,
                    node.service_min,
                    node.score,
                    node.windows,
                    0 if node.ticket in paid else node.price_minor,
                    node.mandatory,
                    active=node.active,
                    ticket="" if node.ticket in paid else node.ticket,
                )
            )
        budget = None
        if problem.budget_minor is not None:
            budget = problem.budget_minor - problem.spend(kept)
        sub = OrienteeringProblem(
            nodes=tuple(nodes),
            tours=(Tour(0, 1, depart, limit, max_active_min=cap_left),),
            travel=tuple(tuple(travel[i][j] for j in orig) for i in orig),
            budget_minor=budget,
        )
        built = build_model(sub, prefer_early_end=True)
        current = schedule(sub, 0, list(range(2, 2 + length)))
        if current is not None:
            add_hint(sub, built, (current,))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(
            0.01, min(_SUB_TIME_S, deadline - time.perf_counter())
        )
        if deterministic:
            solver.parameters.max_time_in_seconds = max(
                0.01, deadline - time.perf_counter()
            )
            solver.parameters.max_deterministic_time = _SUB_DETERMINISTIC_TIME
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        status = solver.solve(built.model)
        if status == cp_model.MODEL_INVALID:
            raise SolverBugError("LNS sub-model invalid: " + built.model.validate())
        if status == cp_model.INFEASIBLE:
            raise SolverBugError("LNS sub-model infeasible although the segment fits")
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        new_local = sequences_from_values(built, solver)[0]
        new_plan = schedule(sub, 0, new_local)
        if new_plan is None:
            continue
        new_segment = [orig[i] for i in new_local]
        old_score = sum(search.score[j] for j in removed)
        new_score = sum(search.score[j] for j in new_segment)
        if new_score < old_score or (
            new_score == old_score and new_plan.arrival >= old_arrival
        ):
            continue
        new_route = search.make_route(
            k, route.seq[:a] + new_segment + route.seq[a + length :]
        )
        if new_route is None:
            continue
        routes[k] = new_route
        visited.difference_update(removed)
        visited.update(new_segment)
        search.fill(routes, visited)
    return [list(r.seq) for r in routes]
