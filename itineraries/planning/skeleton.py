"""The trip's skeleton: where each night is spent, how the traveller moves, and
which day trips they take.

The order of towns is fixed (Cusco – Puno – Copacabana – La Paz, or back), so the
skeleton is a search over days. Each day the traveller either stays where they slept
or moves on by a chain of *hops* (timetabled rides, or a transfer that runs at any
time), arriving the same day or on a night ride; on any day they may take one *day
trip* (an excursion) from where they are to a cluster of places nearby and back, by
rides or transfers. Side trips sleep on a hub's satellites (Amantaní, Isla del Sol,
Llachón, …).

Every transition is valued for ranking (:class:`DayValuer`): what the day's places
offer the traveller, with diminishing returns for time already spent in the same
cluster, the night (a new place is worth more than a further night in the same one,
a night in the destination before the last day more), and penalties (time on the
road, fares, night rides, early boarding, coming back to sleep in a base already
left). A backward dynamic programme gives, for every state, the exact best value of
the remaining days; a best-first search then yields complete skeletons in decreasing
value. The planner solves the days of the best distinct ones exactly (the
orienteering engine).

When no skeleton exists, the reasons collected on the way (a train that does not run
that day, a border post closed when the bus would reach it, …) explain why.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from django.utils.translation import gettext_noop

from itineraries.planning import objective
from itineraries.planning.messages import Msg
from itineraries.planning.world import (
    HUBS,
    WALK_HOURS,
    Link,
    Pace,
    PlanRequest,
    Ride,
    World,
)

BOARDING_MIN = 20  # be at the terminal this long before a departure
ARRIVAL_REST_MIN = 30  # after a night ride, before the day starts
MAX_HOPS_PER_MOVE = 3
OPTIONS_PER_MOVE = 3
EXCURSIONS_PER_CLUSTER = 2
MIN_EXCURSION_VISIT = 60  # a day trip leaves at least this long at its places
MIN_SEGMENT_MIN = 30
ALTITUDE_STEP_M = 500
ALTITUDE_RULE_ABOVE_M = 3000
ACCLIMATISATION_NIGHTS = 2
RIDES_FROM = dt.time(5, 0)  # a day's rides may leave from 05:20 (after boarding)
ARRIVE_BEFORE_DARK = dt.time(19, 0)  # transfers reach places other than hubs by then
SATELLITE_ARRIVE_BY = dt.time(17, 0)  # ... and a village to sleep in by then
RIDES_UNTIL = dt.time(23, 30)  # ... and arrive by 23:30 unless they run overnight


# --- the pieces of a day ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hop:
    """One movement: a timetabled ride (fixed time) or a link (any time in a window
    of departures). What the search asks of it millions of times is computed once."""

    ride: Ride | None = None
    link: Link | None = None
    earliest: int = 0  # earliest departure
    latest: int = 0  # latest departure (== earliest for a ride)
    minutes: int = field(init=False, compare=False)
    origin: str = field(init=False, compare=False)
    destination: str = field(init=False, compare=False)
    fixed: bool = field(init=False, compare=False)
    key: str = field(init=False, compare=False)
    arrive_earliest: int = field(init=False, compare=False)
    arrive_latest: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        move = self.ride if self.ride is not None else self.link
        assert move is not None
        minutes = move.minutes
        values = {
            "minutes": minutes,
            "origin": move.origin,
            "destination": move.destination,
            "fixed": self.ride is not None,
            "key": self.ride.key
            if self.ride is not None
            else f"{move.key}@{self.earliest}",
            "arrive_earliest": self.earliest + minutes,
            "arrive_latest": self.latest + minutes,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @staticmethod
    def of_ride(ride: Ride) -> Hop:
        return Hop(ride=ride, earliest=ride.depart, latest=ride.depart)


@dataclass(frozen=True, slots=True)
class Move:
    hops: tuple[Hop, ...]
    overnight: bool

    @property
    def rides(self) -> tuple[Ride, ...]:
        return tuple(h.ride for h in self.hops if h.ride is not None)

    @property
    def depart(self) -> int:
        return self.hops[0].earliest

    @property
    def arrive(self) -> int:
        return self.hops[-1].arrive_earliest

    @property
    def origin(self) -> str:
        return self.hops[0].origin

    @property
    def destination(self) -> str:
        return self.hops[-1].destination

    @property
    def road_minutes(self) -> int:
        return sum(h.minutes for h in self.hops)

    @property
    def signature(self) -> tuple:
        """What the move is without its exact times (boats at 07:30 or 08:00)."""
        hops = tuple(
            (h.ride.leg if h.ride else h.link.mode, h.origin, h.destination)  # type: ignore[union-attr]
            for h in self.hops
        )
        return (*hops, self.overnight)


@dataclass(frozen=True, slots=True)
class Excursion:
    """A day trip from ``base`` to the places of ``cluster`` and back."""

    base: str
    cluster: str
    go: Hop
    back: Hop

    @property
    def signature(self) -> tuple:
        return (self.base, self.cluster)


@dataclass(frozen=True, slots=True)
class Segment:
    """Time the traveller spends in one cluster on a day: experiences there may start
    from ``lo`` and end by ``hi``; ``limit`` caps the minutes usable (a day trip's
    flexible transfers share the day)."""

    cluster: str
    place: str
    lo: int
    hi: int
    limit: int


@dataclass(frozen=True, slots=True)
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
    excursion: Excursion | None = None
    segments: tuple[Segment, ...] = ()
    active_cap: int = 0  # the pace's active minutes this day (lighter after long rides)
    fixed_points: int = 0  # place points minus ride, early and ping-pong penalties
    stay_points: int = 0  # the best stay of the night (what the planner may reach)
    trip_points: int = 0  # the day trip's part of fixed_points
    plain_segments: tuple[Segment, ...] = ()  # the day's segments without its trip

    @property
    def hops(self) -> tuple[Hop, ...]:
        hops = self.move.hops if self.move else ()
        if self.excursion is not None:
            hops = (*hops, self.excursion.go, self.excursion.back)
        return hops

    @property
    def signature(self) -> tuple:
        return (
            self.night,
            self.evening,
            self.move.signature if self.move else None,
            self.excursion.signature if self.excursion else None,
        )


@dataclass(frozen=True, slots=True)
class Skeleton:
    days: tuple[DayPlan, ...]
    value: int  # the ranking value (estimate) of the whole plan
    min_cost: int  # cheapest rides + cheapest nights, plan currency minor units

    @property
    def nights(self) -> list[str | None]:
        return [day.night for day in self.days[:-1]]

    @property
    def signature(self) -> tuple:
        return tuple(day.signature for day in self.days)

    @property
    def bound(self) -> int:  # kept for callers reading the old name
        return self.value


@dataclass(frozen=True, slots=True)
class _State:
    day: int
    place: str
    start: int
    visited: frozenset[str]  # satellites slept on and clusters visited on day trips
    altitude: int | None  # last sleeping altitude
    slept: frozenset[tuple[str, int]]  # (place, nights) slept so far
    nights_here: int  # nights in a row at ``place``
    tired: bool  # arrived after a long ride (relaxed: a lighter day)


@dataclass
class Diagnosis:
    """Why moves were impossible, for the explanation."""

    refusals: dict[tuple[str, str, dt.date], list[Msg]] = field(
        default_factory=lambda: defaultdict(list)
    )
    altitude: list[Msg] = field(default_factory=list)
    furthest: tuple[int, int, str] | None = None  # (progress, day, place)


# --- values of a day's time -----------------------------------------------------------


@dataclass
class _Curve:
    """Experiences and sights for this traveller, best value per minute first: the
    fractional knapsack of any amount of time spent with them."""

    density: list[float]
    minutes: list[int]
    prefix: list[int]  # cumulative minutes before item i

    @staticmethod
    def of(pairs) -> _Curve:
        ranked = sorted(
            ((v / max(1, m), m) for v, m in pairs if v > 0 and m > 0),
            key=lambda x: -x[0],
        )
        prefix, total = [], 0
        for _d, m in ranked:
            prefix.append(total)
            total += m
        return _Curve([d for d, _ in ranked], [m for _, m in ranked], prefix)


Usable = Callable[[str, dt.date, int, int], tuple[tuple[object, int, int], ...]]
"""(cluster, date, lo, hi) → (key, points, minutes) of the experiences and sights
that can be done there from ``lo`` to ``hi`` (a session inside, room, the pace)."""


class DayValuer:
    """Values of time spent in clusters: the best value per minute of what can be
    done there in the day's windows (``value`` skips what earlier days probably used
    — a ranking estimate; ``bound`` does not — a valid bound of the day)."""

    def __init__(
        self, items: Mapping[str, list[tuple[int, int]]], usable: Usable | None = None
    ) -> None:
        """``items``: cluster → [(points, minutes)] of all its experiences and
        sights; ``usable``: what fits a window (None: everything fits)."""
        self.items = items
        self.usable = usable
        self.totals = {
            cluster: sum(m for v, m in pairs if v > 0 and m > 0)
            for cluster, pairs in items.items()
        }
        self._curves: dict[tuple, _Curve] = {}
        self._single: dict[tuple[int, int, int], int] = {}

    def total_minutes(self, cluster: str) -> int:
        return self.totals.get(cluster, 0)

    def curve(self, cluster: str, date: dt.date, windows: tuple) -> _Curve:
        key = (cluster, date, windows)
        found = self._curves.get(key)
        if found is None:
            if self.usable is None:
                pairs = self.items.get(cluster, [])
            else:
                seen: dict[object, tuple[int, int]] = {}
                for lo, hi in windows:
                    for item, points, minutes in self.usable(cluster, date, lo, hi):
                        seen[item] = (points, minutes)
                pairs = list(seen.values())
            found = self._curves[key] = _Curve.of(pairs)
        return found

    def value(
        self,
        segments: tuple[Segment, ...],
        date: dt.date,
        consumed: Mapping[str, int],
        cap: int,
    ) -> int:
        """Points of a day's ``segments`` with ``cap`` active minutes, skipping the
        first ``consumed`` minutes of each cluster's best."""
        by_cluster: dict[str, list[Segment]] = {}
        for segment in segments:
            by_cluster.setdefault(segment.cluster, []).append(segment)
        runs = []
        for cluster, parts in by_cluster.items():
            limit = sum(p.limit for p in parts)
            if limit <= 0:
                continue
            windows = tuple(sorted((p.lo, p.hi) for p in parts))
            runs.append(
                (self.curve(cluster, date, windows), consumed.get(cluster, 0), limit)
            )
        if len(runs) == 1:  # one cluster: its best in order, no merging
            curve, used, limit = runs[0]
            left = min(limit, cap)
            key = (id(curve), used, left)  # curves live as long as the valuer
            found = self._single.get(key)
            if found is not None:
                return found
            total = 0.0
            i = max(0, bisect.bisect_right(curve.prefix, used) - 1)
            minutes, density, prefix = curve.minutes, curve.density, curve.prefix
            while i < len(minutes) and left > 0:
                available = minutes[i] - max(0, used - prefix[i])
                if available > 0:
                    take = available if available < left else left
                    total += density[i] * take
                    left -= take
                i += 1
            self._single[key] = int(total)
            return int(total)
        pieces: list[tuple[float, int]] = []
        for curve, used, limit in runs:
            i = max(0, bisect.bisect_right(curve.prefix, used) - 1)
            left = limit
            minutes, density, prefix = curve.minutes, curve.density, curve.prefix
            while i < len(minutes) and left > 0:
                available = minutes[i] - max(0, used - prefix[i])
                if available > 0:
                    take = available if available < left else left
                    pieces.append((density[i], take))
                    left -= take
                i += 1
        pieces.sort(reverse=True)
        total = 0.0
        for density, minutes in pieces:
            if cap <= 0:
                break
            take = minutes if minutes < cap else cap
            total += density * take
            cap -= take
        return int(total)


