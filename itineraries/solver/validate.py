"""Independent plan checker.

Deliberately written without the model, heuristic or extraction code: it reads
the problem definition and the plan and re-checks every rule from scratch.
"""

from __future__ import annotations

from collections.abc import Sequence

from itineraries.solver.datatypes import OrienteeringProblem, Solution, TourPlan


def _in_windows(windows: Sequence[tuple[int, int]], start: int) -> bool:
    if not windows:
        return True
    return any(earliest <= start <= latest for earliest, latest in windows)


def validate(
    problem: OrienteeringProblem, plan: Solution | Sequence[TourPlan]
) -> list[str]:
    """Return the rule violations of ``plan``; an empty list means it is valid."""
    tours = plan.tours if isinstance(plan, Solution) else tuple(plan)
    errors: list[str] = []
    n = len(problem.nodes)
    if len(tours) != len(problem.tours):
        errors.append(
            f"plan has {len(tours)} tours, the problem has {len(problem.tours)}"
        )
    seen: dict[int, int] = {}
    total_score = 0
    for position, tour_plan in enumerate(tours):
        k = tour_plan.tour
        label = f"tour {k}"
        if k != position:
            errors.append(f"{label}: listed at position {position}")
        if not 0 <= k < len(problem.tours):
            errors.append(f"{label}: no such tour")
            continue
        tour = problem.tours[k]
        if tour_plan.departure < tour.earliest_departure:
            errors.append(
                f"{label}: departs at {tour_plan.departure}, "
                f"before {tour.earliest_departure}"
            )
        here = tour.start
        ready = tour_plan.departure  # time at which we may leave `here`
        active = 0  # service time of the active nodes visited on this tour
        for visit in tour_plan.visits:
            node_id = visit.node
            if not 0 <= node_id < n:
                errors.append(f"{label}: unknown node {node_id}")
                continue
            node = problem.nodes[node_id]
            if node_id in problem.terminals:
                errors.append(f"{label}: terminal {node_id} visited as an activity")
            if node_id in seen:
                errors.append(
                    f"{label}: node {node_id} already visited on tour {seen[node_id]}"
                )
            else:
                seen[node_id] = k
                total_score += node.score
            if node.allowed_tours is not None and k not in node.allowed_tours:
                errors.append(f"{label}: node {node_id} is not allowed on this tour")
            if node.active and node_id not in problem.terminals:
                active += node.service_min
            arrival = ready + problem.travel[here][node_id]
            if visit.start < arrival:
                errors.append(
                    f"{label}: node {node_id} starts at {visit.start}, "
                    f"but cannot arrive before {arrival}"
                )
            if not _in_windows(node.windows, visit.start):
                errors.append(
                    f"{label}: node {node_id} starts at {visit.start}, "
                    f"outside its windows {list(node.windows)}"
                )
            here = node_id
            ready = visit.start + node.service_min
        arrival = ready + problem.travel[here][tour.end]
        if tour_plan.arrival < arrival:
            errors.append(
                f"{label}: claims arrival {tour_plan.arrival} at the end, "
                f"but cannot arrive before {arrival}"
            )
        if max(arrival, tour_plan.arrival) > tour.latest_arrival:
            errors.append(
                f"{label}: reaches end node {tour.end} at "
                f"{max(arrival, tour_plan.arrival)}, later than {tour.latest_arrival}"
            )
        if tour.max_active_min is not None and active > tour.max_active_min:
            errors.append(
                f"{label}: active time {active} exceeds max_active_min "
                f"{tour.max_active_min}"
            )
    for node in problem.nodes:
        if node.mandatory and node.id not in seen:
            errors.append(f"mandatory node {node.id} is not visited")
    total_price = problem.spend(seen)
    if problem.budget_minor is not None and total_price > problem.budget_minor:
        errors.append(
            f"total price {total_price} exceeds budget {problem.budget_minor}"
        )
    if isinstance(plan, Solution) and plan.has_plan and plan.score != total_score:
        errors.append(f"claimed score {plan.score}, visited nodes sum to {total_score}")
    return errors
