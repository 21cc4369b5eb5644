"""Seeded iterated local search (ILS) for a strong feasible starting plan.

In the style of Vansteenwegen et al. (2009) for the TOPTW:

* *Insert*: repeatedly insert the unvisited node with the best
  ``score^e / time consumed`` ratio at its best feasible position, checked in
  O(1) with the classic ``wait`` / ``max_shift`` bookkeeping per route
  (vectorised with numpy over all (node, position) pairs of a route).
* *Shake*: remove ``S`` consecutive visits from position ``R`` of every route, then
  insert again; ``R`` and ``S`` follow the published rules.

Additions (all driven by one seeded ``random.Random``): every other iteration
removes a random share of each route instead of a consecutive block; the ratio
exponent ``e`` is drawn from {1, 2} and ratios get multiplicative noise;
record-to-record acceptance keeps walking from plans within 3-10 % of the best;
a restart from the best plan every 100 non-improving iterations; a stop after
3000 non-improving iterations (small problems converge quickly).

Extensions for the itinerary engine: per-tour start/end/times, several windows
per node (the max-shift rule stays exact but conservative: a shift that would
jump to a later window is rejected), asymmetric travel without the triangle
inequality (removals are re-checked), a budget, ``allowed_tours``, mandatory
nodes (inserted first, never removed) and per-tour caps on active time: each
route keeps the service time of its active visits (recomputed whenever a route
is rebuilt: insert, removal, shake, restart), and a node whose active service
exceeds what is left of its tour's cap is not insertable there. Tours without a
cap skip that check entirely.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from itineraries.solver.datatypes import OrienteeringProblem
from itineraries.solver.reach import TourReach, first_start

_BIG = 1 << 60
# Stop early after this many iterations without a new best plan.
_MAX_STALE = 3000
# Tuned on a few TOPTW instances (m=1): share of a route removed at random, ratio
# exponents drawn per fill, ratio noise, and the record-to-record threshold.
REMOVE_SHARE = 0.4
EXPONENTS = (1.0, 2.0)
NOISE = 0.3
ACCEPT_SHARES = (0.05, 0.03, 0.1)  # drawn again at every restart
RESTART_EVERY = 100


@dataclass(slots=True)
class _Route:
    """One tour: node sequence plus per-position schedule data.

    Position 0 is the start terminal, position ``len(seq) + 1`` the end terminal.
    """

    k: int
    seq: list[int]
    nodes: list[int]
    start: list[int]  # service start (departure at 0, arrival at the end)
    leave: list[int]  # start + service
    wait: list[int]
    max_shift: list[int]
    score: int = 0
    active: int = 0  # service time of the active visits (only kept with caps)


class RouteSearch:
    def __init__(
        self,
        problem: OrienteeringProblem,
        reach: list[TourReach],
        rng: random.Random,
    ) -> None:
        self.problem = problem
        self.travel = problem.travel
        nodes = problem.nodes
        self.service = [node.service_min for node in nodes]
        self.score = [node.score for node in nodes]
        self.price = [node.price_minor for node in nodes]
        self.ticket = [node.ticket for node in nodes]
        self.any_ticket = any(self.ticket)
        self.windows = [
            list(node.windows) if node.windows else [(-_BIG, _BIG)] for node in nodes
        ]
        self.single = [len(w) == 1 for w in self.windows]
        self.lo = [w[0][0] for w in self.windows]
        self.hi = [w[-1][1] for w in self.windows]
        self.mandatory = [node.mandatory for node in nodes]
        self.budget = problem.budget_minor
        # Per-tour caps on active time; ``active_cost`` is what a visit uses of it.
        self.active_cost = [node.service_min if node.active else 0 for node in nodes]
        self.caps = [tour.max_active_min for tour in problem.tours]
        self.any_cap = any(cap is not None for cap in self.caps)
        self.reach = reach
        self.latest = [r.latest for r in reach]
        self.tours = problem.tours
        self.rng = rng
        self.exponent = 2.0  # ratio = score**exponent / time consumed
        self.all_candidates = sorted({i for r in reach for i in r.candidates})
        # numpy mirrors for the vectorised insertion.
        self.np_travel = np.asarray(problem.travel, dtype=np.int64)
        self.np_score = np.asarray(self.score, dtype=np.float64)
        self.np_price = np.asarray(self.price, dtype=np.int64)
        self.np_service = np.asarray(self.service, dtype=np.int64)
        self.np_lo = np.asarray(self.lo, dtype=np.int64)
        self.np_active = np.asarray(self.active_cost, dtype=np.int64)
        self.np_latest = []
        for r in reach:
            latest = np.full(len(nodes), -_BIG, dtype=np.int64)
            for i, value in r.latest.items():
                latest[i] = value
            self.np_latest.append(latest)

    # --- schedule bookkeeping -------------------------------------------------
    def first_start(self, j: int, arrival: int) -> int:
        """Earliest start of ``j`` at or after ``arrival``; -1 if impossible."""
        if self.single[j]:
            if arrival > self.hi[j]:
                return -1
            return arrival if arrival > self.lo[j] else self.lo[j]
        for a, b in self.windows[j]:
            if arrival <= b:
                return arrival if arrival > a else a
        return -1

    def _window_end(self, j: int, start: int) -> int:
        if self.single[j]:
            return self.hi[j]
        for a, b in self.windows[j]:
            if a <= start <= b:
                return b
        return start

    def cap_left(self, route: _Route) -> int | None:
        """Active time still available on ``route``'s tour; None without a cap."""
        cap = self.caps[route.k]
        return None if cap is None else cap - route.active

    def make_route(self, k: int, seq: list[int]) -> _Route | None:
        """Schedule ``seq`` on tour ``k`` as early as possible; None if infeasible."""
        tour = self.tours[k]
        travel = self.travel
        active = 0
        if self.any_cap:
            active_cost = self.active_cost
            active = sum(active_cost[j] for j in seq)
            cap = self.caps[k]
            if cap is not None and active > cap:
                return None
        nodes = [tour.start, *seq, tour.end]
        start = [tour.earliest_departure]
        leave = [tour.earliest_departure]
        wait = [0]
        previous = tour.start
        score = 0
        for j in seq:
            arrival = leave[-1] + travel[previous][j]
            s = self.first_start(j, arrival)
            if s < 0:
                return None
            start.append(s)
            leave.append(s + self.service[j])
            wait.append(s - arrival)
            previous = j
            score += self.score[j]
        arrival = leave[-1] + travel[previous][tour.end]
        if arrival > tour.latest_arrival:
            return None
        start.append(arrival)
        leave.append(arrival)
        wait.append(0)
        max_shift = [0] * len(nodes)
        max_shift[-1] = tour.latest_arrival - arrival
        for p in range(len(nodes) - 2, 0, -1):
            j = nodes[p]
            own = self._window_end(j, start[p]) - start[p]
            after = wait[p + 1] + max_shift[p + 1]
            max_shift[p] = own if own < after else after
        return _Route(k, list(seq), nodes, start, leave, wait, max_shift, score, active)

    # --- insertion -------------------------------------------------------------
    def best_insertion(
        self,
        routes: list[_Route],
        unvisited: list[int],
        budget_left: int | None,
        mandatory_only: bool,
        noise: dict[int, float] | None = None,
        price: list[int] | None = None,
    ) -> tuple[float, int, int, int] | None:
        """Best (ratio, node, tour, position) by score^e / time consumed, or None.

        ``noise`` multiplies the ratio of each node (randomised greedy); ``price``
        is what each node would add to the spend (default: its own price). Plain
        Python: used for nodes with several windows and for mandatory nodes.
        """
        if price is None:
            price = self.price
        travel = self.travel
        service = self.service
        scores = self.score
        best_ratio = -1.0
        best: tuple[float, int, int, int] | None = None
        for route in routes:
            k = route.k
            candidates = unvisited
            cap_left = self.cap_left(route)
            if cap_left is not None:
                active_cost = self.active_cost
                candidates = [j for j in unvisited if active_cost[j] <= cap_left]
            latest = self.latest[k]
            nodes = route.nodes
            leave = route.leave
            start = route.start
            wait = route.wait
            max_shift = route.max_shift
            room = [wait[p] + max_shift[p] for p in range(len(nodes))]
            old_arrival = [start[p] - wait[p] for p in range(len(nodes))]
            # Both lists are non-decreasing along a feasible route, which bounds
            # the useful insertion positions of a node by bisection.
            shifted = [start[p] + max_shift[p] for p in range(len(nodes))]
            last_gap = len(nodes) - 1
            for j in candidates:
                if j not in latest:
                    continue
                if budget_left is not None and price[j] > budget_left:
                    continue
                if mandatory_only and not self.mandatory[j]:
                    continue
                latest_j = latest[j]
                s_j = service[j]
                row_j = travel[j]
                single = self.single[j]
                lo_j = self.lo[j]
                hi_j = self.hi[j]
                if mandatory_only:
                    weight = 1.0
                else:
                    weight = float(scores[j]) ** self.exponent
                    if noise is not None:
                        weight *= noise[j]
                # Leaving before latest_j, and room for lo_j + s_j before w's limit.
                p_high = bisect_right(leave, latest_j, 0, last_gap)
                p_low = bisect_left(shifted, lo_j + s_j, 1, last_gap + 1) - 1
                for p in range(p_low, p_high):
                    u = nodes[p]
                    arrival = leave[p] + travel[u][j]
                    if arrival > latest_j:
                        continue
                    if single:
                        s = arrival if arrival > lo_j else lo_j
                    else:
                        s = self.first_start(j, arrival)
                        if s < 0:
                            continue
                    w = nodes[p + 1]
                    delta = s + s_j + row_j[w] - old_arrival[p + 1]
                    if delta > room[p + 1]:
                        continue
                    if s > hi_j:
                        continue
                    ratio = weight / (delta if delta > 0 else 0.5)
                    if ratio > best_ratio:
                        best_ratio = ratio
                        best = (ratio, j, k, p)
        return best

    def best_insertion_fast(
        self,
        routes: list[_Route],
        unvisited: list[int],
        budget_left: int | None,
        noise: dict[int, float] | None,
        price: list[int] | None = None,
    ) -> tuple[float, int, int, int] | None:
        """Same as :meth:`best_insertion`, vectorised with numpy for the nodes
        with at most one window (all (node, position) pairs of a route at once)."""
        single = [j for j in unvisited if self.single[j]]
        multi = [j for j in unvisited if not self.single[j]]
        best = None
        if multi:
            best = self.best_insertion(routes, multi, budget_left, False, noise, price)
        if not single:
            return best
        cand = np.asarray(single, dtype=np.int64)
        if budget_left is not None:
            np_price = self.np_price if price is None else np.asarray(price)
            cand = cand[np_price[cand] <= budget_left]
            if cand.size == 0:
                return best
        weight = self.np_score[cand] ** self.exponent
        if noise is not None:
            weight = weight * np.asarray([noise[j] for j in cand.tolist()])
        travel = self.np_travel
        to_cand = travel[:, cand]  # (n, U)
        from_cand = travel[cand]  # (U, n)
        lo = self.np_lo[cand][:, None]
        service = self.np_service[cand][:, None]
        weight = weight[:, None]
        best_ratio = best[0] if best is not None else -1.0
        for route in routes:
            nodes = np.asarray(route.nodes, dtype=np.int64)
            start = np.asarray(route.start, dtype=np.int64)
            wait = np.asarray(route.wait, dtype=np.int64)
            room = wait[1:] + np.asarray(route.max_shift[1:], dtype=np.int64)
            old_arrival = start[1:] - wait[1:]
            leave = np.asarray(route.leave[:-1], dtype=np.int64)
            arrival = leave[None, :] + to_cand[nodes[:-1]].T  # (U, L)
            s = np.maximum(arrival, lo)
            delta = s + service + from_cand[:, nodes[1:]] - old_arrival[None, :]
            ok = (arrival <= self.np_latest[route.k][cand][:, None]) & (
                delta <= room[None, :]
            )
            cap_left = self.cap_left(route)
            if cap_left is not None:
                ok &= (self.np_active[cand] <= cap_left)[:, None]
            if not ok.any():
                continue
            ratio = np.where(ok, weight / np.maximum(delta, 0.5), -1.0)
            flat = int(ratio.argmax())
            value = float(ratio.flat[flat])
            if value > best_ratio:
                row, p = divmod(flat, ratio.shape[1])
                best_ratio = value
                best = (value, int(cand[row]), route.k, p)
        return best

    def fill(
        self,
        routes: list[_Route],
        visited: set[int],
        mandatory_only: bool = False,
        noise_level: float = 0.0,
    ) -> None:
        """Insert greedily until no node fits (ratios randomised by noise_level)."""
        unvisited = [j for j in self.all_candidates if j not in visited]
        noise = None
        if noise_level > 0:
            rand = self.rng.random
            noise = {j: 1.0 + noise_level * rand() for j in unvisited}
        budget_left = None
        price = None
        if self.budget is not None:
            budget_left = self.budget - self.problem.spend(visited)
            if self.any_ticket:
                price = self.marginal_prices(visited)
        while unvisited:
            if mandatory_only:
                found = self.best_insertion(
                    routes, unvisited, budget_left, mandatory_only, noise, price
                )
            else:
                found = self.best_insertion_fast(
                    routes, unvisited, budget_left, noise, price
                )
            if found is None:
                return
            _, j, k, p = found
            index = next(i for i, r in enumerate(routes) if r.k == k)
            route = routes[index]
            seq = [*route.seq[:p], j, *route.seq[p:]]
            new_route = self.make_route(k, seq)
            if new_route is None:  # cannot happen: the insertion test is exact
                unvisited.remove(j)
                continue
            routes[index] = new_route
            visited.add(j)
            unvisited.remove(j)
            if budget_left is not None:
                if price is None:
                    budget_left -= self.price[j]
                else:
                    budget_left -= price[j]
                    if self.ticket[j]:
                        price = self.marginal_prices(visited)

    def marginal_prices(self, visited: set[int]) -> list[int]:
        """What each node would add to the spend of ``visited``: nothing for a
        node whose shared ticket is already paid."""
        paid = {self.ticket[j] for j in visited if self.ticket[j]}
        if not paid:
            return self.price
        return [
            0 if ticket and ticket in paid else price
            for price, ticket in zip(self.price, self.ticket, strict=True)
        ]

    # --- perturbation -----------------------------------------------------------
    def remove(
        self, routes: list[_Route], visited: set[int], index: int, drop: set[int]
    ) -> None:
        """Remove the non-mandatory nodes of ``drop`` from route ``index``."""
        route = routes[index]
        removed = [j for j in route.seq if j in drop and not self.mandatory[j]]
        if not removed:
            return
        kept = [j for j in route.seq if j not in removed]
        new_route = self.make_route(route.k, kept)
        if new_route is None:  # no triangle inequality: removal made it late
            return
        routes[index] = new_route
        visited.difference_update(removed)

    def shake(
        self, routes: list[_Route], visited: set[int], position: int, size: int
    ) -> None:
        """Vansteenwegen's shake: remove ``size`` consecutive visits per route."""
        for index, route in enumerate(routes):
            seq = route.seq
            if seq:
                first = position % len(seq)
                self.remove(routes, visited, index, set(seq[first : first + size]))

    def random_removal(self, routes: list[_Route], visited: set[int]) -> None:
        """Remove a random share of the visits of every route."""
        rng = self.rng
        for index, route in enumerate(routes):
            seq = route.seq
            if seq:
                count = rng.randint(1, max(1, int(len(seq) * REMOVE_SHARE)))
                self.remove(routes, visited, index, set(rng.sample(seq, count)))


