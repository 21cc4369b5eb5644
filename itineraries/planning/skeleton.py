"""The trip's skeleton: where each night is spent and which rides link the places.

The order of towns is fixed (Cusco – Puno – Copacabana – La Paz, or back), so the
skeleton is a small search over days: each day the traveller stays, moves on by a
chain of timetabled rides that runs that date (arriving the same day), or takes a
night ride. Side trips sleep on a hub's satellites (Amantaní, Isla del Sol, …) and
come back.

Every skeleton gets an *upper bound* on what its days can be worth (experiences by
a fractional knapsack over each day's free minutes, the best night available, the
ride penalties). A backward dynamic programme gives, for every state, the exact
best bound of the remaining days; a best-first search then yields complete
skeletons in decreasing bound order. The planner solves the days of the best ones
exactly (the orienteering engine) until the next skeleton's bound cannot beat the
best plan found: the search over skeletons is then proven, and the reported bound
of the whole plan is honest.

When no skeleton exists, the reasons collected on the way (a train that does not
run that day, a border post closed when the bus would reach it, …) explain why.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

from django.utils.translation import gettext_noop

from itineraries.planning import objective
from itineraries.planning.messages import Msg, Text
from itineraries.planning.world import HUBS, Offer, Pace, PlanRequest, Ride, World

BOARDING_MIN = 20  # be at the terminal this long before a departure
ARRIVAL_REST_MIN = 30  # after a night ride, before the day starts
MAX_RIDES_PER_MOVE = 3
OPTIONS_PER_MOVE = 4
ALTITUDE_STEP_M = 500
ALTITUDE_RULE_ABOVE_M = 3000
ACCLIMATISATION_NIGHTS = 2
RIDES_FROM = dt.time(5, 0)  # a day's rides may leave from 05:30 (after boarding)
RIDES_UNTIL = dt.time(23, 30)  # ... and arrive by 23:30 unless they run overnight


@dataclass(frozen=True)
class Move:
    rides: tuple[Ride, ...]
    overnight: bool

    @property
    def depart(self) -> int:
        return self.rides[0].depart

    @property
    def arrive(self) -> int:
        return self.rides[-1].arrive

    @property
    def origin(self) -> str:
        return self.rides[0].origin

    @property
    def destination(self) -> str:
        return self.rides[-1].destination


@dataclass(frozen=True)
class DayPlan:
    """One calendar day of a skeleton."""

    index: int
    date: dt.date
    morning: str  # where the day starts
    start: int  # earliest minute the day's tour may leave
    end: int  # latest minute it must arrive
    move: Move | None
    evening: str  # where the day ends (the destination on the last day)
    night: str | None  # where the night is spent (None: on a night ride / last day)
    pace_morning: tuple[int, int] = (0, 0)  # the pace's day at the morning place
    pace_evening: tuple[int, int] = (0, 0)  # ... and at the evening place


@dataclass(frozen=True)
class Skeleton:
    days: tuple[DayPlan, ...]
    bound: int  # upper bound of the plan's points with this skeleton
    min_cost: int  # cheapest rides + cheapest nights, plan currency minor units

    @property
    def nights(self) -> list[str | None]:
        return [day.night for day in self.days[:-1]]


@dataclass(frozen=True)
class _State:
    day: int
    place: str
    start: int
    visited: frozenset[str]  # satellites already slept on
    altitude: int | None  # last sleeping altitude


@dataclass
class Diagnosis:
    """Why moves were impossible, for the explanation."""

    refusals: dict[tuple[str, str, dt.date], list[Msg]] = field(
        default_factory=lambda: defaultdict(list)
    )
    altitude: list[Msg] = field(default_factory=list)
    furthest: tuple[int, int, str] | None = None  # (progress, day, place)


class SkeletonSearch:
    def __init__(
        self,
        world: World,
        request: PlanRequest,
        *,
        currency: str,
        activity_values: dict[int, int],
        night_values: dict[tuple[str, dt.date], tuple[int, int]],
        offers_by_area: dict[str, list[Offer]],
    ) -> None:
        self.world = world
        self.request = request
        self.currency = currency
        self.activity_values = activity_values
        # (place, night date) -> (best night points, cheapest night cost)
        self.night_values = night_values
        self.offers_by_area = offers_by_area
        self.diagnosis = Diagnosis()
        first, last, self.active_cap = Pace.LIMITS[request.pace]
        self.day_first, self.day_last = first, last
        self.dates = [
            request.start_date + dt.timedelta(days=i) for i in range(request.days)
        ]
        self.direction = (
            1 if HUBS.index(request.destination) > HUBS.index(request.origin) else -1
        )
        self.hub_of: dict[str, str] = {hub: hub for hub in HUBS}
        for hub, satellites in world.satellites.items():
            for satellite in satellites:
                self.hub_of.setdefault(satellite, hub)
        rides_from: dict[tuple[str, dt.date], list[Ride]] = defaultdict(list)
        dropped = set(request.drop_rides)
        for ride in world.rides:
            if ride.key in dropped:
                continue
            day = world.date_of(ride.origin, ride.depart)
            rides_from[ride.origin, day].append(ride)
        for rides in rides_from.values():
            rides.sort(key=lambda r: (r.depart, r.key))
        self.rides_from = rides_from
        self._moves: dict[tuple[str, int, int], dict[str, list[Move]]] = {}
        self._move_values: dict[tuple, tuple[int, int]] = {}
        self._transitions: dict[_State, list] = {}
        # Per-search memoisation (functools.cache on the methods would keep every
        # search object alive for the life of the worker process).
        self.day_start = cache(self.day_start)  # type: ignore[method-assign]
        self.day_end = cache(self.day_end)  # type: ignore[method-assign]
        self.pace = cache(self.pace)  # type: ignore[method-assign]
        self._chains = cache(self._chains)  # type: ignore[method-assign]
        self._day_value = cache(self._day_value)  # type: ignore[method-assign]

    # --- geometry of the route --------------------------------------------------

    def progress(self, place: str) -> int:
        """How far along the route a place is (hub index in travel direction)."""
        index = HUBS.index(self.hub_of[place])
        return index if self.direction > 0 else len(HUBS) - 1 - index

    def targets(self, state: _State) -> list[str]:
        """Where the traveller may sleep next, moving forward along the route."""
        here = self.progress(state.place)
        low, high = (
            self.progress(self.request.origin),
            self.progress(self.request.destination),
        )
        targets = []
        for place in self.hub_of:
            if place == state.place or place not in self.world.places:
                continue
            hub = self.hub_of[place]
            step = self.progress(place)
            if not low <= step <= high:
                continue
            if place == hub:
                if step > here or (step == here and state.place != hub):
                    targets.append(place)
            elif place not in state.visited and step >= here:
                targets.append(place)
        return sorted(targets)

    # --- days and moves -----------------------------------------------------------

    def day_start(self, day: int, place: str) -> int:
        """Earliest a day's tour may leave: rides may be early whatever the pace."""
        return self.world.minute(place, self.dates[day], RIDES_FROM)

    def day_end(self, day: int, place: str) -> int:
        return self.world.minute(place, self.dates[day], RIDES_UNTIL)

    def pace(self, day: int, place: str) -> tuple[int, int]:
        """The pace's window for experiences on ``day`` at ``place``."""
        date = self.dates[day]
        return (
            self.world.minute(place, date, self.day_first),
            self.world.minute(place, date, self.day_last),
        )

    def _free(self, day: int, place: str, low: int, high: int) -> int:
        first, last = self.pace(day, place)
        return max(0, min(high, last) - max(low, first))

    def moves(self, state: _State) -> dict[str, list[Move]]:
        """Chains of rides leaving ``state.place`` on its day, by where they end."""
        key = (state.place, state.day, state.start)
        if key in self._moves:
            return self._moves[key]
        place_here = state.place
        result: dict[str, list[Move]] = {}
        for place, chains in self._chains(place_here, state.day).items():
            # Only the first ride depends on when the day starts here.
            chains = [
                c
                for c in chains
                if c[0].depart
                >= state.start
                + self.world.between(place_here, c[0].origin)
                + BOARDING_MIN
            ]
            same_day = [
                Move(c, False)
                for c in chains
                if state.day < len(self.dates)
                and c[-1].arrive + self.world.between(place, place)
                <= self.day_end(state.day, place)
            ]
            overnight = [
                Move(c, True)
                for c in chains
                if state.day + 1 < len(self.dates)
                and c[-1].arrive > self.day_end(state.day, place)
                and self.world.date_of(place, c[-1].arrive) == self.dates[state.day + 1]
            ]
            chosen = _representatives(same_day) + _representatives(overnight)
            if chosen:
                result[place] = chosen
        self._moves[key] = result
        return result

    def _chains(self, origin: str, day_index: int) -> dict[str, list[tuple[Ride, ...]]]:
        """Every chain of up to MAX_RIDES_PER_MOVE rides leaving ``origin`` on the day
        (from the earliest a day may start), by where it ends; ``moves`` keeps those
        whose first ride a given start can still board."""
        day = self.dates[day_index]
        latest_leave = self.day_end(day_index, origin)
        found: dict[str, list[tuple[Ride, ...]]] = defaultdict(list)

        def extend(place: str, ready: int, chain: tuple[Ride, ...]) -> None:
            if len(chain) == MAX_RIDES_PER_MOVE:
                return
            dates = {day}
            if chain:
                dates.add(self.world.date_of(place, ready))
            for ride_day in sorted(dates):
                for ride in self.rides_from.get((place, ride_day), ()):
                    earliest = ready + self.world.between(place, ride.origin)
                    if ride.depart < earliest + BOARDING_MIN:
                        continue
                    if not chain and ride.depart > latest_leave:
                        continue
                    if any(r.destination == ride.destination for r in chain):
                        continue
                    if ride.destination == origin:
                        continue
                    if not self._ride_usable(ride, day):
                        continue
                    new = (*chain, ride)
                    found[ride.destination].append(new)
                    extend(ride.destination, ride.arrive, new)

        extend(origin, self.day_start(day_index, origin), ())
        return dict(found)

    def _ride_usable(self, ride: Ride, day: dt.date) -> bool:
        reasons = self.diagnosis.refusals[ride.origin, ride.destination, day]
        if ride.passage is not None and not ride.passage.passable:
            for problem in ride.passage.problems:
                if problem not in reasons:
                    reasons.append(problem)
            return False
        if not ride.seats_ok:
            reasons.append(
                Msg(
                    gettext_noop("The %(mode)s from %(origin)s at %(time)s is full."),
                    {
                        "mode": ride.mode_name,
                        "origin": self.world.places[ride.origin].name,
                        "time": self.world.local(ride.origin, ride.depart).strftime(
                            "%H:%M"
                        ),
                    },
                )
            )
            return False
        return True

    # --- values -------------------------------------------------------------------

    def day_value(self, day: int, areas: tuple[str, ...], free: int) -> int:
        return self._day_value(day, tuple(sorted(set(areas))), max(0, free))

    def _day_value(self, day: int, areas: tuple[str, ...], free: int) -> int:
        """Fractional-knapsack bound of the experiences of ``areas`` on ``day``."""
        budget = min(free, self.active_cap)
        date = self.dates[day]
        items = []
        for area in areas:
            for offer in self.offers_by_area.get(area, ()):
                value = self.activity_values.get(offer.listing_id, 0)
                if value <= 0 or date not in offer.sessions:
                    continue
                if day == 0 and self.request.by_air and offer.strenuous:
                    continue
                items.append((value / max(1, offer.duration_min), value, offer))
        items.sort(key=lambda item: -item[0])
        total = 0.0
        for density, value, offer in items:
            if budget <= 0:
                break
            take = min(offer.duration_min, budget)
            total += value if take == offer.duration_min else density * take
            budget -= take
        return int(total + 0.999)

    def move_value(self, move: Move) -> tuple[int, int]:
        """(penalty points, party cost) of a move."""
        key = (tuple(r.key for r in move.rides), move.overnight)
        value = self._move_values.get(key)
        if value is None:
            value = self._move_values[key] = self._move_value(move)
        return value

    def _move_value(self, move: Move) -> tuple[int, int]:
        persons = self.request.persons
        cost = sum(
            self.world.rates.convert_minor(r.price_minor, r.currency, self.currency)
            for r in move.rides
        )
        usd = sum(
            self.world.rates.convert_minor(r.price_minor, r.currency, "USD")
            for r in move.rides
        )
        penalty = objective.ride_penalty(
            minutes=move.arrive - move.depart,
            usd_cents_per_person=usd // max(1, persons),
            overnight=move.overnight,
        )
        return penalty, cost

    # --- transitions --------------------------------------------------------------

    def initial(self) -> _State:
        origin = self.request.origin
        # The night before the trip is spent at the origin (or arriving there).
        altitude = self.world.places[origin].altitude_m
        return _State(0, origin, self.day_start(0, origin), frozenset(), altitude)

    def transitions(
        self, state: _State
    ) -> list[tuple[DayPlan, _State | None, int, int]]:
        """(day plan, next state or None at the end, points, cheapest cost); computed
        once per state (the value DP, the cost DP and the search all ask)."""
        found = self._transitions.get(state)
        if found is None:
            found = self._transitions[state] = list(self._transitions_of(state))
        return found

    def _transitions_of(
        self, state: _State
    ) -> Iterator[tuple[DayPlan, _State | None, int, int]]:
        n = len(self.dates)
        d, here = state.day, state.place
        date = self.dates[d]
        last = d == n - 1
        end_here = self.day_end(d, here)
        progress = self.progress(here)
        if (
            self.diagnosis.furthest is None
            or (progress, d) > self.diagnosis.furthest[:2]
        ):
            self.diagnosis.furthest = (progress, d, here)
        acclimatising = self.request.by_air and d < ACCLIMATISATION_NIGHTS
        if last and acclimatising:
            return  # the acclimatisation nights do not fit in the trip
        # Stay where we are (on the last day: only if this is the destination).
        pace_here = self.pace(d, here)
        stay_free = self._free(d, here, state.start, end_here)
        if last and here == self.request.destination:
            plan = DayPlan(
                d,
                date,
                here,
                state.start,
                end_here,
                None,
                here,
                None,
                pace_here,
                pace_here,
            )
            yield plan, None, self.day_value(d, (here,), stay_free), 0
        elif not last:
            night = self._night(state, here, d)
            if night is not None:
                points, cost, nxt = night
                plan = DayPlan(
                    d,
                    date,
                    here,
                    state.start,
                    end_here,
                    None,
                    here,
                    here,
                    pace_here,
                    pace_here,
                )
                value = self.day_value(d, (here,), stay_free)
                yield plan, nxt, value + points, cost
        if acclimatising:
            return
        targets = [self.request.destination] if last else self.targets(state)
        moves = self.moves(state) if targets else {}
        for target in targets:
            pace_there = self.pace(d, target)
            for move in moves.get(target, ()):
                if move.overnight and last:
                    continue
                penalty, ride_cost = self.move_value(move)
                before = self._free(d, here, state.start, move.depart - BOARDING_MIN)
                if move.overnight:
                    next_start = max(
                        move.arrive + ARRIVAL_REST_MIN, self.day_start(d + 1, target)
                    )
                    plan = DayPlan(
                        d,
                        date,
                        here,
                        state.start,
                        move.arrive + 10,
                        move,
                        target,
                        None,
                        pace_here,
                        pace_there,
                    )
                    value = self.day_value(d, (here,), before)
                    nxt = _State(
                        d + 1,
                        target,
                        next_start,
                        self._visited(state, target),
                        state.altitude,
                    )
                    yield plan, nxt, value - penalty, ride_cost
                    continue
                end = self.day_end(d, target)
                after = self._free(d, target, move.arrive + 10, end)
                value = self.day_value(d, (here, target), before + after) - penalty
                if last:
                    plan = DayPlan(
                        d,
                        date,
                        here,
                        state.start,
                        end,
                        move,
                        target,
                        None,
                        pace_here,
                        pace_there,
                    )
                    yield plan, None, value, ride_cost
                    continue
                night = self._night(state, target, d)
                if night is None:
                    continue
                points, cost, nxt = night
                plan = DayPlan(
                    d,
                    date,
                    here,
                    state.start,
                    end,
                    move,
                    target,
                    target,
                    pace_here,
                    pace_there,
                )
                yield plan, nxt, value + points, ride_cost + cost

    def _visited(self, state: _State, place: str) -> frozenset[str]:
        if place in HUBS:
            return state.visited
        return state.visited | {place}

    def _night(
        self, state: _State, place: str, d: int
    ) -> tuple[int, int, _State] | None:
        altitude = self.world.places[place].altitude_m
        if (
            state.altitude is not None
            and altitude > ALTITUDE_RULE_ABOVE_M
            and altitude - state.altitude > ALTITUDE_STEP_M
        ):
            self.diagnosis.altitude.append(
                Msg(
                    gettext_noop(
                        "Sleeping in %(place)s (%(altitude)s m) after a night at "
                        "%(previous)s m rises more than 500 m in one night."
                    ),
                    {
                        "place": self.world.places[place].name,
                        "altitude": altitude,
                        "previous": state.altitude,
                    },
                )
            )
            return None
        points, cost = self.night_values.get((place, self.dates[d]), (0, 0))
        nxt = _State(
            d + 1,
            place,
            self.day_start(d + 1, place),
            self._visited(state, place),
            altitude,
        )
        return points, cost, nxt

    # --- search -------------------------------------------------------------------

    def best_to_go(self) -> Callable[[_State], float]:
        memo: dict[_State, float] = {}

        def to_go(state: _State) -> float:
            if state in memo:
                return memo[state]
            best = float("-inf")
            for _plan, nxt, value, _cost in self.transitions(state):
                rest = 0.0 if nxt is None else to_go(nxt)
                best = max(best, value + rest)
            memo[state] = best
            return best

        return to_go

    def cheapest_to_go(self) -> Callable[[_State], float]:
        memo: dict[_State, float] = {}

        def to_go(state: _State) -> float:
            if state in memo:
                return memo[state]
            best = float("inf")
            for _plan, nxt, _value, cost in self.transitions(state):
                rest = 0.0 if nxt is None else to_go(nxt)
                best = min(best, cost + rest)
            memo[state] = best
            return best

        return to_go

    def skeletons(
        self,
        accept: Callable[[tuple[DayPlan, ...], int], bool],
        *,
        budget: int | None = None,
        deadline: float | None = None,
        max_expansions: int = 200_000,
    ) -> Iterator[Skeleton]:
        """Complete skeletons in non-increasing bound order (best-first search with an
        exact heuristic). Partial skeletons that cannot stay within ``budget`` are cut
        (exact cheapest cost to go); ``accept(days, cost)`` filters complete ones."""
        to_go = self.best_to_go()
        cheapest = self.cheapest_to_go() if budget is not None else None
        start = self.initial()
        head = to_go(start)
        if head == float("-inf"):
            return
        counter = itertools.count()
        queue: list[tuple[float, int, _State | None, int, int, tuple[DayPlan, ...]]] = [
            (-head, next(counter), start, 0, 0, ())
        ]
        expansions = 0
        while queue and expansions < max_expansions:
            if (
                deadline is not None
                and expansions % 256 == 0
                and time.perf_counter() > deadline
            ):
                return
            _, _, state, points, cost, days = heapq.heappop(queue)
            if state is None:
                if accept(days, cost):
                    yield Skeleton(days, points, cost)
                continue
            expansions += 1
            for plan, nxt, value, step_cost in self.transitions(state):
                rest = 0.0 if nxt is None else to_go(nxt)
                if rest == float("-inf"):
                    continue
                if cheapest is not None and budget is not None:
                    spent = cost + step_cost + (0 if nxt is None else cheapest(nxt))
                    if spent > budget:
                        continue
                total = points + value
                heapq.heappush(
                    queue,
                    (
                        -(total + rest),
                        next(counter),
                        nxt,
                        total,
                        cost + step_cost,
                        (*days, plan),
                    ),
                )


def _representatives(moves: list[Move]) -> list[Move]:
    """A few distinct options: earliest arrival, latest departure, cheapest-ish,
    and one around midday (frequent services would give dozens)."""
    if not moves:
        return []
    unique = {tuple(r.key for r in m.rides): m for m in moves}
    moves = sorted(unique.values(), key=lambda m: (m.arrive, -m.depart, len(m.rides)))
    picks: list[Move] = [moves[0]]
    picks.append(max(moves, key=lambda m: (m.depart, -m.arrive)))
    picks.append(
        min(moves, key=lambda m: (len(m.rides), m.arrive - m.depart, m.arrive))
    )
    middle = sorted(moves, key=lambda m: m.depart)[len(moves) // 2]
    picks.append(middle)
    seen: set[tuple[str, ...]] = set()
    result = []
    for move in picks:
        key = tuple(r.key for r in move.rides)
        if key not in seen:
            seen.add(key)
            result.append(move)
    return result[:OPTIONS_PER_MOVE]


def place_name(world: World, slug: str) -> Text:
    return world.places[slug].name
