"""Reachability and arc pruning shared by the heuristic and the CP-SAT model.

For every tour we compute, per node, the earliest possible service start (leaving
the start node at the earliest departure along a shortest path, counting the
service time of intermediate nodes) and the latest possible service start (still
reaching the end node in time along a shortest path). Shortest paths are used
instead of direct travel because the triangle inequality is not assumed. A node
whose earliest start exceeds its latest start can never be visited on that tour.
A node whose own active service exceeds the tour's ``max_active_min`` is not a
candidate of that tour either. An arc ``i -> j`` is kept only when
``earliest(i) + service(i) + travel(i, j) <= latest(j)``; any other arc would
violate a window or the end time whatever the rest of the route.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from itineraries.solver.datatypes import OrienteeringProblem


def first_start(windows: Sequence[tuple[int, int]], arrival: int) -> int | None:
    """Earliest service start at or after ``arrival``; None if every window closed."""
    if not windows:
        return arrival
    for earliest, latest in windows:
        if arrival <= latest:
            return arrival if arrival > earliest else earliest
    return None


def last_start(windows: Sequence[tuple[int, int]], limit: int) -> int | None:
    """Latest service start at or before ``limit``; None if no window opens by then."""
    if not windows:
        return limit
    for earliest, latest in reversed(windows):
        if earliest <= limit:
            return latest if latest < limit else limit
    return None


@dataclass(frozen=True, slots=True)
class TourReach:
    """Nodes usable on one tour with their earliest and latest service starts."""

    candidates: tuple[int, ...]
    earliest: dict[int, int]
    latest: dict[int, int]
    direct_ok: bool  # start -> end directly is on time (the empty tour is valid)


def shortest_paths(
    problem: OrienteeringProblem,
    source: int,
    reverse: bool = False,
    nodes: Sequence[int] | None = None,
) -> list[int]:
    """Shortest travel times from ``source`` (to ``source`` when ``reverse``).

    Passing through an intermediate node costs its service time as well; terminal
    nodes are not used as intermediates. Only ``nodes`` (all when None) are
    passed through and measured; the others stay at infinity. Dense Dijkstra,
    O(len(nodes)^2).
    """
    n = len(problem.nodes)
    travel = problem.travel
    service = [node.service_min for node in problem.nodes]
    inf = 1 << 62
    dist = [inf] * n
    dist[source] = 0
    todo = list(range(n)) if nodes is None else sorted(set(nodes) | {source})
    while todo:
        u = min(todo, key=dist.__getitem__)
        best = dist[u]
        if best >= inf:
            break
        todo.remove(u)
        if u != source and u in problem.terminals:
            continue
        # Forward: leave u after its service. Reverse: pass through u, then on.
        through = best + (service[u] if u != source else 0)
        if reverse:
            for v in todo:
                candidate = through + travel[v][u]
                if candidate < dist[v]:
                    dist[v] = candidate
        else:
            row = travel[u]
            for v in todo:
                candidate = through + row[v]
                if candidate < dist[v]:
                    dist[v] = candidate
    return dist


def tour_reach(
    problem: OrienteeringProblem,
    k: int,
    from_start: list[int] | None = None,
    to_end: list[int] | None = None,
) -> TourReach:
    """Compute the usable nodes of tour ``k``."""
    tour = problem.tours[k]
    travel = problem.travel
    if from_start is None:
        from_start = shortest_paths(problem, tour.start)
    if to_end is None:
        to_end = shortest_paths(problem, tour.end, reverse=True)
    candidates: list[int] = []
    earliest: dict[int, int] = {}
    latest: dict[int, int] = {}
    cap = tour.max_active_min
    for i in problem.customers:
        node = problem.nodes[i]
        if node.allowed_tours is not None and k not in node.allowed_tours:
            continue
        if cap is not None and node.active and node.service_min > cap:
            continue
        es = first_start(node.windows, tour.earliest_departure + from_start[i])
        if es is None:
            continue
        ls = last_start(
            node.windows, tour.latest_arrival - node.service_min - to_end[i]
        )
        if ls is None or ls < es:
            continue
        candidates.append(i)
        earliest[i] = es
        latest[i] = ls
    direct_ok = (
        tour.earliest_departure + travel[tour.start][tour.end] <= tour.latest_arrival
    )
    return TourReach(tuple(candidates), earliest, latest, direct_ok)


def arc_possible(
    problem: OrienteeringProblem, reach: TourReach, i: int, j: int
) -> bool:
    """True if customer ``j`` may directly follow customer ``i`` on this tour."""
    return (
        reach.earliest[i] + problem.nodes[i].service_min + problem.travel[i][j]
        <= reach.latest[j]
    )


def all_reach(problem: OrienteeringProblem) -> list[TourReach]:
    """Reachability of every tour. Paths go only through the nodes the tour may
    visit (a node of another day is no way through): with several tours this is
    both tighter and much faster than over every node; tours that may visit the
    same nodes share their shortest paths."""
    forward: dict[tuple, list[int]] = {}
    backward: dict[tuple, list[int]] = {}
    result: list[TourReach] = []
    for k, tour in enumerate(problem.tours):
        usable = tuple(
            i
            for i in problem.customers
            if problem.nodes[i].allowed_tours is None
            or k in problem.nodes[i].allowed_tours
        )
        through = (*usable, tour.start, tour.end)
        key_f, key_b = (tour.start, usable), (tour.end, usable)
        if key_f not in forward:
            forward[key_f] = shortest_paths(problem, tour.start, nodes=through)
        if key_b not in backward:
            backward[key_b] = shortest_paths(
                problem, tour.end, reverse=True, nodes=through
            )
        result.append(tour_reach(problem, k, forward[key_f], backward[key_b]))
    return result
