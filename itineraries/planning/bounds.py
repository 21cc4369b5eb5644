"""A tighter bound of the planner's objective over every skeleton, to measure plans.

The planner's own bound (``Planner._global_bound``) is cheap and loose: each day is
valued by a fractional knapsack of what can be done in its places, the same
experience may count on every day spent there, and it ignores sessions, rides and
walks inside the day. The benchmarks ask how far a plan is from the best possible,
so this module spends more time (``Planner(bound_seconds=…)``; plans do not wait
for it) on two relaxations, each a valid upper bound:

1. **Each experience once** (Lagrangian relaxation of "at most once in the trip"):
   every experience's points less a price ``lam`` in every day's knapsack, plus the
   prices once. Valid for any prices ≥ 0; the prices follow subgradient steps
   (Polyak steps towards the best plan found) and the smallest value is kept.
2. **Days as they really are**: the dynamic programme over skeletons (with the best
   prices of 1.) gives a best route of days; each of its days is solved alone by the
   engine (its rides, windows, sessions and walks; nothing must-see, no budget, the
   experiences' points less their prices), whose proven bound replaces the day's
   knapsack; again until the best route's days are all solved or the time is up.
   Every round's value is a valid bound: each day's value bounds what that day can
   hold at those prices.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from itineraries.planning.skeleton import (
    DayPlan,
    Segment,
    Skeleton,
    SkeletonSearch,
    _State,
)
from itineraries.planning.world import ItemKey
from itineraries.solver import SolverParams, SolveStatus, solve

if TYPE_CHECKING:
    from itineraries.planning.planner import Planner

LAGRANGIAN_ROUNDS = 400  # subgradient rounds (at most)
LAGRANGIAN_PATIENCE = 8  # rounds without progress before the steps halve
LAGRANGIAN_SHARE = 0.4  # of the seconds given, for 1.
DAY_SECONDS = 0.5  # engine work on one day solved alone
RICH_MAX_DAYS = 8  # longer trips: the canonical states only

DayValue = Callable[[DayPlan, int], float]


def tight_bound(
    planner: Planner, search: SkeletonSearch, best_found: float, seconds: float
) -> float:
    """The smaller of the two relaxations' bounds (module docstring)."""
    deadline = time.perf_counter() + seconds
    # The states the dynamic programme tells apart: the richer ones (what was
    # visited, the nights at the current place) give a tighter bound but grow fast
    # with the trip's length (6 days: 4,000 states, 3 s; 14 days: 37,000, 38 s).
    rich = planner.request.days <= RICH_MAX_DAYS
    prices = _Prices(planner, search, rich)
    lagrangian = prices.improve(
        best_found, time.perf_counter() + LAGRANGIAN_SHARE * seconds
    )
    exact = _exact_days(planner, search, prices, deadline)
    return min(lagrangian, exact)


def _bounding(state: _State) -> _State:
    """The state as the bound sees it: the day, place and start, the places and day
    trips already visited (a satellite or a day trip's cluster is not visited
    twice), the nights at the current place (in a row and in all); optimistic on
    the rest — no altitude, nothing slept elsewhere, not tired — where knowing
    more only refuses moves or costs points (a night's points fall with the nights
    already slept there, a return to a place slept in costs points)."""
    return _State(
        state.day,
        state.place,
        state.start,
        state.visited,
        None,
        frozenset(x for x in state.slept if x[0] == state.place),
        state.nights_here,
        False,
    )


def to_go_of(
    search: SkeletonSearch, own: DayValue, rich: bool
) -> Callable[[_State], float]:
    """The best total of the remaining days from a state, each day valued by
    ``own``, over the states as ``_bounding`` sees them (``rich``) or as
    ``SkeletonSearch.canonical`` does (day, place and start only): an upper bound
    of every real skeleton's."""
    if not rich:
        return search.best_to_go(own)
    memo: dict[_State, float] = {}

    def to_go(state: _State) -> float:
        key = _bounding(state)
        found = memo.get(key)
        if found is not None:
            return found
        best = float("-inf")
        for plan, nxt, value, _cost in search.transitions(key):
            rest = 0.0 if nxt is None else to_go(nxt)
            if rest == float("-inf"):
                continue
            best = max(best, own(plan, value) + rest)
        memo[key] = best
        return best

    return to_go


def best_path(
    search: SkeletonSearch, to_go: Callable, own: DayValue, start, rich: bool
) -> list[DayPlan]:
    """The days of the best route of the dynamic programme ``to_go`` (valued day by
    day by ``own``), chosen as ``to_go_of`` chooses them."""
    path: list[DayPlan] = []
    state = start
    while state is not None:
        best = None
        key = _bounding(state) if rich else search.canonical(state)
        for plan, nxt, value, _cost in search.transitions(key):
            rest = 0.0 if nxt is None else to_go(nxt)
            if rest == float("-inf"):
                continue
            total = own(plan, value) + rest
            if best is None or total > best[0]:
                best = (total, plan, nxt)
        if best is None:
            break
        path.append(best[1])
        state = best[2]
    return path


