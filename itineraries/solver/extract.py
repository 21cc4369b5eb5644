"""Turn node sequences (from CP-SAT values or the heuristic) into plans.

Start times are recomputed as the earliest feasible schedule of each sequence
("as early as possible"): it is unique, reproducible, and feasible whenever any
schedule of the same sequence is, because arriving earlier never hurts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from itineraries.solver.datatypes import OrienteeringProblem, TourPlan, Visit
from itineraries.solver.reach import first_start

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from itineraries.solver.model import BuiltModel


def schedule(
    problem: OrienteeringProblem, k: int, sequence: Sequence[int]
) -> TourPlan | None:
    """Earliest schedule of tour ``k`` visiting ``sequence``; None if infeasible."""
    tour = problem.tours[k]
    travel = problem.travel
    here = tour.start
    ready = tour.earliest_departure
    visits: list[Visit] = []
    for node_id in sequence:
        node = problem.nodes[node_id]
        start = first_start(node.windows, ready + travel[here][node_id])
        if start is None:
            return None
        visits.append(Visit(node_id, start))
        here = node_id
        ready = start + node.service_min
    arrival = ready + travel[here][tour.end]
    if arrival > tour.latest_arrival:
        return None
    return TourPlan(k, tour.earliest_departure, tuple(visits), arrival)


def sequences_from_values(
    built: BuiltModel, solver: cp_model.CpSolver
) -> list[list[int]]:
    """Follow the chosen arcs of every tour from its start to its end."""
    sequences: list[list[int]] = []
    for tour_model in built.tours:
        successor: dict[int, int] = {}
        for (a, b), literal in tour_model.arcs.items():
            if a != b and solver.boolean_value(literal):
                successor[a] = b
        sequence: list[int] = []
        position = successor[tour_model.START]
        while position != tour_model.END:
            sequence.append(tour_model.node_of[position])
            position = successor[position]
        sequences.append(sequence)
    return sequences


def plans_from_sequences(
    problem: OrienteeringProblem, sequences: Sequence[Sequence[int]]
) -> tuple[TourPlan, ...] | None:
    """Schedule every tour; None if one of them is infeasible."""
    plans: list[TourPlan] = []
    for k, sequence in enumerate(sequences):
        plan = schedule(problem, k, sequence)
        if plan is None:
            return None
        plans.append(plan)
    return tuple(plans)
