"""CP-SAT model of the orienteering problem.

One ``add_circuit`` per tour over circuit positions ``START``, ``END`` and the
tour's candidate nodes. A self-loop on a candidate means "not visited on this
tour"; the arc ``END -> START`` is forced, so the circuit is the path
``START -> ... -> END`` (``START -> END`` directly is the empty tour). Each visitable
node has ONE time variable (its service start) shared by all tours, because it is
visited at most once; its domain is the union of its windows. A chosen arc
``i -> j`` enforces ``t_j >= t_i + service_i + travel_ij``. Arcs that can never be
used (see :mod:`itineraries.solver.reach`) are not created at all. A tour with
``max_active_min`` gets one linear constraint on its visit literals: the service
times of its active visited nodes sum to at most the cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from itineraries.solver.datatypes import OrienteeringProblem, TourPlan
from itineraries.solver.reach import TourReach, all_reach, arc_possible


@dataclass(slots=True)
class TourModel:
    """Variables of one tour."""

    START = 0
    END = 1
    node_of: list[int]  # circuit position -> node id (terminals for 0 and 1)
    position_of: dict[int, int]  # candidate node id -> circuit position
    arcs: dict[tuple[int, int], cp_model.IntVar]  # circuit positions -> literal
    visit: dict[int, cp_model.IntVar]  # node id -> "visited on this tour"
    score: cp_model.LinearExpr | int = 0


@dataclass(slots=True)
class BuiltModel:
    """The CP-SAT model and the handles needed to hint and to extract."""

    model: cp_model.CpModel
    tours: list[TourModel]
    time: dict[int, cp_model.IntVar]
    reach: list[TourReach]
    time_low: dict[int, int]
    objective_terms: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)
    arrivals: list[cp_model.IntVar] = field(default_factory=list)


def _time_domain(
    problem: OrienteeringProblem, node_id: int, low: int, high: int
) -> cp_model.Domain:
    windows = problem.nodes[node_id].windows or ((low, high),)
    intervals = [
        [max(a, low), min(b, high)] for a, b in windows if max(a, low) <= min(b, high)
    ]
    return cp_model.Domain.from_intervals(intervals)


def _identical_tours(problem: OrienteeringProblem, k1: int, k2: int) -> bool:
    t1, t2 = problem.tours[k1], problem.tours[k2]
    if t1 != t2:
        return False
    return all(
        node.allowed_tours is None
        or ((k1 in node.allowed_tours) == (k2 in node.allowed_tours))
        for node in problem.nodes
    )


def build_model(
    problem: OrienteeringProblem,
    reach: list[TourReach] | None = None,
    prefer_early_end: bool = False,
) -> BuiltModel:
    """Build the exact CP-SAT model (every feasible plan is a model solution).

    With ``prefer_early_end`` ties in score are broken by the earliest arrival at
    the tours' end nodes (used by the LNS to compact route segments).
    """
    model = cp_model.CpModel()
    nodes = problem.nodes
    travel = problem.travel
    if reach is None:
        reach = all_reach(problem)

    # One service-start variable per node usable on at least one tour.
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for r in reach:
        for i in r.candidates:
            low[i] = min(low.get(i, r.earliest[i]), r.earliest[i])
            high[i] = max(high.get(i, r.latest[i]), r.latest[i])
    time: dict[int, cp_model.IntVar] = {
        i: model.new_int_var_from_domain(
            _time_domain(problem, i, low[i], high[i]), f"t{i}"
        )
        for i in sorted(low)
    }

    tours: list[TourModel] = []
    arrivals: list[cp_model.IntVar] = []
    visits_of: dict[int, list[cp_model.IntVar]] = {}
    objective_terms: list[tuple[cp_model.IntVar, int]] = []
    for k, tour in enumerate(problem.tours):
        r = reach[k]
        node_of = [tour.start, tour.end, *r.candidates]
        position_of = {node_id: p + 2 for p, node_id in enumerate(r.candidates)}
        arcs: dict[tuple[int, int], cp_model.IntVar] = {}
        visit: dict[int, cp_model.IntVar] = {}
        start_pos, end_pos = TourModel.START, TourModel.END
        arcs[(end_pos, start_pos)] = model.new_constant(1)
        if r.direct_ok:
            arcs[(start_pos, end_pos)] = model.new_bool_var(f"x{k}_s_e")
        for i in r.candidates:
            p = position_of[i]
            v = model.new_bool_var(f"v{k}_{i}")
            visit[i] = v
            visits_of.setdefault(i, []).append(v)
            arcs[(p, p)] = ~v
            # START -> i: service cannot start before the direct arrival.
            lit = model.new_bool_var(f"x{k}_s_{i}")
            arcs[(start_pos, p)] = lit
            ready = tour.earliest_departure + travel[tour.start][i]
            if ready > low[i]:
                model.add(time[i] >= ready).only_enforce_if(lit)
            # i -> END: the end node must be reached in time.
            lit = model.new_bool_var(f"x{k}_{i}_e")
            arcs[(p, end_pos)] = lit
            limit = tour.latest_arrival - nodes[i].service_min - travel[i][tour.end]
            if limit < high[i]:
                model.add(time[i] <= limit).only_enforce_if(lit)
            objective_terms.append((v, nodes[i].score))
        for i in r.candidates:
            p = position_of[i]
            service = nodes[i].service_min
            row = travel[i]
            for j in r.candidates:
                if i == j or not arc_possible(problem, r, i, j):
                    continue
                lit = model.new_bool_var(f"x{k}_{i}_{j}")
                arcs[(p, position_of[j])] = lit
                gap = service + row[j]
                if low[j] < high[i] + gap:  # otherwise always satisfied
                    model.add(time[j] >= time[i] + gap).only_enforce_if(lit)
        model.add_circuit([(a, b, lit) for (a, b), lit in arcs.items()])
        # Redundant time-capacity (knapsack) cut: every visited node costs at least
        # its service plus its cheapest incoming arc. It tightens the LP bound.
        cheapest_in: dict[int, int] = {}
        for (a, b), _ in arcs.items():
            if a != b and b >= 2:
                j = node_of[b]
                cost = travel[node_of[a]][j]
                if cost < cheapest_in.get(j, cost + 1):
                    cheapest_in[j] = cost
        model.add(
            sum(
                (nodes[i].service_min + cheapest_in.get(i, 0)) * v
                for i, v in visit.items()
            )
            <= tour.latest_arrival - tour.earliest_departure
        )
        if tour.max_active_min is not None:
            active = [
                (v, nodes[i].service_min)
                for i, v in visit.items()
                if nodes[i].active and nodes[i].service_min > 0
            ]
            if sum(service for _, service in active) > tour.max_active_min:
                model.add(
                    sum(service * v for v, service in active) <= tour.max_active_min
                )
        if prefer_early_end:
            arrive = model.new_int_var(
                tour.earliest_departure, tour.latest_arrival, f"arrive{k}"
            )
            for (a, b), lit in arcs.items():
                if b != end_pos or a == b:
                    continue
                if a == start_pos:
                    direct = tour.earliest_departure + travel[tour.start][tour.end]
                    model.add(arrive >= direct).only_enforce_if(lit)
                else:
                    i = node_of[a]
                    gap = nodes[i].service_min + travel[i][tour.end]
                    model.add(arrive >= time[i] + gap).only_enforce_if(lit)
            arrivals.append(arrive)
        score = sum(nodes[i].score * v for i, v in visit.items())
        tours.append(TourModel(node_of, position_of, arcs, visit, score))

    for node in nodes:
        if node.id in problem.terminals:
            continue
        chosen = visits_of.get(node.id, [])
        if node.mandatory:
            # An unreachable mandatory node makes the model infeasible on purpose.
            if chosen:
                model.add_exactly_one(chosen)
            else:
                model.add_bool_or([])
        elif len(chosen) > 1:
            model.add_at_most_one(chosen)

    if problem.budget_minor is not None:
        priced = [
            (v, nodes[i].price_minor)
            for t in tours
            for i, v in t.visit.items()
            if nodes[i].price_minor > 0 and not nodes[i].ticket
        ]
        # A shared ticket is paid once when any of its nodes is visited.
        ticket_visits: dict[str, list[cp_model.IntVar]] = {}
        for t in tours:
            for i, v in t.visit.items():
                if nodes[i].ticket and nodes[i].price_minor > 0:
                    ticket_visits.setdefault(nodes[i].ticket, []).append(v)
        for ticket, visits in ticket_visits.items():
            paid = model.new_bool_var(f"ticket_{ticket}")
            for v in visits:
                model.add_implication(v, paid)
            price = next(n.price_minor for n in nodes if n.ticket == ticket)
            priced.append((paid, price))
        if priced:
            model.add(sum(price * v for v, price in priced) <= problem.budget_minor)

    # Symmetry breaking: among interchangeable tours, keep scores non-increasing.
    for k in range(len(problem.tours) - 1):
        if _identical_tours(problem, k, k + 1):
            model.add(tours[k].score >= tours[k + 1].score)

    total_score = sum(score * v for v, score in objective_terms if score)
    if arrivals:
        span = 1 + sum(t.latest_arrival - t.earliest_departure for t in problem.tours)
        model.maximize(span * total_score - sum(arrivals))
    else:
        model.maximize(total_score)
    time_low = {i: _time_domain(problem, i, low[i], high[i]).min() for i in time}
    return BuiltModel(model, tours, time, reach, time_low, objective_terms, arrivals)


def symmetry_order(
    problem: OrienteeringProblem, plans: Sequence[TourPlan]
) -> list[TourPlan]:
    """Reorder plans among interchangeable tours to satisfy the symmetry breaking.

    The model requires non-increasing scores along runs of identical tours; a plan
    is moved to another tour of the same run (and renumbered) when needed.
    """
    ordered = list(plans)
    k = 0
    while k < len(ordered):
        end = k + 1
        while end < len(ordered) and _identical_tours(problem, end - 1, end):
            end += 1
        group = sorted(
            ordered[k:end],
            key=lambda plan: -sum(problem.nodes[v.node].score for v in plan.visits),
        )
        for offset, plan in enumerate(group):
            ordered[k + offset] = replace(plan, tour=k + offset)
        k = end
    return ordered


def add_hint(
    problem: OrienteeringProblem, built: BuiltModel, plans: Sequence[TourPlan]
) -> None:
    """Hint a complete assignment of every variable from a feasible plan."""
    plans = symmetry_order(problem, plans)
    model = built.model
    model.clear_hints()
    start_of: dict[int, int] = {}
    for plan in plans:
        for visit in plan.visits:
            start_of[visit.node] = visit.start
    for tour_model, plan in zip(built.tours, plans, strict=True):
        chosen: set[tuple[int, int]] = set()
        previous = TourModel.START
        for visit in plan.visits:
            position = tour_model.position_of[visit.node]
            chosen.add((previous, position))
            previous = position
        chosen.add((previous, TourModel.END))
        for (a, b), literal in tour_model.arcs.items():
            if (a, b) == (TourModel.END, TourModel.START):
                continue
            if a != b:  # self-loops are the negations of the visit literals
                model.add_hint(literal, (a, b) in chosen)
        on_tour = {visit.node for visit in plan.visits}
        for node_id, v in tour_model.visit.items():
            model.add_hint(v, node_id in on_tour)
    for node_id, var in built.time.items():
        model.add_hint(var, start_of.get(node_id, built.time_low[node_id]))
    for var, plan in zip(built.arrivals, plans, strict=False):
        model.add_hint(var, plan.arrival)