class _Prices:
    """Prices of the experiences for the Lagrangian relaxation, and the day
    knapsack at those prices."""

    def __init__(self, planner: Planner, search: SkeletonSearch, rich: bool) -> None:
        self.planner = planner
        self.search = search
        self.rich = rich
        self.lam: dict[ItemKey, float] = defaultdict(float)
        self._groups: dict[int, list] = {}
        self._keep: list[DayPlan] = []  # the days stay alive: their ids stay unique

    def groups(self, plan: DayPlan) -> list:
        """Per cluster of the day: (minutes usable, ((key, points, minutes), …))."""
        found = self._groups.get(id(plan))
        if found is None:
            self._keep.append(plan)
            by_cluster: dict[str, list[Segment]] = defaultdict(list)
            for segment in plan.segments:
                by_cluster[segment.cluster].append(segment)
            found = []
            for cluster, parts in by_cluster.items():
                limit = sum(p.limit for p in parts)
                if limit <= 0:
                    continue
                items: dict[ItemKey, tuple[int, int]] = {}
                for part in parts:
                    for key, points, minutes in self.planner.usable_items(
                        cluster, plan.date, part.lo, part.hi
                    ):
                        items[key] = (points, minutes)
                found.append((limit, tuple((k, p, m) for k, (p, m) in items.items())))
            self._groups[id(plan)] = found
        return found

    def knapsack(self, plan: DayPlan) -> tuple[float, list[tuple[ItemKey, float]]]:
        """The day's fractional knapsack at the prices: (value, [(key, share)])."""
        lam = self.lam
        pieces = []
        for limit, items in self.groups(plan):
            ranked = sorted(
                (((p - lam[k]) / m, m, k) for k, p, m in items if p > lam[k]),
                key=lambda item: (-item[0], -item[1]),  # keys mix int and str
            )
            left = limit
            for density, minutes, key in ranked:
                if left <= 0:
                    break
                take = min(minutes, left)
                pieces.append((density, take, key, minutes))
                left -= take
        pieces.sort(key=lambda piece: -piece[0])
        cap = plan.active_cap
        value = 0.0
        used = []
        for density, take, key, minutes in pieces:
            if cap <= 0:
                break
            take = min(take, cap)
            value += density * take
            used.append((key, take / minutes))
            cap -= take
        return value, used

    def own(self, plan: DayPlan, _value: int = 0) -> float:
        return plan.fixed_points + plan.stay_points + self.knapsack(plan)[0]

    def improve(self, target: float, deadline: float) -> float:
        """Subgradient rounds; leaves the best prices in ``lam``; their bound."""
        search = self.search
        start = search.initial()
        best, best_lam = float("inf"), dict(self.lam)
        scale, stale = 1.0, 0
        for _round in range(LAGRANGIAN_ROUNDS):
            to_go = to_go_of(search, self.own, self.rich)
            value = to_go(start)
            if value == float("-inf"):
                return value
            value += sum(self.lam.values())
            if value < best - 0.5:
                best, best_lam, stale = value, dict(self.lam), 0
            else:
                stale += 1
                if stale >= LAGRANGIAN_PATIENCE:  # no progress: smaller steps
                    scale, stale = scale / 2, 0
            if time.perf_counter() > deadline or scale < 1e-3 or value <= target:
                break
            usage: dict[ItemKey, float] = defaultdict(float)
            for plan in best_path(search, to_go, self.own, start, self.rich):
                for key, share in self.knapsack(plan)[1]:
                    usage[key] += share
            slack = {k: 1.0 - usage.get(k, 0.0) for k in set(usage) | set(self.lam)}
            norm = sum(g * g for g in slack.values())
            if norm <= 1e-9:
                break
            step = scale * (value - target) / norm
            for key, g in slack.items():
                self.lam[key] = max(0.0, self.lam[key] - step * g)
        self.lam = defaultdict(float, best_lam)
        return best


def _exact_days(
    planner: Planner, search: SkeletonSearch, prices: _Prices, deadline: float
) -> float:
    """Relaxation 2 at the prices of ``prices`` (module docstring)."""
    exact: dict[int, float] = {}
    constant = sum(prices.lam.values())

    def own(plan: DayPlan, _value: int = 0) -> float:
        found = exact.get(id(plan))
        day = prices.knapsack(plan)[0] if found is None else found
        return plan.fixed_points + plan.stay_points + day

    start = search.initial()
    best = float("inf")
    while True:
        to_go = to_go_of(search, own, prices.rich)
        value = to_go(start)
        if value == float("-inf"):
            return value
        best = min(best, value + constant)
        todo = [
            p
            for p in best_path(search, to_go, own, start, prices.rich)
            if id(p) not in exact
        ]
        if not todo:
            return best
        for plan in todo:
            left = deadline - time.perf_counter()
            if left <= 0.05:
                return best
            prices.groups(plan)  # keeps the day alive
            exact[id(plan)] = min(
                prices.knapsack(plan)[0], _day_alone(planner, plan, prices.lam, left)
            )


def _day_alone(
    planner: Planner, plan: DayPlan, lam: dict[ItemKey, float], seconds: float
) -> float:
    """The engine's proven bound of one day's experience and sight points less
    their prices, the day solved alone (-inf: the day cannot be done)."""
    problem, meta = planner._problem(Skeleton((plan,), 0, 0), None)
    nodes = []
    for i, node in enumerate(problem.nodes):
        kind, ref = meta[i]
        score = node.score
        if kind == "offer":
            # Rounded up: the day's value stays an upper bound.
            score = max(0, math.ceil(node.score - lam.get(ref.key, 0.0)))
        nodes.append(dataclasses.replace(node, mandatory=kind == "hop", score=score))
    problem = dataclasses.replace(problem, nodes=tuple(nodes))
    solution = solve(
        problem,
        SolverParams(
            time_limit_s=min(DAY_SECONDS, seconds),
            wall_limit_s=seconds,
            random_seed=planner.request.seed,
            deterministic=True,
            num_workers=1,
        ),
    )
    if solution.status == SolveStatus.INFEASIBLE:
        return float("-inf")
    if solution.bound is None:
        return float("inf")
    return float(solution.bound)
