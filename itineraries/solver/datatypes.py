"""Typed input and output data of the orienteering engine.

Every quantity is an integer: times and durations in minutes (or any integer time
unit used consistently, e.g. tenths of a minute for the TOPTW benchmark), prices in
minor currency units, scores as plain integers.

Semantics in short:

* ``nodes[i].id == i``: a node is addressed by its index in ``travel``.
* A tour starts at its ``start`` node at ``earliest_departure`` (or later), visits
  some non-terminal nodes, and must reach its ``end`` node by ``latest_arrival``.
* A node used as the start or end of any tour is a *terminal*: it is never visited
  as an activity, and its ``service_min``, ``score``, ``windows`` and ``price_minor``
  are ignored.
* ``windows`` bound the START of service: the visit may start at ``t`` when
  ``earliest <= t <= latest`` for one of the windows. Arriving early means waiting.
  An empty tuple means "any time".
* Travel from ``i`` to ``j`` takes ``travel[i][j]`` (may be asymmetric; the triangle
  inequality is not assumed). Leaving ``i`` happens right after its service ends.
* Each node is visited at most once over all tours; mandatory nodes exactly once.
* ``allowed_tours``: the tour indices on which the node may be visited (None = any).
* ``budget_minor``: when set, the sum of ``price_minor`` over visited nodes must not
  exceed it. Nodes with the same non-empty ``ticket`` (sights under one entrance
  ticket) share one price: the group costs its ``price_minor`` once when any of
  them is visited, so they must all carry the same price.
* ``max_active_min`` (pace, e.g. "at most 8 hours of activities per day"): when set
  on tour ``k``, the sum of ``service_min`` over the nodes visited on tour ``k`` with
  ``active=True`` must not exceed it. Travel and waiting never count, nor do
  terminals; nodes with ``active=False`` (a transport ride, a meal) never count;
  mandatory nodes count when they are active, so mandatory active nodes that
  cannot share the caps of their allowed tours make the problem infeasible. A
  node whose own active service exceeds a tour's cap is never visited on it.

Modelling hints for itineraries: a day is a tour from the morning's place to the
evening's place. A fixed transport block (a bus at 08:00) is a mandatory node with
``allowed_tours={day}``, a single window ``(480, 480)``, the ride as
``service_min``, ``active=False`` (the ride is not part of the day's pace), its
travel column measured to the departure point and its travel row measured from
the arrival point. Several opening periods are several windows. Terminals may
repeat (the same hotel ends day 1 and starts day 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

Window = tuple[int, int]


class SolverBugError(RuntimeError):
    """The model or a plan contradicts itself: a bug, never a user error."""


class SolveStatus(StrEnum):
    """Outcome of a solve. Every outcome is explicit."""

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    NO_SOLUTION_IN_TIME = "NO_SOLUTION_IN_TIME"


@dataclass(frozen=True, slots=True)
class Node:
    """A place: an activity to visit, or a terminal (start/end of tours)."""

    id: int
    service_min: int = 0
    score: int = 0
    windows: tuple[Window, ...] = ()
    price_minor: int = 0
    mandatory: bool = False
    allowed_tours: frozenset[int] | None = None
    name: str = ""
    active: bool = True  # service counts towards the tours' ``max_active_min``
    ticket: str = ""  # nodes with one ticket pay ``price_minor`` once between them

    def __post_init__(self) -> None:
        if self.service_min < 0:
            raise ValueError(f"node {self.id}: negative service time")
        if self.score < 0:
            raise ValueError(f"node {self.id}: negative score")
        if self.price_minor < 0:
            raise ValueError(f"node {self.id}: negative price")
        previous_latest: int | None = None
        for earliest, latest in self.windows:
            if earliest > latest:
                raise ValueError(f"node {self.id}: window ({earliest}, {latest})")
            if previous_latest is not None and earliest <= previous_latest:
                raise ValueError(f"node {self.id}: windows must be sorted and disjoint")
            previous_latest = latest


@dataclass(frozen=True, slots=True)
class Tour:
    """One route (one day): from ``start`` to ``end`` within a time span."""

    start: int
    end: int
    earliest_departure: int
    latest_arrival: int
    # Cap on the service time of the active nodes visited on this tour (None: none).
    max_active_min: int | None = None

    def __post_init__(self) -> None:
        if self.earliest_departure > self.latest_arrival:
            raise ValueError("tour: earliest_departure after latest_arrival")
        if self.max_active_min is not None and self.max_active_min < 0:
            raise ValueError("tour: negative max_active_min")


@dataclass(frozen=True, slots=True)
class OrienteeringProblem:
    """Team orienteering problem with time windows, budget and side constraints."""

    nodes: tuple[Node, ...]
    tours: tuple[Tour, ...]
    travel: tuple[tuple[int, ...], ...]
    budget_minor: int | None = None
    terminals: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.nodes)
        if n == 0:
            raise ValueError("problem without nodes")
        for index, node in enumerate(self.nodes):
            if node.id != index:
                raise ValueError(f"nodes[{index}].id is {node.id}, expected {index}")
        if len(self.travel) != n or any(len(row) != n for row in self.travel):
            raise ValueError(f"travel must be a {n}x{n} matrix")
        if any(value < 0 for row in self.travel for value in row):
            raise ValueError("negative travel time")
        if not self.tours:
            raise ValueError("problem without tours")
        terminals: set[int] = set()
        for tour in self.tours:
            for node in (tour.start, tour.end):
                if not 0 <= node < n:
                    raise ValueError(f"tour terminal {node} is not a node")
                terminals.add(node)
        for node in self.nodes:
            if node.allowed_tours is not None and any(
                not 0 <= k < len(self.tours) for k in node.allowed_tours
            ):
                raise ValueError(f"node {node.id}: allowed_tours out of range")
        for index in terminals:
            if self.nodes[index].mandatory:
                raise ValueError(f"terminal node {index} cannot be mandatory")
        if self.budget_minor is not None and self.budget_minor < 0:
            raise ValueError("negative budget")
        ticket_price: dict[str, int] = {}
        for node in self.nodes:
            if node.ticket:
                price = ticket_price.setdefault(node.ticket, node.price_minor)
                if price != node.price_minor:
                    raise ValueError(
                        f"node {node.id}: ticket {node.ticket!r} has two prices"
                    )
        object.__setattr__(self, "terminals", frozenset(terminals))

    def spend(self, visited: Iterable[int]) -> int:
        """What visiting ``visited`` costs: one price per shared ticket."""
        total = 0
        tickets: set[str] = set()
        for j in visited:
            node = self.nodes[j]
            if node.ticket:
                if node.ticket in tickets:
                    continue
                tickets.add(node.ticket)
            total += node.price_minor
        return total

    @property
    def customers(self) -> tuple[int, ...]:
        """Indices of the nodes that may be visited (all non-terminals)."""
        return tuple(i for i in range(len(self.nodes)) if i not in self.terminals)


@dataclass(frozen=True, slots=True)
class SolverParams:
    """How to search. The whole solve respects ``time_limit_s`` (wall clock).

    ``num_workers`` > 1 runs CP-SAT with ``interleave_search`` so that the search is
    reproducible. ``deterministic`` replaces the time-based stops of the heuristic
    and of CP-SAT by work budgets (iterations, CP-SAT deterministic time) derived
    from ``time_limit_s``; the wall clock then only acts as a safety stop, so a
    given seed gives the same plan on any machine that is fast enough.
    """

    time_limit_s: float = 10.0
    num_workers: int = 1
    random_seed: int = 0
    log_search_progress: bool = False
    use_heuristic: bool = True
    use_cp_sat: bool = True
    heuristic_share: float = 0.55
    cp_sat_share: float = 0.1
    deterministic: bool = False
    # Deterministic mode only: the wall-clock safety stop, when it should be later
    # than ``time_limit_s`` (the work budget), e.g. to stay deterministic on a busy
    # machine. None: ``time_limit_s``.
    wall_limit_s: float | None = None

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise ValueError("time_limit_s must be positive")
        if self.wall_limit_s is not None and self.wall_limit_s < self.time_limit_s:
            raise ValueError("wall_limit_s must be at least time_limit_s")
        if self.num_workers < 1:
            raise ValueError("num_workers must be at least 1")
        if not 0.0 <= self.heuristic_share <= 1.0:
            raise ValueError("heuristic_share must be within [0, 1]")
        if not 0.0 <= self.cp_sat_share <= 1.0 - self.heuristic_share:
            raise ValueError("cp_sat_share must be within [0, 1 - heuristic_share]")


@dataclass(frozen=True, slots=True)
class Visit:
    """A visited node and the start time of its service."""

    node: int
    start: int


@dataclass(frozen=True, slots=True)
class TourPlan:
    """The plan of one tour: departure, visits in order, arrival at the end."""

    tour: int
    departure: int
    visits: tuple[Visit, ...]
    arrival: int

    def node_sequence(self, problem: OrienteeringProblem) -> tuple[int, ...]:
        """Start node, visited nodes, end node."""
        tour = problem.tours[self.tour]
        return (tour.start, *(v.node for v in self.visits), tour.end)


@dataclass(frozen=True, slots=True)
class Solution:
    """Result of :func:`itineraries.solver.solve`.

    ``objective`` is the value of the optimised objective (the total score) and
    ``bound`` the best proven upper bound on it (None when unknown).
    """

    status: SolveStatus
    tours: tuple[TourPlan, ...]
    score: int
    objective: int | None
    bound: int | None
    wall_time_s: float

    @property
    def has_plan(self) -> bool:
        """True when the solution carries a feasible plan."""
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