# --- the search -----------------------------------------------------------------------


class SkeletonSearch:
    def __init__(
        self,
        world: World,
        request: PlanRequest,
        *,
        currency: str,
        valuer: DayValuer,
        night_values: dict[tuple[str, dt.date], tuple[int, int]],
        hop_value: Callable[[Hop, bool], tuple[int, int]],
        excursion_clusters: Mapping[str, tuple[str, ...]],
        links_from: Mapping[str, tuple[Link, ...]],
        via: str,
        local_minutes: Callable[[str, str], int] | None = None,
    ) -> None:
        self.world = world
        self.request = request
        self.currency = currency
        self.valuer = valuer
        # (place, night date) -> (best stay points, cheapest night cost)
        self.night_values = night_values
        self.hop_value = hop_value  # (hop, overnight) -> (penalty points, party cost)
        self.excursion_clusters = excursion_clusters  # base -> clusters to visit
        self.links_from = links_from
        self.via = via
        self.nights_cap = objective.ISLAND_NIGHTS_MAX + 1
        # Minutes between two places of one cluster (a walk, a short ride).
        self.local_minutes = local_minutes or (lambda a, b: 0)
        self.cluster_places: dict[str, list[str]] = defaultdict(list)
        for place, cluster in world.clusters.items():
            self.cluster_places[cluster].append(place)
        # Clusters on an island of the lake (reached only by water).
        self.island_clusters = {
            world.cluster(slug) for slug, info in world.places.items() if info.by_water
        }
        self.diagnosis = Diagnosis()
        self.exhausted = False  # set by skeletons(): every skeleton was yielded
        self.generated = 0
        self.budget_cut: int | None = None  # set by skeletons(): least cost cut
        self._passed_memo: dict[int, tuple] = {}
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
        self._progress: dict[str, int] = {}
        for place, hub in self.hub_of.items():
            index = HUBS.index(hub)
            self._progress[place] = (
                index if self.direction > 0 else len(HUBS) - 1 - index
            )
        rides_from: dict[tuple[str, dt.date], list[Ride]] = defaultdict(list)
        dropped = set(request.drop_rides)
        for ride in world.rides:
            if ride.key in dropped or not self._route_allowed(ride):
                continue
            day = world.date_of(ride.origin, ride.depart)
            rides_from[ride.origin, day].append(ride)
        for rides in rides_from.values():
            rides.sort(key=lambda r: (r.depart, r.key))
        self.rides_from = rides_from
        self._moves: dict[tuple[str, int, int], dict[str, list[Move]]] = {}
        self._excursions: dict[tuple, list[Excursion]] = {}
        self._transitions: dict[_State, list] = {}
        self._values: dict[tuple, int] = {}
        self._bounds: dict[tuple, int] = {}
        self._relevant: dict[int, frozenset[str]] = {}
        self._day_options: dict[tuple, tuple] = {}
        # Per-search memoisation (functools.cache on the methods would keep every
        # search object alive for the life of the worker process).
        self.day_start = cache(self.day_start)  # type: ignore[method-assign]
        self.day_end = cache(self.day_end)  # type: ignore[method-assign]
        self.pace = cache(self.pace)  # type: ignore[method-assign]
        self._chains = cache(self._chains)  # type: ignore[method-assign]

    def _route_allowed(self, ride: Ride) -> bool:
        route = ride.route
        if route is None or self.via == "any":
            return True
        return route == self.via

    # --- geometry of the route --------------------------------------------------

    def progress(self, place: str) -> int:
        """How far along the route a place is (hub index in travel direction)."""
        return self._progress[place]

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
            elif self.world.cluster(place) not in state.visited and step >= here:
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

    def _link_window(self, link: Link, day: int, ready: int) -> tuple[int, int] | None:
        """Departure window of ``link`` on ``day`` from ``ready`` on."""
        date = self.dates[day]
        opens_at, closes_at = link.opens, link.closes
        if link.mode == "walk":
            # On foot in daylight: leave after dawn, arrive before dark.
            opens_at = opens_at or WALK_HOURS[0]
            if closes_at is None:
                closes_at = WALK_HOURS[1]
                arrive_by = self.world.minute(link.destination, date, WALK_HOURS[1])
            else:
                arrive_by = self.day_end(day, link.destination)
        else:
            arrive_by = self.day_end(day, link.destination)
            if link.destination not in HUBS:
                # A village, an island or a site by road is reached before dark:
                # a homestay reached at night is a bed, not a visit.
                arrive_by = min(
                    arrive_by,
                    self.world.minute(link.destination, date, ARRIVE_BEFORE_DARK),
                )
        opens = self.world.minute(link.origin, date, opens_at or RIDES_FROM)
        closes = self.world.minute(link.origin, date, closes_at or dt.time(22, 0))
        latest = min(closes, arrive_by - link.minutes)
        earliest = max(opens, ready)
        if earliest > latest:
            return None
        return earliest, latest

    def moves(self, state: _State) -> dict[str, list[Move]]:
        """Chains of hops leaving ``state.place`` on its day, by where they end."""
        key = (state.place, state.day, state.start)
        if key in self._moves:
            return self._moves[key]
        place_here = state.place
        result: dict[str, list[Move]] = {}
        for place, chains in self._chains(place_here, state.day).items():
            usable = []
            for chain in chains:
                first = chain[0]
                ready = state.start + self.local_minutes(place_here, first.origin)
                if first.fixed:
                    if first.earliest < ready + BOARDING_MIN:
                        continue
                    usable.append(chain)
                    continue
                earliest = max(first.earliest, ready)
                if earliest > first.latest:
                    continue
                usable.append(
                    (
                        Hop(link=first.link, earliest=earliest, latest=first.latest),
                        *chain[1:],
                    )
                )
            same_day = [
                Move(c, False)
                for c in usable
                if c[-1].arrive_earliest <= self.day_end(state.day, place)
            ]
            overnight = [
                Move(c, True)
                for c in usable
                if c[-1].fixed
                and state.day + 1 < len(self.dates)
                and c[-1].arrive_earliest > self.day_end(state.day, place)
                and self.world.date_of(place, c[-1].arrive_earliest)
                == self.dates[state.day + 1]
            ]
            if self.request.pace == Pace.RELAXED:
                same_day = self._not_early(same_day, state.day)
                overnight = self._not_early(overnight, state.day)
                if same_day:
                    overnight = []  # relaxed travellers sleep in a bed
            chosen = _representatives(same_day) + _representatives(overnight)
            if self.request.pace == Pace.RELAXED and any(
                not self._early(m.hops[0], state.day) for m in chosen
            ):
                # No boarding before the pace's first hour when a later
                # departure to the same place is an option that day.
                chosen = [m for m in chosen if not self._early(m.hops[0], state.day)]
            if chosen:
                result[place] = chosen
        self._moves[key] = result
        return result

    def _not_early(self, moves: list[Move], day: int) -> list[Move]:
        """Relaxed travellers do not board before the pace's first hour (08:00)
        when the same line has a later departure that day (nor take a transfer that
        must leave that early to catch it)."""

        def early(move: Move) -> bool:
            # Minutes the traveller sets off before a ride: the transfers that
            # bring them to it (a colectivo from a village to Puno's port).
            lead = 0
            for index, hop in enumerate(move.hops):
                if hop.ride is None:
                    lead += hop.minutes + BOARDING_MIN
                    continue
                ride_date = self.world.date_of(hop.origin, hop.ride.depart)
                first = self.world.minute(hop.origin, ride_date, self.day_first)
                if hop.ride.depart - lead >= first:
                    lead = 0
                    continue
                later = any(
                    r.leg == hop.ride.leg
                    and r.depart - lead >= first
                    and self.world.date_of(r.destination, r.arrive) == ride_date
                    for r in self.rides_from.get((hop.origin, ride_date), ())
                )
                if later or (
                    index > 0 and self._later_way(hop.origin, ride_date, move, first)
                ):
                    return True
                lead = 0
            return False

        return [m for m in moves if not early(m)]

    def _later_way(self, place: str, date: dt.date, move: Move, first: int) -> bool:
        """Another way from ``place`` to the move's end that leaves from the pace's
        first hour and arrives that day: off a night bus at 05:45, a relaxed
        traveller takes the 08:00 minibus, not the 07:30 coach."""
        if date not in self.dates:
            return False
        day = self.dates.index(date)
        end = self.day_end(day, move.destination)
        return any(
            chain[0].latest >= first and chain[-1].arrive_earliest <= end
            for chain in self._chains(place, day).get(move.destination, ())
        )

    def _chains(self, origin: str, day_index: int) -> dict[str, list[tuple[Hop, ...]]]:
        """Every chain of up to MAX_HOPS_PER_MOVE hops leaving ``origin`` on the day
        (from the earliest a day may start), by where it ends. Links (transfers at
        any time) join satellites reached by road to the route: only as the first or
        the last hop, never between two hubs."""
        day = self.dates[day_index]
        latest_leave = self.day_end(day_index, origin)
        found: dict[str, list[tuple[Hop, ...]]] = defaultdict(list)
        overnight_places = set(self.hub_of)

        def extend(place: str, ready: int, chain: tuple[Hop, ...]) -> None:
            if len(chain) == MAX_HOPS_PER_MOVE:
                return
            seen = {h.destination for h in chain} | {origin}
            dates = {day}
            if chain:
                dates.add(self.world.date_of(place, ready))
            taken: set[str] = set()  # legs already continued on (a connection)
            for ride_day in sorted(dates):
                for ride in self.rides_from.get((place, ride_day), ()):
                    if ride.depart < ready + BOARDING_MIN:
                        continue
                    if not chain and ride.depart > latest_leave:
                        continue
                    if ride.destination in seen:
                        continue
                    if self._backwards(place, ride.destination):
                        continue  # never back along the route (Puno → Cusco → …)
                    # A connection takes the first run of each line: a later one
                    # only waits longer (the first ride of a move may be any).
                    if chain and ride.leg in taken:
                        continue
                    if not self._ride_usable(ride, day):
                        continue
                    if chain:
                        taken.add(ride.leg)
                    new = (*chain, Hop.of_ride(ride))
                    found[ride.destination].append(new)
                    extend(ride.destination, ride.arrive, new)
            # Links: from or to a satellite, as the first hop (its window may narrow
            # to meet the next ride) or as the last one.
            if chain and not chain[-1].fixed:
                return
            for link in self.links_from.get(place, ()):
                if link.destination in seen or link.destination not in overnight_places:
                    continue
                if link.destination in HUBS and place in HUBS:
                    continue
                window = self._link_window(link, day_index, ready)
                if window is None:
                    continue
                if link.destination not in HUBS:
                    # A night in a village is for seeing it: arrive with daylight
                    # left (not at dusk, to leave at dawn).
                    by = self.world.minute(
                        link.destination, self.dates[day_index], SATELLITE_ARRIVE_BY
                    )
                    window = (window[0], min(window[1], by - link.minutes))
                    if window[0] > window[1]:
                        continue
                hop = Hop(link=link, earliest=window[0], latest=window[1])
                new = (*chain, hop)
                found[link.destination].append(new)
                if not chain:
                    self._extend_after_link(hop, day_index, found, seen)

        # The first hop may leave from another place of the same cluster (the boat
        # from the island's other landing, reached on foot).
        start = self.day_start(day_index, origin)
        cluster = self.world.cluster(origin)
        for place in sorted(self.cluster_places.get(cluster, (origin,))):
            if place != origin and place in self.hub_of:
                continue  # another town to sleep in: a move of its own
            extend(place, start + self.local_minutes(origin, place), ())
        return dict(found)

    def _backwards(self, origin: str, destination: str) -> bool:
        """A ride that goes back along the route (towards the trip's origin)."""
        here = self._progress.get(origin)
        there = self._progress.get(destination)
        return here is not None and there is not None and there < here

    def _extend_after_link(self, hop: Hop, day_index: int, found, seen) -> None:
        """A first link followed by rides: the link must arrive before each ride."""
        day = self.dates[day_index]
        place = hop.destination
        for ride in self.rides_from.get((place, day), ()):
            latest = ride.depart - BOARDING_MIN - hop.minutes
            if latest < hop.earliest or ride.destination in seen:
                continue
            if self._backwards(place, ride.destination):
                continue
            if not self._ride_usable(ride, day):
                continue
            narrowed = Hop(
                link=hop.link, earliest=hop.earliest, latest=min(hop.latest, latest)
            )
            chain = (narrowed, Hop.of_ride(ride))
            found[ride.destination].append(chain)
            for ride2 in self.rides_from.get((ride.destination, day), ()):
                if ride2.depart < ride.arrive + BOARDING_MIN:
                    continue
                if self._backwards(ride.destination, ride2.destination):
                    continue
                if ride2.destination in seen or ride2.destination == place:
                    continue
                if not self._ride_usable(ride2, day):
                    continue
                found[ride2.destination].append((*chain, Hop.of_ride(ride2)))

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

    # --- day trips --------------------------------------------------------------------

    def excursions(
        self, base: str, day: int, lo: int, hi: int, lead: int = 0
    ) -> list[Excursion]:
        """Day trips from ``base`` leaving after ``lo`` and back by ``hi``; the day
        starts ``lead`` minutes before the way out (the transfer to the base)."""
        relaxed = self.request.pace == Pace.RELAXED
        if not relaxed:
            lead = 0  # only the relaxed choice reads it: one cache entry
        key = (base, day, lo, hi, lead)
        found = self._excursions.get(key)
        if found is not None:
            return found
        found = []
        for cluster in self.excursion_clusters.get(base, ()):
            options: list[Excursion] = []
            goes = self._hops_between(base, cluster, day, lo, hi, outward=True)
            backs = self._hops_between(base, cluster, day, lo, hi, outward=False)
            for go in goes:
                for back in backs:
                    start_there = go.arrive_earliest
                    if back.latest - start_there < MIN_EXCURSION_VISIT:
                        continue
                    if back.arrive_earliest > hi:
                        continue
                    if not go.fixed and not back.fixed:
                        # Both flexible: the engine places them; keep the window.
                        options.append(Excursion(base, cluster, go, back))
                        continue
                    if back.fixed and not go.fixed:
                        latest = back.earliest - MIN_EXCURSION_VISIT - go.minutes
                        if latest < go.earliest:
                            continue
                        go = Hop(
                            link=go.link,
                            earliest=go.earliest,
                            latest=min(go.latest, latest),
                        )
                    if go.fixed and not back.fixed:
                        earliest = go.arrive_earliest + MIN_EXCURSION_VISIT
                        if earliest > back.latest:
                            continue
                        back = Hop(
                            link=back.link,
                            earliest=max(back.earliest, earliest),
                            latest=back.latest,
                        )
                    options.append(Excursion(base, cluster, go, back))
            needed = min(self.valuer.total_minutes(cluster), self.active_cap) + 30
            if relaxed and options:
                first, _ = self.pace(day, base)
                later = [e for e in options if e.go.latest - lead >= first]
                options = later or options
            found.extend(_excursion_representatives(options, needed))
        self._excursions[key] = found
        return found

    def _hops_between(
        self, base: str, cluster: str, day: int, lo: int, hi: int, *, outward: bool
    ) -> list[Hop]:
        date = self.dates[day]
        hops: list[Hop] = []
        members = [p for p, c in self.world.clusters.items() if c == cluster]
        if outward:
            for ride in self.rides_from.get((base, date), ()):
                if (
                    self.world.cluster(ride.destination) == cluster
                    and ride.depart >= lo + BOARDING_MIN
                    and ride.arrive <= hi
                    and self._ride_usable(ride, date)
                ):
                    hops.append(Hop.of_ride(ride))
            for link in self.links_from.get(base, ()):
                if self.world.cluster(link.destination) == cluster:
                    window = self._link_window(link, day, lo)
                    if window is not None:
                        hops.append(
                            Hop(link=link, earliest=window[0], latest=window[1])
                        )
            return hops
        for place in members:
            for ride in self.rides_from.get((place, date), ()):
                if (
                    ride.destination == base
                    and ride.depart >= lo
                    and ride.arrive <= hi
                    and self._ride_usable(ride, date)
                ):
                    hops.append(Hop.of_ride(ride))
            for link in self.links_from.get(place, ()):
                if link.destination == base:
                    window = self._link_window(link, day, lo)
                    if (
                        window is not None
                        and window[1] + link.minutes <= hi + link.minutes
                    ):
                        latest = min(window[1], hi - link.minutes)
                        if latest >= window[0]:
                            hops.append(
                                Hop(link=link, earliest=window[0], latest=latest)
                            )
        return hops

    # --- values -------------------------------------------------------------------

    def move_value(self, move: Move) -> tuple[int, int]:
        """(penalty points, party cost) of a move."""
        penalty = cost = 0
        for i, hop in enumerate(move.hops):
            p, c = self.hop_value(hop, move.overnight and i == len(move.hops) - 1)
            penalty += p
            cost += c
        return penalty, cost

    def _early(self, hop: Hop, day: int, lead: int = 0) -> int:
        """Boarding before the pace's first hour (a transfer: when even its latest
        departure is that early), or setting off ``lead`` minutes earlier to
        reach it."""
        first, _ = self.pace(day, hop.origin)
        return objective.early_penalty(
            pace=self.request.pace, minutes_early=first - (hop.latest - lead)
        )

    def _day_value(self, state: _State, segments: tuple[Segment, ...], cap: int) -> int:
        """The ranking value of a day's segments: it skips what earlier days in
        the same clusters probably used (half a day's active minutes for the first
        night there, a whole day for each further night)."""
        clusters = {segment.cluster for segment in segments}
        nights: dict[str, int] = defaultdict(int)
        for place, count in state.slept:
            nights[self.world.cluster(place)] += count
        prior = tuple(
            sorted(
                (cluster, (n - 1) * self.active_cap + self.active_cap // 2)
                for cluster, n in nights.items()
                if n > 0 and cluster in clusters
            )
        )
        date = self.dates[state.day]
        # Segment tuples live in the options cache: their identity is a cheap key.
        key = (id(segments), date, prior, cap)
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = self.valuer.value(
                segments, date, dict(prior), cap
            )
        return found

    def day_bound(self, plan: DayPlan) -> int:
        """A valid bound of a day's experience and sight points: its segments'
        best, nothing assumed used before."""
        key = (id(plan.segments), plan.date, plan.active_cap)
        found = self._bounds.get(key)
        if found is None:
            found = self._bounds[key] = self.valuer.value(
                plan.segments, plan.date, {}, plan.active_cap
            )
        return found

    # --- transitions --------------------------------------------------------------

    def initial(self) -> _State:
        origin = self.request.origin
        # The night before the trip is spent at the origin (or arriving there).
        altitude = self.world.places[origin].altitude_m
        return _State(
            0,
            origin,
            self.day_start(0, origin),
            frozenset(),
            altitude,
            frozenset(),
            0,
            False,
        )

    def transitions(
        self, state: _State
    ) -> list[tuple[DayPlan, _State | None, int, int]]:
        """(day plan, next state or None at the end, value, cheapest cost); computed
        once per state (the value DP, the cost DP and the search all ask)."""
        found = self._transitions.get(state)
        if found is None:
            found = self._transitions[state] = list(self._transitions_of(state))
        return found

    def _segment(self, day: int, place: str, lo: int, hi: int) -> Segment | None:
        first, last = self.pace(day, place)
        lo, hi = max(lo, first), min(hi, last)
        if hi - lo < MIN_SEGMENT_MIN:
            return None
        return Segment(self.world.cluster(place), place, lo, hi, hi - lo)

    def _move_segments(
        self, d: int, state: _State, move: Move, relaxed_tired: bool
    ) -> list[Segment]:
        segments = []
        before = self._segment(
            d, state.place, state.start, move.hops[0].latest - BOARDING_MIN
        )
        if before:
            segments.append(before)
        for a, b in itertools.pairwise(move.hops):
            middle = self._segment(
                d, a.destination, a.arrive_earliest, b.latest - BOARDING_MIN
            )
            if middle:
                segments.append(middle)
        if not move.overnight and not relaxed_tired:
            after = self._segment(
                d, move.destination, move.arrive, self.day_end(d, move.destination)
            )
            if after:
                segments.append(after)
        return segments

    def _with_excursion(
        self,
        d: int,
        base: str,
        lo: int,
        hi: int,
        segments: list[Segment],
        visited: frozenset[str],
        lead: int = 0,
    ) -> Iterator[tuple[Excursion | None, tuple[Segment, ...], int, int]]:
        """The day's segments without a day trip, and with each possible one:
        (excursion, segments, points (new place minus transport), cost). The day
        sets off ``lead`` minutes before the way out (a transfer to the base)."""
        yield None, tuple(segments), 0, 0
        for excursion in self.excursions(base, d, lo, hi, lead):
            if excursion.cluster in visited:
                continue  # the same day trip twice adds nothing
            go, back = excursion.go, excursion.back
            away = self._segment(
                d,
                go.destination,
                go.arrive_earliest,
                back.latest - (BOARDING_MIN if back.fixed else 0),
            )
            if away is None:
                continue
            if not go.fixed or not back.fixed:
                spare = (back.latest - go.earliest) - go.minutes
                away = Segment(
                    away.cluster, away.place, away.lo, away.hi, min(away.limit, spare)
                )
            # The base's own time shrinks to what is left around the trip.
            base_time = max(0, go.latest - lo) + max(0, hi - back.arrive_earliest)
            kept = []
            for segment in segments:
                if segment.cluster == self.world.cluster(base):
                    limit = min(segment.limit, base_time)
                    if limit < MIN_SEGMENT_MIN:
                        continue
                    segment = Segment(
                        segment.cluster, segment.place, segment.lo, segment.hi, limit
                    )
                kept.append(segment)
            p1, c1 = self.hop_value(go, False)
            p2, c2 = self.hop_value(back, False)
            points = (
                objective.NEW_PLACE_VISIT_POINTS - p1 - p2 - self._early(go, d, lead)
            )
            if excursion.cluster in self.island_clusters:
                points += objective.ISLAND_POINTS
            yield excursion, (*kept, away), points, c1 + c2

    def _day_cap(self, state: _State) -> int:
        cap = self.active_cap
        if state.tired and self.request.pace == Pace.RELAXED:
            cap = int(cap * objective.LONG_RIDE_NEXT_DAY_SHARE)
        if self.request.by_air and state.day == 0:
            cap = min(cap, self.active_cap // 2)
        return cap

    def _options(self, d: int, here: str, start: int):
        """What a day can be from ``here`` at ``start``, whatever came before:
        (stay options, move options); cached per (day, place, start)."""
        key = (d, here, start)
        found = self._day_options.get(key)
        if found is not None:
            return found
        last = d == len(self.dates) - 1
        end_here = self.day_end(d, here)
        relaxed = self.request.pace == Pace.RELAXED
        stays = []
        if not last or here == self.request.destination:
            stay_segment = self._segment(d, here, start, end_here)
            segments = [stay_segment] if stay_segment else []
            stays = list(
                self._with_excursion(d, here, start, end_here, segments, frozenset())
            )
        moves = []
        probe = _State(d, here, start, frozenset(), None, frozenset(), 0, False)
        all_targets = [self.request.destination] if last else self.targets(probe)
        by_target = self.moves(probe) if all_targets else {}
        for target in all_targets:
            for move in by_target.get(target, ()):
                if move.overnight and last:
                    continue
                penalty, ride_cost = self.move_value(move)
                penalty += self._early(move.hops[0], d)
                long_ride = (
                    move.road_minutes >= objective.LONG_RIDE_MIN or move.overnight
                )
                segments = self._move_segments(d, probe, move, relaxed and long_ride)
                if move.overnight:
                    options = [(None, tuple(segments), 0, 0)]
                else:
                    end = self.day_end(d, target)
                    options = [(None, tuple(segments), 0, 0)]
                    if not (relaxed and long_ride) and end - move.arrive >= 4 * 60:
                        # A transfer to the base (no timetable) leaves as late as
                        # the day trip allows: the day starts that much earlier.
                        lead = (
                            sum(h.minutes for h in move.hops) + BOARDING_MIN
                            if not any(h.fixed for h in move.hops)
                            else 0
                        )
                        options = list(
                            self._with_excursion(
                                d,
                                target,
                                move.arrive,
                                end,
                                segments,
                                frozenset(),
                                lead,
                            )
                        )
                moves.append((target, move, penalty, ride_cost, long_ride, options))
        found = self._day_options[key] = (stays, moves)
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
        cap = self._day_cap(state)
        visited = state.visited
        stays, moves = self._options(d, here, state.start)
        # The day's segments without a day trip (to drop an empty one later).
        plain: dict[object, tuple[Segment, ...]] = {}
        if stays:
            plain[None] = stays[0][1]
        for _target, move, _p, _c, _l, options in moves:
            plain[move] = options[0][1]

        def day(move, evening, night, excursion, segments, end, fixed, stay, trip=0):
            value = self._day_value(state, segments, cap)
            plan = DayPlan(
                d,
                date,
                here,
                state.start,
                end,
                move,
                evening,
                night,
                excursion,
                segments,
                cap,
                fixed,
                stay,
                trip,
                plain.get(move, segments) if excursion is not None else segments,
            )
            return plan, value

        # Stay where we are (on the last day: only if this is the destination).
        if stays:
            night = None if last else self._night(state, here, d)
            if last or night is not None:
                for excursion, day_segments, ex_points, ex_cost in stays:
                    if excursion is not None and (
                        acclimatising or excursion.cluster in visited
                    ):
                        continue
                    if last:
                        plan, value = day(
                            None,
                            here,
                            None,
                            excursion,
                            day_segments,
                            end_here,
                            ex_points,
                            0,
                            ex_points,
                        )
                        yield plan, None, value + ex_points, ex_cost
                        continue
                    stay, place_points, cost, nxt = night  # type: ignore[misc]
                    plan, value = day(
                        None,
                        here,
                        here,
                        excursion,
                        day_segments,
                        end_here,
                        ex_points + place_points,
                        stay,
                        ex_points,
                    )
                    if excursion is not None:
                        nxt = replace(
                            nxt,
                            visited=nxt.visited
                            | {excursion.cluster}
                            | self._passed_on(excursion),
                        )
                    nxt = self._normal(nxt)
                    total = value + ex_points + place_points + stay
                    yield plan, nxt, total, cost + ex_cost
        if acclimatising or not moves:
            return
        allowed = set(self.targets(state)) if not last else {self.request.destination}
        nights: dict[str, object] = {}
        for target, move, penalty, ride_cost, long_ride, options in moves:
            if target not in allowed:
                continue
            through, passed = self._passed(move)
            if through & visited:
                continue  # back through an island already seen (Taquile twice)
            if move.overnight:
                (_, segments, _, _) = options[0]
                next_start = max(
                    move.arrive + ARRIVAL_REST_MIN, self.day_start(d + 1, target)
                )
                plan, value = day(
                    move,
                    target,
                    None,
                    None,
                    segments,
                    move.arrive + 10,
                    -penalty,
                    0,
                )
                nxt = self._normal(
                    _State(
                        d + 1,
                        target,
                        next_start,
                        self._visited(state, target) | passed,
                        state.altitude,
                        state.slept,
                        0,
                        True,
                    )
                )
                yield plan, nxt, value - penalty, ride_cost
                continue
            end = self.day_end(d, target)
            night = None
            if not last:
                if target not in nights:
                    nights[target] = self._night(state, target, d)
                night = nights[target]
                if night is None:
                    continue
            for excursion, day_segments, ex_points, ex_cost in options:
                if excursion is not None and excursion.cluster in visited:
                    continue
                if last:
                    plan, value = day(
                        move,
                        target,
                        None,
                        excursion,
                        day_segments,
                        end,
                        ex_points - penalty,
                        0,
                        ex_points,
                    )
                    yield plan, None, value + ex_points - penalty, ride_cost + ex_cost
                    continue
                stay, place_points, cost, nxt = night  # type: ignore[misc]
                plan, value = day(
                    move,
                    target,
                    target,
                    excursion,
                    day_segments,
                    end,
                    ex_points + place_points - penalty,
                    stay,
                    ex_points,
                )
                if excursion is not None:
                    nxt = replace(
                        nxt,
                        visited=nxt.visited
                        | {excursion.cluster}
                        | self._passed_on(excursion),
                    )
                if passed - nxt.visited:
                    nxt = replace(nxt, visited=nxt.visited | passed)
                nxt = self._normal(replace(nxt, tired=long_ride))
                total = value + ex_points + place_points - penalty + stay
                yield plan, nxt, total, ride_cost + cost + ex_cost

    def _passed(self, move: Move) -> tuple[frozenset[str], frozenset[str]]:
        """The clusters of the places (not hubs) a move changes rides at, and of
        those plus the stops of its rides (Taquile on the Amantaní boat back to
        Puno, the Uros on the way out): seen, so no day trip goes there again.
        Once per move (moves are cached and asked for by many states)."""
        kept = self._passed_memo.get(id(move))
        if kept is None:
            changes = [h.destination for h in move.hops[:-1]]
            stops = [s.place for h in move.hops if h.ride for s in h.ride.stops]
            found = (self._clusters_of(changes), self._clusters_of(changes + stops))
            kept = self._passed_memo[id(move)] = (move, found)  # keeps it alive
        return kept[1]

    def _passed_on(self, excursion: Excursion) -> frozenset[str]:
        """What a day trip passes on its way out and back (its own cluster too);
        once per (cached) excursion."""
        kept = self._passed_memo.get(id(excursion))
        if kept is None:
            hops = (excursion.go, excursion.back)
            stops = [s.place for h in hops if h.ride for s in h.ride.stops]
            found = self._clusters_of([excursion.go.destination, *stops])
            kept = self._passed_memo[id(excursion)] = (excursion, found)
        return kept[1]

    def _clusters_of(self, places: list[str]) -> frozenset[str]:
        return frozenset(
            self.world.cluster(p)
            for p in places
            if p not in HUBS and p in self.world.places
        )

    def _normal(self, state: _State) -> _State:
        """The state without history that can no longer matter: nights and visits
        of parts of the route left behind (the route only moves forward), and night
        counts beyond what changes a value."""
        here = self.progress(state.place)
        relevant = self._relevant.get(here)
        if relevant is None:
            ahead = {p for p in self.hub_of if self.progress(p) >= here}
            clusters = {self.world.cluster(p) for p in ahead}
            for base in ahead:
                clusters.update(self.excursion_clusters.get(base, ()))
            relevant = self._relevant[here] = frozenset(clusters)
        progress = self._progress
        slept = frozenset(
            (place, min(count, 3))
            for place, count in state.slept
            if progress[place] == here
        )
        visited = frozenset(v for v in state.visited if v in relevant)
        if slept == state.slept and visited == state.visited:
            return state
        return replace(state, slept=slept, visited=visited)

    def _visited(self, state: _State, place: str) -> frozenset[str]:
        if place in HUBS:
            return state.visited
        return state.visited | {self.world.cluster(place)}

    def _night(
        self, state: _State, place: str, d: int
    ) -> tuple[int, int, int, _State] | None:
        """(best stay points, place points, cheapest cost, next state) of a night
        at ``place`` after day ``d``, or None when the night is not allowed."""
        request = self.request
        if request.keep_nights and d < len(request.keep_nights):
            wanted = request.keep_nights[d]
            if wanted is not None and wanted != place:
                return None
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
        same = place == state.place and d > 0
        # Counted up to one past the island limit, the only rule that reads it:
        # longer stays in a hub are one state, not one per night.
        nights_here = min(state.nights_here + 1, self.nights_cap) if same else 1
        if place not in HUBS and nights_here > objective.ISLAND_NIGHTS_MAX:
            return None
        slept = dict(state.slept)
        before = slept.get(place, 0)
        stay, cost = self.night_values.get((place, self.dates[d]), (0, 0))
        points = objective.place_night_points(before)
        if (
            before == 0
            and self.world.cluster(place) in self.island_clusters
            and self.world.cluster(place) not in state.visited
        ):
            points += objective.ISLAND_POINTS
        if place == request.destination and before == 0:
            points += objective.DESTINATION_NIGHT_POINTS
        if before and not same:
            points -= objective.PING_PONG_POINTS
        if not same and d > 0:
            points -= objective.CHANGE_OF_BED_POINTS
        slept[place] = before + 1
        nxt = _State(
            d + 1,
            place,
            self.day_start(d + 1, place),
            self._visited(state, place),
            altitude,
            frozenset(slept.items()),
            nights_here,
            False,
        )
        return stay, points, cost, nxt

    # --- search -------------------------------------------------------------------

    @staticmethod
    def canonical(state: _State, *, rank: bool = False) -> _State:
        """The most optimistic state at the same day, place and start: nothing
        visited, no altitude, nothing slept, not tired. Every transition of a real
        state is one of the canonical state's, worth no more, to a state with the
        same canonical form; so a dynamic programme over canonical states gives
        bounds (an upper bound of the value, a lower bound of the cost) of every real
        state. It has a few hundred states where the real search has tens of
        thousands.

        With ``rank`` the state keeps its nights at the current place (in a row and
        in all): no longer a bound, but a much better estimate of the rest of the
        trip for ranking partial skeletons (a fifth night in La Paz is not worth a
        first one)."""
        if rank:
            slept = frozenset(x for x in state.slept if x[0] == state.place)
            return _State(
                state.day,
                state.place,
                state.start,
                frozenset(),
                None,
                slept,
                state.nights_here,
                False,
            )
        return _State(
            state.day,
            state.place,
            state.start,
            frozenset(),
            None,
            frozenset(),
            0,
            False,
        )

    def best_to_go(
        self,
        value_of: Callable[[DayPlan, int], float] | None = None,
        *,
        rank: bool = False,
    ) -> Callable[[_State], float]:
        """An upper bound of the best total of the remaining days from a state: of
        the ranking value, or of ``value_of(day plan, ranking value)`` (e.g. a bound
        of the points), over canonical states. -inf: no way to finish at all."""
        memo: dict[tuple, float] = {}

        def to_go(state: _State) -> float:
            key = _canonical_key(state, rank)
            found = memo.get(key)
            if found is not None:
                return found
            best = float("-inf")
            for plan, nxt, value, _cost in self.transitions(
                self.canonical(state, rank=rank)
            ):
                rest = 0.0 if nxt is None else to_go(nxt)
                if rest == float("-inf"):
                    continue
                own = value if value_of is None else value_of(plan, value)
                best = max(best, own + rest)
            memo[key] = best
            return best

        return to_go

    def cheapest_to_go(self) -> Callable[[_State], float]:
        """A lower bound of the cheapest cost of the remaining days (canonical)."""
        memo: dict[tuple, float] = {}

        def to_go(state: _State) -> float:
            key = _canonical_key(state, False)
            found = memo.get(key)
            if found is not None:
                return found
            best = float("inf")
            for _plan, nxt, _value, cost in self.transitions(self.canonical(state)):
                rest = 0.0 if nxt is None else to_go(nxt)
                best = min(best, cost + rest)
            memo[key] = best
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
        """Complete skeletons in non-increasing value order: an A* search over the
        real states with the canonical programme's upper bound as its heuristic
        (admissible, so a complete skeleton leaves the queue only when no partial one
        can beat it). Partial skeletons that cannot stay within ``budget`` are cut
        (the canonical cheapest cost to go is a lower bound); ``accept(days, cost)``
        filters complete ones. ``exhausted`` says whether every skeleton was seen;
        ``generated`` counts complete skeletons before ``accept``."""
        to_go = self.best_to_go()
        cheapest = self.cheapest_to_go() if budget is not None else None
        start = self.initial()
        head = to_go(start)
        self.exhausted = False
        self.generated = 0
        self.budget_cut = None
        if head == float("-inf"):
            self.exhausted = True
            return
        counter = itertools.count()
        queue: list[tuple[float, int, _State | None, int, int, tuple[DayPlan, ...]]] = [
            (-head, next(counter), start, 0, 0, ())
        ]
        expansions = 0
        while queue and expansions < max_expansions:
            if (
                deadline is not None
                and expansions % 64 == 0
                and time.perf_counter() > deadline
            ):
                return
            _, _, state, points, cost, days = heapq.heappop(queue)
            if state is None:
                self.generated += 1
                if not queue:
                    self.exhausted = True
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
                        if self.budget_cut is None or spent < self.budget_cut:
                            self.budget_cut = int(spent)
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
        if not queue:
            self.exhausted = True

    def beam(
        self,
        accept: Callable[[tuple[DayPlan, ...], int], bool],
        *,
        budget: int | None = None,
        deadline: float | None = None,
        width: int = 48,
        bonus: Callable[[DayPlan], int] | None = None,
    ) -> list[Skeleton]:
        """Good distinct skeletons in bounded time: a beam search over days that
        keeps, each day, the ``width`` best partial skeletons by value so far plus
        the canonical bound of the rest, one per state (two partial skeletons in the
        same state have the same future: the lower one can never win). ``bonus``
        adds ranking points to a day (must-sees it reaches, rides to keep) without
        counting in the skeleton's value. Returns complete skeletons that ``accept``
        takes, best first; empty when none was found (which proves nothing: the
        exhaustive :meth:`skeletons` can)."""
        to_go = self.best_to_go(rank=True)
        cheapest = self.cheapest_to_go() if budget is not None else None
        start = self.initial()
        if to_go(start) == float("-inf"):
            return []
        # (rank, value, cost, state, days)
        frontier: list[tuple[float, int, int, _State, tuple[DayPlan, ...]]] = [
            (to_go(start), 0, 0, start, ())
        ]
        complete: list[tuple[int, int, tuple[DayPlan, ...]]] = []
        for _day in range(len(self.dates)):
            if deadline is not None and time.perf_counter() > deadline:
                break
            best: dict[tuple, tuple[float, int, int, _State, tuple[DayPlan, ...]]] = {}
            for _rank, points, cost, state, days in frontier:
                extra = sum(bonus(d) for d in days) if bonus else 0
                for plan, nxt, value, step_cost in self.transitions(state):
                    total = points + value
                    spent = cost + step_cost
                    if nxt is None:
                        complete.append((total, spent, (*days, plan)))
                        continue
                    rest = to_go(nxt)
                    if rest == float("-inf"):
                        continue
                    if (
                        cheapest is not None
                        and budget is not None
                        and spent + cheapest(nxt) > budget
                    ):
                        continue
                    plus = extra + (bonus(plan) if bonus else 0)
                    rank = total + rest + plus
                    key = (nxt, plus)
                    if key not in best or best[key][0] < rank:
                        best[key] = (rank, total, spent, nxt, (*days, plan))
            frontier = heapq.nlargest(width, best.values(), key=lambda item: item[0])
            if not frontier:
                break
        found = []
        for total, spent, days in sorted(complete, key=lambda c: -c[0]):
            if len(days) == len(self.dates) and accept(days, spent):
                found.append(Skeleton(days, total, spent))
        return found


def _canonical_key(state: _State, rank: bool) -> tuple:
    if rank:
        return (
            state.day,
            state.place,
            state.start,
            state.nights_here,
            tuple(x for x in state.slept if x[0] == state.place),
        )
    return (state.day, state.place, state.start)


def _representatives(moves: list[Move]) -> list[Move]:
    """A few distinct options: earliest arrival, latest departure, cheapest-ish,
    and one around midday (frequent services would give dozens)."""
    if not moves:
        return []
    unique = {tuple(h.key for h in m.hops): m for m in moves}
    moves = sorted(unique.values(), key=lambda m: (m.arrive, -m.depart, len(m.hops)))
    picks: list[Move] = [moves[0]]
    picks.append(max(moves, key=lambda m: (m.depart, -m.arrive)))
    picks.append(min(moves, key=lambda m: (len(m.hops), m.arrive - m.depart, m.arrive)))
    middle = sorted(moves, key=lambda m: m.depart)[len(moves) // 2]
    picks.append(middle)
    seen: set[tuple[str, ...]] = set()
    result = []
    for move in picks:
        key = tuple(h.key for h in move.hops)
        if key not in seen:
            seen.add(key)
            result.append(move)
    return result[:OPTIONS_PER_MOVE]


def _excursion_representatives(
    options: list[Excursion], needed: int
) -> list[Excursion]:
    """The longest time there, the shortest that holds what the places offer
    (``needed`` minutes), the latest start and the earliest return."""
    if not options:
        return []

    def away(e: Excursion) -> int:
        return e.back.latest - e.go.arrive_earliest

    longest = max(options, key=lambda e: (away(e), -e.go.earliest))
    enough = [e for e in options if away(e) >= needed]
    snug = min(enough, key=lambda e: (away(e), e.go.earliest)) if enough else longest
    latest_start = max(options, key=lambda e: (e.go.earliest, e.back.latest))
    earliest_back = min(options, key=lambda e: (e.back.latest, -e.go.earliest))
    result, seen = [], set()
    for excursion in (snug, longest, latest_start, earliest_back):
        key = (excursion.go.key, excursion.back.key)
        if key not in seen:
            seen.add(key)
            result.append(excursion)
    return result[:EXCURSIONS_PER_CLUSTER]


def place_name(world: World, slug: str):
    return world.places[slug].name