def _total(routes: list[_Route]) -> int:
    return sum(route.score for route in routes)


def _mandatory_chain(
    problem: OrienteeringProblem, reach: TourReach, k: int
) -> list[int] | None:
    """The mandatory nodes that only tour ``k`` may visit, in an order that works:
    each next one the earliest-starting node that the previous one reaches in time
    (None when no such order is found)."""
    tour = problem.tours[k]
    nodes = [
        i
        for i, node in enumerate(problem.nodes)
        if node.mandatory and node.allowed_tours == frozenset({k})
    ]
    if not nodes or any(i not in reach.earliest for i in nodes):
        return None
    chain: list[int] = []
    here, now = tour.start, tour.earliest_departure
    left = set(nodes)
    while left:
        best: tuple[int, int] | None = None
        for i in left:
            node = problem.nodes[i]
            start = first_start(node.windows, now + problem.travel[here][i])
            if start is None:
                continue
            if best is None or (start, i) < best:
                best = (start, i)
        if best is None:
            return None
        start, i = best
        chain.append(i)
        left.remove(i)
        here, now = i, start + problem.nodes[i].service_min
    return chain


def run_ils(
    problem: OrienteeringProblem,
    reach: list[TourReach],
    seed: int,
    deadline: float,
    max_iterations: int | None = None,
    initial: list[list[int]] | None = None,
) -> list[list[int]] | None:
    """Return the best node sequences found (one per tour), or None.

    None means that no plan visiting every mandatory node was found. ``initial``
    (feasible sequences, e.g. CP-SAT's when the greedy start could not place the
    mandatory nodes) is where the search starts instead of the greedy start.
    """
    rng = random.Random(seed)
    search = RouteSearch(problem, reach, rng)
    routes: list[_Route] = []
    visited: set[int] = set()
    if initial is not None:
        for k, seq in enumerate(initial):
            route = search.make_route(k, list(seq))
            if route is None:
                return None
            routes.append(route)
            visited.update(seq)
    for k in range(len(routes), len(problem.tours)):
        # A tour's own mandatory nodes first, in an order their arcs allow: one at
        # a time they may not fit (a bus between two towns the tour's ends cannot
        # link directly; a day trip's way out and way back).
        chain = _mandatory_chain(problem, reach[k], k)
        route = None if not chain else search.make_route(k, chain)
        if route is not None:
            visited.update(chain)  # type: ignore[arg-type]
        else:
            route = search.make_route(k, [])
        if route is None:
            return None  # even the empty tour is late: leave it to CP-SAT
        routes.append(route)
    search.fill(routes, visited, mandatory_only=True)
    mandatory = {node.id for node in problem.nodes if node.mandatory}
    if not mandatory <= visited:
        return None
    search.fill(routes, visited)
    best = [list(r.seq) for r in routes]
    best_score = _total(routes)
    current = best
    current_score = best_score
    n_candidates = max(1, len(search.all_candidates))
    max_size = max(1, n_candidates // (3 * len(routes)))
    size, position = 1, 1
    stale = 0
    iteration = 0
    accept_share = ACCEPT_SHARES[0]
    everything = sum(search.score[i] for i in search.all_candidates)
    while time.perf_counter() < deadline and stale < _MAX_STALE:
        if best_score >= everything:
            break  # every candidate is visited: nothing left to gain
        if max_iterations is not None and iteration >= max_iterations:
            break
        iteration += 1
        if iteration % 2:
            search.shake(routes, visited, position, size)
            position += size
            size += 1
            shortest = min(len(r.seq) for r in routes) or 1
            if position >= shortest:
                position -= shortest
            if size > max_size:
                size = 1
        else:
            search.random_removal(routes, visited)
        search.exponent = rng.choice(EXPONENTS)
        search.fill(routes, visited, noise_level=NOISE if iteration % 3 else 0.0)
        score = _total(routes)
        if score > best_score:
            best_score = score
            best = [list(r.seq) for r in routes]
            size = 1
            stale = 0
        else:
            stale += 1
        # Record-to-record acceptance: keep walking from slightly worse plans,
        # otherwise go back to the current plan; restart from the best now and then.
        threshold = best_score - max(1, int(best_score * accept_share))
        restart = stale > 0 and stale % RESTART_EVERY == 0
        if restart:
            accept_share = rng.choice(ACCEPT_SHARES)
        if score >= threshold and not restart:
            current = [list(r.seq) for r in routes]
            current_score = score
        else:
            source = best if restart or current_score < threshold else current
            rebuilt = [search.make_route(k, seq) for k, seq in enumerate(source)]
            if all(r is not None for r in rebuilt):
                routes = [r for r in rebuilt if r is not None]
                visited = {j for r in routes for j in r.seq}
                current = [list(r.seq) for r in routes]
                current_score = _total(routes)
    return best
