"""From a request and a world snapshot to a plan (or the reason there is none).

1. Value every experience, sight and night for this traveller (:mod:`objective`),
   find how places connect (rides, transfers, day trips out and back).
2. Enumerate skeletons best first (:mod:`skeleton`), keep the distinct ones (two
   skeletons that differ only in a boat's time are one), and order them by a valid
   bound of what each can be worth (every experience counted once over the trip).
3. Choose the nights' stays and solve the days of the best skeletons exactly with
   the orienteering engine (:mod:`itineraries.solver`): one tour per day from the
   morning's place to the evening's; rides and the transfers of day trips as
   mandatory visits; experiences and sights inside their windows, with free
   capacity, inside the pace; moving between places only where a ride or transfer
   exists; and the budget.
4. Stop when the next skeleton's bound cannot beat the best plan, or the search
   limits are reached; render the best plan as a continuous path, day by day, with
   local times, and check it independently (:mod:`validate`).

An overland trip between Peru and Bolivia crosses at Kasani and passes Copacabana
unless the request's ``via`` says otherwise; when that route cannot be done, the plan
crosses at Desaguadero and says why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import heapq
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext_noop

from itineraries.planning import objective
from itineraries.planning.messages import Msg, Text
from itineraries.planning.skeleton import (
    ACCLIMATISATION_NIGHTS,
    BOARDING_MIN,
    MIN_EXCURSION_VISIT,
    DayPlan,
    DayValuer,
    Hop,
    Skeleton,
    SkeletonSearch,
)
from itineraries.planning.validate import PlanBugError, validate_plan
from itineraries.planning.world import (
    HUBS,
    LOCAL_MIN,
    UNLIMITED,
    WALK_HOURS,
    ItemKey,
    Link,
    Offer,
    Pace,
    PlanRequest,
    Ride,
    World,
    sight_key,
)
from itineraries.solver import (
    Node,
    OrienteeringProblem,
    SolverParams,
    SolveStatus,
    Tour,
    solve,
)

MAX_SKELETONS = 6  # distinct skeletons whose days are solved with the engine
MAX_LOOKED = 60  # distinct skeletons whose bound is computed
BEAM_WIDTH = 48  # partial skeletons kept per day by the beam search (at most)
BEAM_MIN_WIDTH = 16
BEAM_WORK = 672  # beam width times days (48 up to two weeks: narrower beams missed
# better skeletons of long trips, e.g. a whole 14-day packed trip around the lake)
INCLUDE_BONUS = 5000  # ranking points of a day that reaches a must-see
EMPTY_TRIP_POINTS = 300  # a day trip with nothing done there
PIN_POINTS = 3000  # a re-plan's kept experience or sight: kept whenever it fits
LONG_WALK_MIN = 60  # a walk (or transfer) inside a cluster this long is "the" walk
MAX_LINKS = 3  # links in one connection inside a cluster
MAX_REPAIRS = 5  # rounds of forbidding long walks and covered sights, solving again
# Prices per active minute tried for the trip-level bound (quantiles of the
# experiences' points per minute).
MINUTE_PRICE_QUANTILES = (0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95)
LOOK_SHARE = 0.35  # share of the time limit for enumerating skeletons
# Engine effort per skeleton, in seconds of the engine's deterministic work budget
# (iterations, not the wall clock, so a plan does not depend on the machine's load;
# the time limit stays a safety net). Measured on the route-scale benchmark.
SKELETON_SECONDS = 0.1
CANDIDATES_PER_CLUSTER = 30
FORBIDDEN = 10**6  # travel time of an arc that does not exist
ROAD_FACTOR = 1.35  # road distance over great-circle distance (estimates)
ROAD_KMH = 40
ESTIMATE_MAX_MIN = 4 * 60  # day trips on estimated transfers: at most this each way
DEFAULT_ESTIMATE_PRICE = {"PE": (300, "PEN"), "BO": (600, "BOB")}  # per km, party
FIX_SECONDS = 3.0  # time for checking that a one-click fix gives a plan


@dataclass(frozen=True)
class StayChoice:
    offer: Offer | None
    price_minor: int  # in the offer's currency (or the estimate's)
    currency: str
    plan_minor: int  # in the plan currency
    points: int
    estimated: bool


@dataclass(frozen=True)
class Connection:
    """How to get from one place to another inside a cluster (or out and back on a
    day trip): no links within one place, else one or two links."""

    links: tuple[Link, ...]
    minutes: int

    @property
    def estimated(self) -> bool:
        return any(link.estimated for link in self.links)


@dataclass
class PlanResult:
    status: str  # "solved" | "infeasible" | "failed"
    days: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    explanation: list[Msg] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    route: dict = field(default_factory=dict)
    fixes: list[dict] = field(default_factory=list)


def volatile_allowed(world: World, request: PlanRequest) -> set[str]:
    """Places whose access is volatile (the north of Isla del Sol) that this plan
    may use: those of the clusters where the traveller asked for something (a
    must-see, or a step kept in a re-plan). Plans default to the secure side."""
    wanted = set(request.include) | set(request.pinned)
    clusters = {
        world.cluster(place)
        for offer in world.offers
        if offer.key in wanted
        for place in (offer.place, offer.ends_at)
    }
    return {
        slug
        for slug, place in world.places.items()
        if place.access_confirm and world.cluster(slug) in clusters
    }


def plan_currency(request: PlanRequest, world: World) -> str:
    if request.budget:
        return request.budget.currency
    return "BOB" if world.places[request.origin].country == "BO" else "PEN"


# The crossing tried when the one asked for gives no plan, and how the plan says so.
FALLBACK_CROSSING = {
    "copacabana": (
        "desaguadero",
        gettext_noop(
            "The route by Kasani and Copacabana does not fit this trip: %(reason)s "
            "This plan crosses at Desaguadero instead."
        ),
    ),
    "desaguadero": (
        "copacabana",
        gettext_noop(
            "The route by Desaguadero does not fit this trip: %(reason)s This plan "
            "crosses at Kasani instead."
        ),
    ),
}


def crosses_border(world: World, request: PlanRequest) -> bool:
    places = world.places
    return places[request.origin].country != places[request.destination].country


class Planner:
    def __init__(
        self,
        world: World,
        request: PlanRequest,
        *,
        time_limit_s: float = 10.0,
        skeleton_seconds: float = SKELETON_SECONDS,
        max_skeletons: int = MAX_SKELETONS,
        via: str | None = None,
        boost: tuple[ItemKey, ...] = (),
        only_boosted: bool = False,
        bound_seconds: float = 0.0,
    ) -> None:
        self.bound_seconds = bound_seconds  # > 0: tighten the reported bound
        # A re-plan on the same route keeps every kept experience and sight, or
        # gives that route up (the free attempt then keeps what still fits).
        self.kept_musts = frozenset(boost) if only_boosted else frozenset()
        self.volatile_allowed = volatile_allowed(world, request)
        volatile = {s for s, p in world.places.items() if p.access_confirm}
        world = world.without_places(volatile - self.volatile_allowed)
        self.world = world
        self.request = request
        self.time_limit_s = time_limit_s
        self.skeleton_seconds = skeleton_seconds
        self.max_skeletons = max_skeletons
        self.via = via or request.via or "copacabana"
        if not crosses_border(world, request):
            self.via = "any"
        self.currency = plan_currency(request, world)
        self.persons = request.persons
        self._runs: dict[int, tuple[Ride, ...]] | None = None
        excluded = set(request.exclude)
        self.offers: dict[ItemKey, Offer] = {
            o.key: o for o in world.offers if o.key not in excluded
        }
        self.include = [k for k in request.include if k in self.offers]
        self._connections: dict[tuple[str, str], Connection | None] = {}
        self.item_values = self._item_values()
        for key in boost:  # a re-plan's kept experiences and sights
            if key in self.item_values:
                self.item_values[key] += PIN_POINTS
        self.cluster_items: dict[str, list[ItemKey]] = defaultdict(list)
        kept = set(boost) | set(self.include)
        for key, offer in self.offers.items():
            if offer.kind == "stay" or not offer.party_ok:
                continue
            if self.item_values.get(key, 0) <= 0 and key not in self.include:
                continue
            if only_boosted and key not in kept:
                continue  # a re-plan on the same route adds nothing new
            self.cluster_items[world.cluster(offer.place)].append(key)
        self.night_values = self._night_values()
        self.links_from = self._links_from()
        self.links_by_origin: dict[str, list] = defaultdict(list)
        for pair, options in world.links.items():
            self.links_by_origin[pair[0]].append((pair, options))
        # Places a road reaches (a ride or transfer by road touches them): only
        # these get straight-line estimates (an island path is no road).
        road = {"walk", "boat", "ferry", "cable_car"}
        self.road_places = {
            place
            for options in world.links.values()
            for link in options
            if link.mode not in road
            for place in (link.origin, link.destination)
        } | {
            place
            for ride in world.rides
            if ride.mode not in road
            for place in (ride.origin, ride.destination)
        }
        if not world.links and not world.rides:
            self.road_places = set(world.places)
        # Clusters whose ways are long footpaths (Isla del Sol): back before dark.
        self.walking_clusters = {
            world.cluster(link.origin)
            for options in world.links.values()
            for link in options
            if link.mode == "walk"
            and link.minutes >= 30
            and world.cluster(link.origin) == world.cluster(link.destination)
        }
        self.excursion_clusters = self._excursion_clusters()
        self._over_budget: list[int] = []  # real least costs of routes over budget
        self.cheapest_cost: int | None = None  # quoted by the budget explanation
        self._hop_values: dict[tuple[str, bool], tuple[int, int]] = {}
        self._usable: dict[tuple, tuple] = {}
        self._day_items_cache: dict[tuple, list] = {}
        self._cause = ""  # why no plan: route, budget, must_see, keep, other

    # --- values ---------------------------------------------------------------

    def _usd_per_person(self, amount_minor: int, currency: str) -> int:
        usd = self.world.rates.convert_minor(amount_minor, currency, "USD")
        return usd // max(1, self.persons)

    @functools.cached_property
    def must_cost(self) -> int:
        """The least the must-see experiences and sights cost (their cheapest
        session), in the plan currency: every plan pays at least this on top of
        its rides and nights."""
        total = 0
        for key in self.include:
            offer = self.offers[key]
            prices = [
                s.price_minor for sessions in offer.sessions.values() for s in sessions
            ]
            if offer.kind != "stay" and prices:
                total += self._to_plan(min(prices), offer.currency)
        return total

    def _to_plan(self, amount_minor: int, currency: str) -> int:
        return self.world.rates.convert_minor(amount_minor, currency, self.currency)

    def _item_values(self) -> dict[ItemKey, int]:
        """Points of every experience and sight, with diminishing returns for things
        of the same kind at the same place."""
        base: dict[ItemKey, int] = {}
        for key, offer in self.offers.items():
            if offer.kind == "stay" or not offer.party_ok:
                continue
            base[key] = self._points(offer, rank=0)
        values: dict[ItemKey, int] = {}
        by_place: dict[str, list[ItemKey]] = defaultdict(list)
        for key in base:
            by_place[self.offers[key].place].append(key)
        for keys in by_place.values():
            keys.sort(key=lambda k: (-base[k], str(k)))
            for i, key in enumerate(keys):
                tags = set(self.offers[key].tags)
                rank = sum(
                    1 for other in keys[:i] if tags & set(self.offers[other].tags)
                )
                values[key] = self._points(self.offers[key], rank=rank)
        return values

    def _points(self, offer: Offer, *, rank: int) -> int:
        prices = [s.price_minor for ss in offer.sessions.values() for s in ss]
        price = max(prices, default=0)
        return objective.experience_points(
            tags=offer.tags,
            duration_min=offer.duration_min,
            community_run=offer.community_run,
            usd_cents_per_person=self._usd_per_person(price, offer.currency),
            detour_min=0,
            interests=self.request.interests,
            rank=rank,
        )

    def _night_points(self, offer: Offer, price_minor: int) -> int:
        return objective.night_points(
            tags=offer.tags,
            community_run=offer.community_run,
            usd_cents_per_person=self._usd_per_person(price_minor, offer.currency),
            interests=self.request.interests,
        )

    def _stays_on(self, place: str, night: dt.date) -> list[tuple[Offer, int]]:
        """(stay, party price that night) with room for the whole party."""
        found = []
        for offer in self.offers.values():
            if offer.kind != "stay" or offer.place != place or not offer.party_ok:
                continue
            for session in offer.sessions.get(night, ()):
                if session.free >= self.persons:
                    found.append((offer, session.price_minor))
                    break
        return found

    def _estimate(self, place: str) -> tuple[int, str]:
        per_person, currency = self.world.stay_estimates.get(
            place, self.world.stay_estimates.get("*", (10000, "PEN"))
        )
        return per_person * self.persons, currency

    def runs_of(self, departure_id: int) -> tuple[Ride, ...]:
        """The runs of one timetabled departure in the world, in time order."""
        if self._runs is None:
            runs: dict[int, list[Ride]] = defaultdict(list)
            for ride in self.world.rides:
                runs[ride.departure_id].append(ride)
            self._runs = {
                key: tuple(sorted(rides, key=lambda r: r.depart))
                for key, rides in runs.items()
            }
        return self._runs.get(departure_id, ())

    def overnight_places(self) -> set[str]:
        return set(HUBS) | {p for s in self.world.satellites.values() for p in s}

    def _night_values(self) -> dict[tuple[str, dt.date], tuple[int, int]]:
        values: dict[tuple[str, dt.date], tuple[int, int]] = {}
        for day in range(self.request.days):
            night = self.request.start_date + dt.timedelta(days=day)
            for place in self.overnight_places():
                if place not in self.world.places:
                    continue
                stays = self._stays_on(place, night)
                if stays:
                    best = max(self._night_points(o, p) for o, p in stays)
                    cheapest = min(self._to_plan(p, o.currency) for o, p in stays)
                    values[place, night] = (max(0, best), cheapest)
                else:
                    amount, currency = self._estimate(place)
                    values[place, night] = (0, self._to_plan(amount, currency))
        return values

    # --- connections --------------------------------------------------------------

    def _link_score(self, link: Link) -> float:
        usd = self._usd_per_person(link.price_minor, link.currency)
        return link.minutes * objective.POINTS_PER_RIDE_MINUTE + objective.cost_points(
            usd
        )

    def best_link(self, a: str, b: str) -> Link | None:
        options = self.world.links.get((a, b), ())
        if not options:
            return None
        return min(options, key=lambda link: (self._link_score(link), link.mode))

    def estimate_link(self, a: str, b: str) -> Link | None:
        """A straight-line estimate (a taxi on the road) where no transfer is known;
        None for islands and lake places (boats only)."""
        places = self.world.places
        if a not in places or b not in places:
            return None
        if places[a].by_water or places[b].by_water:
            return None
        km = self.world.km(a, b)
        minutes = max(15, round(km * ROAD_FACTOR / ROAD_KMH * 60))
        country = places[a].country
        per_km, currency = self.world.estimate_prices.get(
            country, DEFAULT_ESTIMATE_PRICE.get(country, (300, "PEN"))
        )
        price = max(per_km * 5, round(per_km * km * ROAD_FACTOR))
        return Link(
            origin=a,
            destination=b,
            mode="taxi",
            minutes=minutes,
            price_minor=price,
            currency=currency,
            mode_name=Text("taxi", "taxi"),
            verified=False,
            estimated=True,
        )

    def connection(self, a: str, b: str) -> Connection | None:
        """How to get from ``a`` to ``b`` within a cluster: the best chain of known
        links (fewest points: minutes and fares), else a straight-line estimate on
        the road (never across water or island paths)."""
        key = (a, b)
        if key in self._connections:
            return self._connections[key]
        found: Connection | None
        if a == b:
            found = Connection((), LOCAL_MIN)
        else:
            found = self._link_path(a, b)
            if found is None and a in self.road_places and b in self.road_places:
                estimate = self.estimate_link(a, b)
                if estimate is not None:
                    found = Connection((estimate,), estimate.minutes)
        self._connections[key] = found
        return found

    def _link_path(self, a: str, b: str) -> Connection | None:
        """The cheapest chain of known links from ``a`` to ``b`` (Dijkstra on the
        links' points), at most MAX_LINKS_PER_CONNECTION long."""
        best: dict[str, float] = {a: 0.0}
        queue: list[tuple[float, str, tuple[Link, ...]]] = [(0.0, a, ())]
        while queue:
            score, here, path = heapq.heappop(queue)
            if here == b:
                return Connection(path, sum(x.minutes for x in path))
            if score > best.get(here, math.inf) or len(path) >= MAX_LINKS:
                continue
            for (x, y), _options in self.links_by_origin.get(here, ()):
                link = self.best_link(x, y)
                if link is None:
                    continue
                value = score + self._link_score(link) + 1
                if value < best.get(y, math.inf):
                    best[y] = value
                    heapq.heappush(queue, (value, y, (*path, link)))
        return None

    def connection_cost(self, connection: Connection) -> int:
        return sum(self._to_plan(x.price_minor, x.currency) for x in connection.links)

    def _links_from(self) -> dict[str, tuple[Link, ...]]:
        """Links by origin (the real ones) for the skeleton's moves and day trips."""
        found: dict[str, list[Link]] = defaultdict(list)
        for (a, _b), options in self.world.links.items():
            found[a].extend(options)
        return {a: tuple(links) for a, links in found.items()}

    def _excursion_clusters(self) -> dict[str, tuple[str, ...]]:
        """For every place one may sleep in: the clusters worth a day trip from it —
        places of the same country without a hub, with something for this
        traveller, reachable by a ride or a transfer (known or estimated) and back.
        Estimated transfers join the links (the plan will warn)."""
        world = self.world
        valued = {c for c, keys in self.cluster_items.items() if keys}
        ride_pairs = {(r.origin, world.cluster(r.destination)) for r in world.rides}
        ride_pairs |= {(world.cluster(r.origin), r.destination) for r in world.rides}
        found: dict[str, tuple[str, ...]] = {}
        extra: dict[str, list[Link]] = defaultdict(list)

        def linked_anywhere(cluster: str) -> bool:
            return any(
                world.cluster(b) == cluster and world.cluster(a) != cluster
                for (a, b) in world.links
            ) or any(world.cluster(r.destination) == cluster for r in world.rides)

        for base in sorted(self.overnight_places()):
            if base not in world.places:
                continue
            home = world.cluster(base)
            country = world.places[base].country
            clusters = []
            for cluster in sorted(valued):
                if cluster == home or cluster in HUBS:
                    continue
                members = [p for p, c in world.clusters.items() if c == cluster]
                if any(world.places[p].country != country for p in members):
                    continue
                # Out and back, each by a ride or a transfer (a minibus there and
                # a taxi back is a day trip too).
                out = (base, cluster) in ride_pairs or any(
                    (base, p) in world.links for p in members
                )
                back = (cluster, base) in ride_pairs or any(
                    (p, base) in world.links for p in members
                )
                if out and back:
                    clusters.append(cluster)
                    continue
                # No known way from here: a straight-line estimate to the cluster's
                # first place with something to do — from a town of the route
                # only, and only for a cluster no place links to (the plan warns).
                if base not in HUBS or linked_anywhere(cluster):
                    continue
                target = min(
                    (self.offers[k].place for k in self.cluster_items[cluster]),
                    default=None,
                )
                if target is None:
                    continue
                go = self.estimate_link(base, target)
                ret = self.estimate_link(target, base)
                if go is None or ret is None or go.minutes > ESTIMATE_MAX_MIN:
                    continue
                extra[base].append(go)
                extra[target].append(ret)
                clusters.append(cluster)
            found[base] = tuple(clusters)
        if extra:
            merged = dict(self.links_from)
            for origin, links in extra.items():
                merged[origin] = (*merged.get(origin, ()), *links)
            self.links_from = merged
        return found

    def hop_value(self, hop: Hop, overnight: bool) -> tuple[int, int]:
        """(penalty points, cost in the plan currency) of one hop; the sights a
        ride stops at count for it (their points, and their entries when the fare
        does not pay them)."""
        # The same ride or transfer costs the same whatever its window.
        key = (hop.ride.key if hop.ride else hop.link.key, overnight)  # type: ignore[union-attr]
        found = self._hop_values.get(key)
        if found is None:
            price, currency = self.hop_price(hop)
            usd = self._usd_per_person(price, currency)
            penalty = objective.ride_penalty(
                minutes=hop.minutes, usd_cents_per_person=usd, overnight=overnight
            )
            if overnight and self.request.pace == Pace.RELAXED:
                penalty += 2 * objective.NIGHT_RIDE_POINTS  # no night bus if avoidable
            cost = self._to_plan(price, currency)
            for stop_key, fee, fee_currency in self.stop_sights(hop):
                penalty -= self.item_values.get(stop_key, 0)
                cost += self._to_plan(fee, fee_currency)
            found = (penalty, cost)
            self._hop_values[key] = found
        return found

    def stop_sights(self, hop: Hop) -> list[tuple[ItemKey, int, str]]:
        """(key, entry the party pays, currency) of the sights a ride stops at."""
        if hop.ride is None:
            return []
        found = []
        date = None
        for stop in hop.ride.stops:
            for slug in stop.sights:
                offer = self.offers.get(f"sight:{slug}")
                if offer is None:
                    continue  # excluded by the traveller
                date = date or self.world.date_of(stop.place, stop.arrive)
                sessions = offer.sessions.get(date, ())
                fee = 0
                if sessions and not stop.fee_included and offer.fee_known:
                    fee = sessions[0].price_minor
                found.append((offer.key, fee, offer.currency))
        return found

    @staticmethod
    def hop_price(hop: Hop) -> tuple[int, str]:
        if hop.ride is not None:
            return hop.ride.price_minor, hop.ride.currency
        assert hop.link is not None
        return hop.link.price_minor, hop.link.currency

    # --- the search -------------------------------------------------------------

    def valuer(self) -> DayValuer:
        items: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for cluster, keys in self.cluster_items.items():
            for key in keys:
                offer = self.offers[key]
                items[cluster].append(
                    (self.item_values.get(key, 0), max(1, offer.duration_min))
                )
        return DayValuer(items, self.usable_items)

    def usable_items(
        self, cluster: str, date: dt.date, lo: int, hi: int
    ) -> tuple[tuple[ItemKey, int, int], ...]:
        """(key, points, minutes) of what can be done in ``cluster`` on ``date``
        starting from ``lo`` and ending by ``hi``: a session with room inside the
        window and the pace's hours (cached)."""
        cache_key = (cluster, date, lo, hi)
        found = self._usable.get(cache_key)
        if found is not None:
            return found
        usable = []
        for key, value, minutes, low0, high0, windows in self._day_items(cluster, date):
            low = max(lo, low0)
            high = min(hi - minutes, high0)
            if any(max(a, low) <= min(b, high) for a, b in windows):
                usable.append((key, value, max(1, minutes)))
        found = self._usable[cache_key] = tuple(usable)
        return found

    def _day_items(self, cluster: str, date: dt.date) -> list[tuple]:
        """What ``cluster`` offers on ``date`` for this party, once per (cluster,
        date): (key, points, minutes, earliest start and latest start in the
        pace's hours, the start windows of the sessions with room)."""
        cache_key = (cluster, date)
        found = self._day_items_cache.get(cache_key)
        if found is not None:
            return found
        first, last, _ = Pace.LIMITS[self.request.pace]
        found = []
        for key in self.cluster_items.get(cluster, ()):
            offer = self.offers[key]
            value = self.item_values.get(key, 0)
            if value <= 0:
                continue
            windows = tuple(
                (s.earliest, s.latest)
                for s in offer.sessions.get(date, ())
                if s.free >= self.persons
            )
            if not windows:
                continue
            low0 = self.world.minute(offer.place, date, first)
            high0 = self.world.minute(offer.ends_at, date, last) - offer.duration_min
            found.append((key, value, offer.duration_min, low0, high0, windows))
        self._day_items_cache[cache_key] = found
        return found

    def search(self, *, via: str | None = None) -> SkeletonSearch:
        return SkeletonSearch(
            self.world,
            self.request,
            currency=self.currency,
            valuer=self.valuer(),
            night_values=self.night_values,
            hop_value=self.hop_value,
            excursion_clusters=self.excursion_clusters,
            links_from=self.links_from,
            via=via or self.via,
            local_minutes=self.local_minutes,
        )

    def local_minutes(self, a: str, b: str) -> int:
        if a == b:
            return 0
        connection = self.connection(a, b)
        return connection.minutes if connection is not None else FORBIDDEN

    def beam_width(self) -> int:
        """Partial skeletons kept per day: about the same work whatever the length
        of the trip (48 up to two weeks, fewer beyond)."""
        return max(BEAM_MIN_WIDTH, min(BEAM_WIDTH, BEAM_WORK // self.request.days))

    def _stop_keys(self, days) -> set[ItemKey]:
        """The sights the rides of ``days`` stop at."""
        return {
            key
            for day in days
            for hop in day.hops
            for key, _fee, _currency in self.stop_sights(hop)
        }

    def _beam_bonus(self, day: DayPlan) -> int:
        """Steers the beam to days that reach must-sees and keep the rides to keep."""
        points = 0
        if self.include:
            clusters = self.day_clusters(day)
            on_rides = self._stop_keys((day,))
            for key in self.include:
                offer = self.offers[key]
                if key in on_rides:
                    points += INCLUDE_BONUS
                elif offer.kind == "stay":
                    if day.night == offer.place and day.date in offer.sessions:
                        points += INCLUDE_BONUS
                elif (
                    self.world.cluster(offer.place) in clusters
                    and day.date in offer.sessions
                ):
                    points += INCLUDE_BONUS
        if self.request.keep_rides:
            kept = set(self.request.keep_rides)
            points += INCLUDE_BONUS * sum(1 for h in day.hops if h.key in kept)
        return points

    def day_clusters(self, day: DayPlan) -> set[str]:
        return {segment.cluster for segment in day.segments}

    def _covers_includes(self, days: tuple[DayPlan, ...]) -> bool:
        on_rides = self._stop_keys(days)
        for key in self.include:
            if key in on_rides:
                continue  # a ride stops there
            offer = self.offers[key]
            if offer.kind == "stay":
                if not any(
                    day.night == offer.place and day.date in offer.sessions
                    for day in days
                ):
                    return False
                continue
            cluster = self.world.cluster(offer.place)
            if not any(
                cluster in self.day_clusters(day) and day.date in offer.sessions
                for day in days
            ):
                return False
        return True

    def run(self, *, with_fixes: bool = True) -> PlanResult:
        """The best plan, or why there is none (with the one-click fixes that were
        checked to give a plan, unless ``with_fixes`` is off)."""
        started = time.perf_counter()
        if self.request.has_pins:
            return self._run_pinned(started, with_fixes=with_fixes)
        result = self._run(started)
        if with_fixes and result.status == "infeasible":
            result.fixes = self._fixes(result, started)
            result.stats["seconds"] = round(time.perf_counter() - started, 3)
        return result

    def _run_pinned(self, started: float, *, with_fixes: bool) -> PlanResult:
        """A re-plan keeps what the traveller did not drop: first its nights and
        rides as they were, then (if they no longer work) a new route; the kept
        experiences and sights are worth so much more than anything new that they
        stay whenever they still fit. The plan says what was let go."""
        request = self.request
        strict = replace(
            request,
            keep_rides=tuple(
                dict.fromkeys((*request.keep_rides, *request.pinned_rides))
            ),
            pinned=(),
            pinned_rides=(),
        )
        free = replace(strict, keep_rides=request.keep_rides, keep_nights=())
        result = None
        for attempt in (strict, free):
            limit = max(1.0, self.time_limit_s - (time.perf_counter() - started))
            planner = Planner(
                self.world,
                attempt,
                time_limit_s=limit / (1 if attempt is free else 2),
                skeleton_seconds=self.skeleton_seconds,
                max_skeletons=self.max_skeletons,
                via=self.via,
                boost=request.pinned,
                # On the same route nothing new is added: what was removed stays
                # removed and nothing displaces what was kept.
                only_boosted=attempt is strict,
            )
            result = planner._run(time.perf_counter())
            if result.status == "solved":
                break
            if attempt is free and with_fixes and result.status == "infeasible":
                result.fixes = planner._fixes(result, started)
        assert result is not None
        if result.status == "solved":
            lost = self._lost_pins(result)
            if lost:
                result.explanation.insert(
                    0,
                    Msg(
                        gettext_noop(
                            "These no longer fit and were left out: %(items)s."
                        ),
                        {"items": lost},
                    ),
                )
        result.stats["seconds"] = round(time.perf_counter() - started, 3)
        return result

    def _lost_pins(self, result: PlanResult) -> list:
        """What the re-plan was asked to keep and could not."""
        steps = [s for d in result.days for s in d["steps"]]
        listings = {s.get("listing") for s in steps if s.get("listing")}
        sights = {f"sight:{s['sight']}" for s in steps if s.get("sight")}
        rides = {s.get("ride") for s in steps if s.get("ride")}
        lost: list = []
        for key in self.request.pinned:
            if key not in listings and key not in sights and key in self.offers:
                lost.append(self.offers[key].title)
        missing_rides = [r for r in self.request.pinned_rides if r not in rides]
        rides_by_key = {r.key: r for r in self.world.rides}
        for key in missing_rides:
            ride = rides_by_key.get(key)
            if ride is not None:
                lost.append(ride_title(self.world, ride))
        nights = [d["night"]["place"] if d["night"] else None for d in result.days[:-1]]
        for index, wanted in enumerate(self.request.keep_nights):
            if wanted and index < len(nights) and nights[index] != wanted:
                lost.append(
                    Text(
                        f"the night of {result.days[index]['date']} in "
                        f"{self.world.places[wanted].name.en}",
                        f"la noche del {result.days[index]['date']} en "
                        f"{self.world.places[wanted].name.es}",
                    )
                )
        return lost

    def _run(self, started: float) -> PlanResult:
        request = self.request
        if request.by_air and request.nights < ACCLIMATISATION_NIGHTS:
            return self._infeasible(
                [self._msg_acclimatisation()], started, cause="acclimatisation"
            )
        blocked = self._must_see_problems()
        if blocked:
            return self._infeasible(blocked, started, cause="must_see")
        via, note = self.via, self._kasani_side_note()
        if note is not None:
            via = "copacabana"
        result = self._run_once(started, via)
        if note is not None and result.status == "solved":
            result.explanation.insert(0, note)
        remaining = self.time_limit_s - (time.perf_counter() - started)
        if (
            result.status == "infeasible"  # proven: not after running out of time
            and via == self.via
            and self.via in FALLBACK_CROSSING
            and crosses_border(self.world, request)
            and remaining > 0.2
        ):
            # The other crossing, said so: an expert does not refuse a trip because
            # the crossing asked for cannot be done (Kasani closed, Copacabana only
            # through La Paz by Desaguadero).
            fallback, text = FALLBACK_CROSSING[self.via]
            other = Planner(
                self.world,
                request,
                time_limit_s=remaining,
                skeleton_seconds=self.skeleton_seconds,
                max_skeletons=self.max_skeletons,
                via=fallback,
            )._run_once(time.perf_counter(), fallback)
            if other.status == "solved":
                why = result.explanation[:1] or [
                    Msg(gettext_noop("No route by that crossing fits these dates."))
                ]
                other.explanation.insert(0, Msg(text, {"reason": why[0]}))
                other.route["via"] = self.via
                other.stats["seconds"] = round(time.perf_counter() - started, 3)
                return other
        return result

    def _kasani_side_note(self) -> Msg | None:
        """Why a trip by Desaguadero crosses at Kasani: its Bolivian end lies on
        the Kasani side of the lake (Copacabana, Isla del Sol), which the
        Desaguadero road reaches only through La Paz and back. None otherwise."""
        request = self.request
        if self.via != "desaguadero" or not crosses_border(self.world, request):
            return None
        from itineraries.planning.explain import hub_of

        places = self.world.places
        end = next(
            p
            for p in (request.origin, request.destination)
            if places[p].country == "BO"
        )
        if hub_of(self.world, end) != "copacabana":
            return None
        return Msg(
            gettext_noop(
                "%(place)s lies on the Kasani side of the lake: by Desaguadero it is "
                "reached only through La Paz and back, so this plan crosses at Kasani."
            ),
            {"place": places[end].name},
        )

    def _run_once(self, started: float, via: str) -> PlanResult:
        deadline = started + self.time_limit_s
        request = self.request
        search = self.search(via=via)
        kept_rides = set(request.keep_rides)
        budget = request.budget.amount_minor if request.budget is not None else None
        stats = {"over_budget": 0, "missing_include": 0, "missing_keep": 0}
        cheapest_seen: list[int] = []

        def accept(days: tuple[DayPlan, ...], cost: int) -> bool:
            used = {r.key for d in days if d.move for r in d.move.rides}
            used |= {h.key for d in days for h in d.hops}
            if not kept_rides <= used:
                stats["missing_keep"] += 1
                return False
            if not self._covers_includes(days):
                stats["missing_include"] += 1
                return False
            if budget is not None and cost + self.must_cost > budget:
                cheapest_seen.append(cost + self.must_cost)
                stats["over_budget"] += 1
                return False
            return True

        if budget is not None:
            cheapest = search.cheapest_to_go()(search.initial())
            if cheapest != float("inf") and cheapest > budget:
                return self._infeasible(
                    [self._msg_budget(cheapest)], started, cause="budget"
                )
        # 1. Good distinct skeletons from a beam search (bounded time); 2. the days
        # of the best ones by their bound, solved with the engine. When the beam
        # gives no plan, the exhaustive best-first search takes over (it can prove
        # that no plan exists, or runs out of time and says so).
        seen: set[tuple] = set()
        candidates: list[tuple[int, Skeleton]] = []
        best: tuple[int, Skeleton, dict, object, object] | None = None
        solved = unproven = 0
        engine_fail: list[Msg] = []
        timed_out = False
        next_bound: int | None = None
        look_until = started + self.time_limit_s * LOOK_SHARE

        def distinct(skeletons, limit: int) -> list[tuple[int, Skeleton]]:
            batch = []
            for skeleton in skeletons:
                if skeleton.signature in seen:
                    continue
                seen.add(skeleton.signature)
                batch.append((self._tight_bound(skeleton), skeleton))
                if len(batch) >= limit or time.perf_counter() > look_until:
                    break
            candidates.extend(batch)
            return sorted(batch, key=lambda item: -item[0])

        beam = search.beam(
            accept,
            budget=budget,
            deadline=deadline,  # bounded work: let it finish within the limit
            width=self.beam_width(),
            bonus=self._beam_bonus,
        )
        batches = [distinct(beam, MAX_LOOKED)]
        generator = None
        while batches:
            batch = batches.pop()
            for tight, skeleton in batch:
                if best is not None and tight <= best[0]:
                    next_bound = tight if next_bound is None else max(next_bound, tight)
                    break  # no skeleton left in the batch can beat the best plan
                remaining = deadline - time.perf_counter()
                if best is not None and solved >= self.max_skeletons:
                    next_bound = tight
                    break
                if remaining < min(0.05, self.skeleton_seconds):
                    next_bound = tight
                    timed_out = True
                    break
                outcome = self._solve_days(skeleton, remaining, engine_fail)
                solved += 1
                if outcome is None:
                    continue
                if outcome == "unproven":
                    unproven += 1
                    continue
                total, stays, problem, solution = outcome
                if self._empty_trips(skeleton, stays[1], solution):
                    # The same days without the day trips the engine left empty.
                    stripped = self._strip_empty_trips(skeleton, stays[1], solution)
                    again = self._solve_days(stripped, remaining, engine_fail)
                    if again not in (None, "unproven") and again[0] > total:
                        skeleton = stripped
                        total, stays, problem, solution = again
                if best is None or total > best[0]:
                    best = (total, skeleton, stays, problem, solution)
            if best is not None or timed_out:
                break
            if time.perf_counter() > deadline - 0.05:
                timed_out = True
                break
            # No plan yet: the exhaustive search, batch by batch.
            if generator is None:
                generator = search.skeletons(accept, budget=budget, deadline=deadline)
            look_until = deadline
            batch = distinct(generator, MAX_LOOKED)
            if batch:
                batches.append(batch)
        if generator is None:
            search.exhausted = False  # only the exhaustive search proves anything
        exhausted = search.exhausted
        elapsed = time.perf_counter() - started
        if best is None:
            reasons = self._explain_failure(search, cheapest_seen, stats, engine_fail)
            proven = exhausted and not unproven and not timed_out
            if not proven:
                result = self._infeasible(reasons, started)
                result.status = "failed"
                result.explanation.insert(
                    0,
                    Msg(
                        gettext_noop(
                            "The search ran out of time before finding a plan; "
                            "try again, or change the request."
                        )
                    ),
                )
                return result
            return self._infeasible(reasons, started)
        total, skeleton, stays, problem, solution = best
        bound = self._global_bound(search, [b for b, _ in candidates])
        if self.bound_seconds > 0:
            from itineraries.planning.bounds import tight_bound

            bound = min(bound, tight_bound(self, search, total, self.bound_seconds))
        bound = max(bound, total)
        result = self._render(skeleton, stays, problem, solution)
        if timed_out:
            result.warnings.append(
                Msg(
                    gettext_noop(
                        "The search stopped at its time limit: this is the best plan "
                        "found, a better one may exist."
                    )
                )
            )
        errors = validate_plan(
            self.world, request, result.days, result.totals, currency=self.currency
        )
        if errors:
            raise PlanBugError("plan breaks its rules: " + "; ".join(errors))
        result.stats = {
            "objective": total,
            "bound": bound,
            "gap": round((bound - total) / bound, 4) if bound > 0 else 0.0,
            "proven": bound <= total,
            "skeletons_solved": solved,
            "skeletons_looked_at": len(candidates),
            "next_bound": next_bound,
            "seconds": round(elapsed, 3),
            "engine_status": str(solution.status),
        }
        return result

    def _infeasible(
        self, reasons: list[Msg], started: float, *, cause: str = ""
    ) -> PlanResult:
        return PlanResult(
            status="infeasible",
            explanation=list(reasons),
            stats={
                "seconds": round(time.perf_counter() - started, 3),
                "cause": cause or self._cause or "other",
            },
        )

    # --- bounds -----------------------------------------------------------------

    def _tight_bound(self, skeleton: Skeleton) -> int:
        """A valid bound of what this skeleton's plan can be worth: its fixed points
        and best nights, plus every experience reachable on its days counted once,
        in the days' active minutes (a fractional knapsack)."""
        fixed = sum(d.fixed_points + d.stay_points for d in skeleton.days)
        items: dict[ItemKey, tuple[int, int]] = {}
        capacity = 0
        for day in skeleton.days:
            limit = sum(s.limit for s in day.segments)
            capacity += min(day.active_cap, limit)
            for segment in day.segments:
                for key, value, minutes in self.usable_items(
                    segment.cluster, day.date, segment.lo, segment.hi
                ):
                    items[key] = (value, minutes)
        return fixed + _fractional(items.values(), capacity)

    def _global_bound(self, search: SkeletonSearch, tights: list[int]) -> int:
        """A valid bound over every skeleton: the smaller of (a) the best sum over
        days of each day's own bound (an experience may count on several days) and
        (b) the best fixed points plus every reachable experience counted once in the
        trip's active minutes."""
        start = search.initial()
        per_day = search.best_to_go(
            lambda plan, _value: (
                plan.fixed_points + plan.stay_points + search.day_bound(plan)
            )
        )(start)
        fixed = search.best_to_go(
            lambda plan, _value: plan.fixed_points + plan.stay_points
        )(start)
        _, _, cap = Pace.LIMITS[self.request.pace]
        items = [
            (self.item_values.get(k, 0), max(1, self.offers[k].duration_min))
            for keys in self.cluster_items.values()
            for k in keys
        ]
        trip = fixed + _fractional(items, cap * self.request.days)
        bound = min(per_day, trip, self._minutes_bound(search, items))
        if bound == float("-inf"):
            return max(tights, default=0)
        return math.ceil(bound)

    def _minutes_bound(
        self, search: SkeletonSearch, items: list[tuple[int, int]]
    ) -> float:
        """(c) Every experience counted once, priced against the time to do it: for
        any price ``mu`` per active minute, the trip's experience points are at most
        the sum over experiences of ``max(0, points - mu × minutes)`` plus ``mu``
        times the active minutes of the best skeleton (its days' paces and free
        windows). Valid for every ``mu``; the smallest over a few is taken."""
        positive = [(v, m) for v, m in items if v > 0]
        if not positive:
            return float("inf")
        densities = sorted(v / m for v, m in positive)
        mus = {densities[int(q * (len(densities) - 1))] for q in MINUTE_PRICE_QUANTILES}
        start = search.initial()
        best = float("inf")
        for mu in sorted(mus):
            days = search.best_to_go(
                lambda plan, _value, mu=mu: (
                    plan.fixed_points + plan.stay_points + mu * _day_minutes(plan)
                )
            )(start)
            rest = sum(max(0.0, v - mu * m) for v, m in positive)
            best = min(best, days + rest)
        return best

    # --- stays ------------------------------------------------------------------

    def choose_stays(
        self, skeleton: Skeleton, *, cheapest: bool = False
    ) -> dict[int, StayChoice]:
        """A stay for every night: one stay for a run of nights in a place when one
        has room all along, else the best each night, else an estimate."""
        choices: dict[int, StayChoice] = {}
        nights = [(d.index, d.night, d.date) for d in skeleton.days if d.night]
        runs: list[list[tuple[int, str, dt.date]]] = []
        for night in nights:
            if runs and runs[-1][-1][1] == night[1] and runs[-1][-1][0] == night[0] - 1:
                runs[-1].append(night)
            else:
                runs.append([night])
        forced = {k for k in self.include if self.offers[k].kind == "stay"}
        forced |= {lid for lid, _ in self.request.keep_stays if lid in self.offers}
        for run in runs:
            per_night = {i: self._stays_on(place, date) for i, place, date in run}
            common: dict[ItemKey, list[tuple[Offer, int]]] = defaultdict(list)
            for options in per_night.values():
                for offer, price in options:
                    common[offer.key].append((offer, price))

            def rank(items: list[tuple[Offer, int]]) -> tuple:
                offer = items[0][0]
                cost = sum(self._to_plan(p, o.currency) for o, p in items)
                points = sum(self._night_points(o, p) for o, p in items)
                key = -cost if cheapest else points
                return (offer.key in forced, key, -cost, -(offer.listing_id or 0))

            whole = [items for items in common.values() if len(items) == len(run)]
            # Cheapest: night by night (one stay for the run is a comfort, not a
            # saving, and the budget check must use the true minimum).
            if whole and not cheapest:
                items = max(whole, key=rank)
                for (index, _place, _date), (offer, price) in zip(
                    run, items, strict=True
                ):
                    choices[index] = self._choice(offer, price)
                continue
            for index, place, _date in run:
                options = per_night[index]
                if options:
                    offer, price = max(([o] for o in options), key=rank)[0]
                    choices[index] = self._choice(offer, price)
                else:
                    amount, currency = self._estimate(place)
                    choices[index] = StayChoice(
                        None, amount, currency, self._to_plan(amount, currency), 0, True
                    )
        return choices

    def _choice(self, offer: Offer, price: int) -> StayChoice:
        return StayChoice(
            offer,
            price,
            offer.currency,
            self._to_plan(price, offer.currency),
            self._night_points(offer, price),
            False,
        )

    # --- the days -----------------------------------------------------------------

    def _solve_days(self, skeleton: Skeleton, seconds: float, failures: list[Msg]):
        request = self.request
        stays = self.choose_stays(skeleton)
        hop_cost = sum(
            self.hop_value(h, False)[1] for d in skeleton.days for h in d.hops
        )
        # The transfers to and from the rides (Copacabana to Yampupata's boat) are
        # paid whatever the engine chooses: the engine's budget leaves them out.
        walk_cost = sum(self.anchor_cost(d) for d in skeleton.days)
        budget_left = None
        if request.budget is not None:
            budget_left = (
                request.budget.amount_minor
                - hop_cost
                - walk_cost
                - sum(c.plan_minor for c in stays.values())
            )
            if budget_left < 0:
                stays = self.choose_stays(skeleton, cheapest=True)
                budget_left = (
                    request.budget.amount_minor
                    - hop_cost
                    - walk_cost
                    - sum(c.plan_minor for c in stays.values())
                )
                if budget_left < 0:
                    # What this route really costs at the least (cheapest stay each
                    # night, no experiences): the budget explanation quotes it.
                    self._over_budget.append(
                        request.budget.amount_minor - budget_left + self.must_cost
                    )
                    return None
        # Rides and transfers are mandatory engine nodes with their price: the
        # engine's budget is what is left once the nights are paid.
        engine_budget = None if budget_left is None else budget_left + hop_cost
        problem, meta = self._problem(skeleton, engine_budget)
        if budget_left is not None and request.budget is not None:
            # The must-sees are mandatory too: with them this route may not fit the
            # budget at all (the explanation then quotes what it costs).
            musts = problem.spend(
                n.id
                for n, (kind, _ref) in zip(problem.nodes, meta, strict=True)
                if n.mandatory and kind == "offer"
            )
            if musts > budget_left:
                self._over_budget.append(
                    request.budget.amount_minor - budget_left + musts
                )
                return None
        work = max(0.05, min(self.skeleton_seconds, seconds))
        params = SolverParams(
            time_limit_s=work,
            wall_limit_s=max(work, seconds),
            random_seed=request.seed,
            deterministic=True,
            num_workers=1,
        )
        solution = solve(problem, params)
        for _round in range(MAX_REPAIRS):
            if not solution.has_plan:
                break
            extra = self._extra_long_walks(problem, meta, solution)
            extra += self._covered_sight_arcs(problem, meta, solution)
            if not extra:
                break
            # Walking back and forth on an island: forbid the extra long walks
            # and solve again (at most one long walk a day) — unless nothing is
            # left without them. A sight that a chosen experience already visits
            # (the guided visit of Tiwanaku, then Tiwanaku again) is forbidden the
            # same way.
            travel = [list(row) for row in problem.travel]
            for i, j in extra:
                travel[i][j] = FORBIDDEN
            repaired = dataclasses.replace(
                problem, travel=tuple(tuple(row) for row in travel)
            )
            again = solve(repaired, params)
            if not again.has_plan:
                break
            problem, solution = repaired, again
        if not solution.has_plan:
            if solution.status == SolveStatus.NO_SOLUTION_IN_TIME:
                return "unproven"
            failures.append(self._msg_engine_failure(skeleton, problem, meta))
            return None
        fixed = sum(d.fixed_points for d in skeleton.days)
        stay_points = sum(c.points for c in stays.values())
        total = solution.score + fixed + stay_points
        # Day trips the engine left empty lose their points and a penalty, so the
        # same skeleton without them wins.
        total -= sum(
            day.trip_points + EMPTY_TRIP_POINTS
            for day, tour in zip(skeleton.days, solution.tours, strict=True)
            if day.excursion is not None and not self._trip_used(day, meta, tour)
        )
        return total, (stays, meta), problem, solution

    def _extra_long_walks(self, problem, meta, solution) -> list[tuple[int, int]]:
        """Arcs of long walks (or long transfers) inside a cluster beyond the first
        of a day: an experience that walks across counts as that day's walk."""
        extra: list[tuple[int, int]] = []
        for tour_plan, tour in zip(solution.tours, problem.tours, strict=True):
            sequence = [tour.start, *(v.node for v in tour_plan.visits), tour.end]
            walking_items = sum(
                1
                for node in sequence
                if meta[node][0] == "offer"
                and meta[node][1].end_place
                and meta[node][1].end_place != meta[node][1].place
            )
            long_arcs = [
                (a, b)
                for a, b in itertools.pairwise(sequence)
                if meta[b][0] != "hop"  # the way to a bus or a boat is needed
                and LONG_WALK_MIN <= problem.travel[a][b] < FORBIDDEN
            ]
            # One long walk a day: an experience that walks across is that walk.
            keep = 0 if walking_items else 1
            extra.extend(long_arcs[keep:])
        return extra

    def _covered_sight_arcs(self, problem, meta, solution) -> list[tuple[int, int]]:
        """Every arc into a sight node that an experience of the plan visits."""
        chosen = [
            meta[v.node][1]
            for tour_plan in solution.tours
            for v in tour_plan.visits
            if meta[v.node][0] == "offer"
        ]
        covered = {sight_key(slug) for offer in chosen for slug in offer.covers}
        if not covered:
            return []
        # Every node of those sights (a sight has one node per day it can be
        # seen), not only the ones visited, or the next solve moves it a day.
        nodes = [
            node
            for node, (kind, ref) in enumerate(meta)
            if kind == "offer" and ref.key in covered
        ]
        return [
            (i, node)
            for node in nodes
            for i in range(len(problem.travel))
            if problem.travel[i][node] < FORBIDDEN
        ]

    def _strip_empty_trips(self, skeleton: Skeleton, meta, solution) -> Skeleton:
        days = []
        for day, tour in zip(skeleton.days, solution.tours, strict=True):
            if day.excursion is not None and not self._trip_used(day, meta, tour):
                day = dataclasses.replace(
                    day,
                    excursion=None,
                    segments=day.plain_segments,
                    fixed_points=day.fixed_points - day.trip_points,
                    trip_points=0,
                )
            days.append(day)
        return dataclasses.replace(skeleton, days=tuple(days))

    def _trip_used(self, day: DayPlan, meta, tour) -> bool:
        assert day.excursion is not None
        cluster = day.excursion.cluster
        return any(
            meta[v.node][0] == "offer"
            and self.world.cluster(meta[v.node][1].place) == cluster
            for v in tour.visits
        )

    def _empty_trips(self, skeleton: Skeleton, meta, solution) -> int:
        """Day trips the engine left empty (nothing done there): they lose their
        new-place points and a penalty, so the same skeleton without them wins."""
        return sum(
            1
            for day, tour in zip(skeleton.days, solution.tours, strict=True)
            if day.excursion is not None and not self._trip_used(day, meta, tour)
        )

    def anchor_cost(self, day: DayPlan) -> int:
        """What the transfers between the day's fixed points cost: from where the
        day starts to its first ride, between rides, and from the last ride to where
        the day ends (the rides in the order they leave)."""
        total = 0
        here = day.morning
        for hop in sorted(day.hops, key=lambda h: (h.earliest, h.latest)):
            total += self._transfer_cost(here, hop.origin)
            here = hop.destination
        return total + self._transfer_cost(here, day.evening)

    def _transfer_cost(self, a: str, b: str) -> int:
        if a == b:
            return 0
        connection = self.connection(a, b)
        return 0 if connection is None else self.connection_cost(connection)

    def access_cost(self, base: str, offer: Offer) -> int:
        """What reaching ``offer`` from ``base`` inside its cluster and back costs
        (counted with the experience, so the budget holds)."""
        total = 0
        for a, b in ((base, offer.place), (offer.ends_at, base)):
            total += self._transfer_cost(a, b)
        return total

    def item_windows(
        self, skeleton: Skeleton
    ) -> tuple[
        dict[ItemKey, list[tuple[int, int]]],
        dict[ItemKey, set[int]],
        dict[ItemKey, int],
    ]:
        """Per experience or sight: start windows, the days it may be done on, and
        the highest price (with its access) in the plan currency."""
        request = self.request
        first, last, _cap = Pace.LIMITS[request.pace]
        windows: dict[ItemKey, list[tuple[int, int]]] = defaultdict(list)
        tours_of: dict[ItemKey, set[int]] = defaultdict(set)
        prices: dict[ItemKey, int] = defaultdict(int)
        self._paid_access: set[ItemKey] = set()
        seen_on_rides = self._stop_keys(skeleton.days)
        for day in skeleton.days:
            for segment in day.segments:
                ranked = sorted(
                    (
                        k
                        for k in self.cluster_items.get(segment.cluster, ())
                        if day.date in self.offers[k].sessions
                        and k not in seen_on_rides
                    ),
                    key=lambda k: (
                        k not in self.include,
                        -self.item_values.get(k, 0),
                        str(k),
                    ),
                )[:CANDIDATES_PER_CLUSTER]
                for key in ranked:
                    offer = self.offers[key]
                    if offer.strenuous and request.by_air and day.index == 0:
                        continue
                    if day.index < offer.min_nights_at_altitude:
                        continue
                    pace_lo = self.world.minute(offer.place, day.date, first)
                    pace_hi = self.world.minute(offer.ends_at, day.date, last)
                    for session in offer.sessions[day.date]:
                        if session.free < self.persons:
                            continue
                        lo = max(session.earliest, segment.lo, pace_lo)
                        hi = min(
                            session.latest,
                            segment.hi - offer.duration_min,
                            pace_hi - offer.duration_min,
                        )
                        if lo > hi:
                            continue
                        windows[key].append((lo, hi))
                        tours_of[key].add(day.index)
                        price = self._to_plan(session.price_minor, offer.currency)
                        access = self.access_cost(segment.place, offer)
                        if access:
                            self._paid_access.add(key)
                        prices[key] = max(prices[key], price + access)
        return windows, tours_of, prices

    def _tickets(self, windows: dict, prices: dict) -> dict:
        """Sights under one shared ticket (Isla del Sol's south) that cost only
        their fee: the engine pays the ticket once, at the group's highest fee
        (``prices`` gets it under the ticket's name). A sight with a paid way there
        keeps its own price."""
        groups: dict[str, list] = defaultdict(list)
        for key in windows:
            offer = self.offers[key]
            if offer.ticket and key not in self._paid_access:
                groups[offer.ticket].append(key)
        tickets = {}
        for ticket, keys in groups.items():
            if len(keys) < 2:
                continue
            prices[ticket] = max(prices[key] for key in keys)
            tickets.update(dict.fromkeys(keys, ticket))
        return tickets

    def _problem(
        self, skeleton: Skeleton, budget_left: int | None
    ) -> tuple[OrienteeringProblem, list[tuple[str, object]]]:
        """The days as one orienteering problem; ``meta[i]`` says what node i is
        (tour i is the skeleton's i-th day, whatever the day's index)."""
        first = skeleton.days[0].index
        meta: list[tuple[str, object]] = []
        places_in: list[str] = []
        places_out: list[str] = []
        nodes: list[Node] = []
        terminal: dict[str, int] = {}

        def add(
            node_kwargs: dict, kind: str, ref: object, p_in: str, p_out: str
        ) -> int:
            index = len(nodes)
            nodes.append(Node(id=index, **node_kwargs))
            meta.append((kind, ref))
            places_in.append(p_in)
            places_out.append(p_out)
            return index

        for day in skeleton.days:
            for place in (day.morning, day.evening):
                if place not in terminal:
                    terminal[place] = add(
                        {"name": place}, "terminal", place, place, place
                    )
        for day in skeleton.days:
            for hop in day.hops:
                add(
                    {
                        "service_min": hop.minutes,
                        "windows": ((hop.earliest, hop.latest),),
                        "price_minor": self.hop_value(hop, False)[1],
                        "mandatory": True,
                        "allowed_tours": frozenset({day.index - first}),
                        "active": False,
                        "name": hop.key,
                    },
                    "hop",
                    hop,
                    hop.origin,
                    hop.destination,
                )
        windows, tours_of, prices = self.item_windows(skeleton)
        tickets = self._tickets(windows, prices)
        for key in sorted(windows, key=str):
            offer = self.offers[key]
            ticket = tickets.get(key, "")
            add(
                {
                    "service_min": offer.duration_min,
                    "score": self.item_values.get(key, 0),
                    "windows": tuple(_merge(windows[key])),
                    "price_minor": prices[tickets[key]] if ticket else prices[key],
                    "ticket": ticket,
                    "mandatory": key in self.include or key in self.kept_musts,
                    "allowed_tours": frozenset(i - first for i in tours_of[key]),
                    "name": str(key),
                },
                "offer",
                offer,
                offer.place,
                offer.ends_at,
            )
        # A must-see with no usable window gets none: the engine then reports that
        # no plan exists, and the explanation names it (one a ride stops at is
        # seen on the way).
        on_rides = self._stop_keys(skeleton.days)
        for key in self.include:
            offer = self.offers[key]
            if offer.kind != "stay" and key not in windows and key not in on_rides:
                add(
                    {
                        "service_min": offer.duration_min,
                        "mandatory": True,
                        "allowed_tours": frozenset(),
                        "name": str(key),
                    },
                    "offer",
                    offer,
                    offer.place,
                    offer.ends_at,
                )
        tours = tuple(
            Tour(
                start=terminal[day.morning],
                end=terminal[day.evening],
                earliest_departure=self._day_departure(day),
                latest_arrival=self._day_arrival(day),
                max_active_min=day.active_cap,
            )
            for day in skeleton.days
        )
        n = len(nodes)
        # The minutes depend only on the places and on the kind of the node arrived
        # at: computed once per such pair (the matrix has n² entries).
        arrive = [
            (
                places_in[j],
                meta[j][0] == "hop",
                meta[j][0] == "hop" and bool(getattr(meta[j][1], "fixed", False)),
            )
            for j in range(n)
        ]
        memo: dict[tuple, int] = {}

        def arc(a: str, target: tuple) -> int:
            key = (a, target)
            found = memo.get(key)
            if found is None:
                found = memo[key] = self._arc_minutes(a, *target)
            return found

        travel = tuple(
            tuple(0 if i == j else arc(places_out[i], arrive[j]) for j in range(n))
            for i in range(n)
        )
        problem = OrienteeringProblem(
            nodes=tuple(nodes), tours=tours, travel=travel, budget_minor=budget_left
        )
        return problem, meta

    def _day_arrival(self, day: DayPlan) -> int:
        """When the day must be back where it ends: where the ways are footpaths
        (the islands), before dark unless a boat arrives later."""
        if self.world.cluster(day.evening) not in self.walking_clusters:
            return day.end
        dusk = self.world.minute(day.evening, day.date, WALK_HOURS[1])
        arrivals = [
            hop.arrive_latest + LOCAL_MIN
            for hop in day.hops
            if self.world.cluster(hop.destination) == self.world.cluster(day.evening)
        ]
        return max(day.start, min(day.end, max([dusk + 30, *arrivals])))

    def _day_departure(self, day: DayPlan) -> int:
        """When the day may leave its morning place: at the pace's first hour,
        unless a ride or transfer of the day must leave earlier."""
        first, _, _ = Pace.LIMITS[self.request.pace]
        pace_first = self.world.minute(day.morning, day.date, first)
        hops = day.hops
        if not hops:
            return max(day.start, pace_first)
        # The transfers before the day's first fixed ride (or all of them) must
        # leave in time for it: when that is before the pace's hour, so is the day.
        travel = self.local_minutes(day.morning, hops[0].origin)
        need = None
        for hop in hops:
            if hop.fixed:
                need = hop.earliest - BOARDING_MIN - travel
                break
            if hop.latest - travel < pace_first:
                need = hop.latest - travel
                break
            travel += hop.minutes
        if need is not None and need < pace_first:
            return day.start
        return max(day.start, pace_first)

    def _arc_minutes(self, a: str, b: str, to_hop: bool, fixed: bool) -> int:
        """Minutes from leaving ``a`` to being ready at ``b`` (for a ride when
        ``to_hop``, a timetabled one when ``fixed``): only inside a cluster (between
        clusters one moves by rides and transfers, which are nodes)."""
        world = self.world
        if world.cluster(a) != world.cluster(b):
            return FORBIDDEN
        boarding = BOARDING_MIN if to_hop and fixed else 0
        if a == b:
            # At the terminal early enough covers the walk there.
            return boarding if to_hop else LOCAL_MIN
        connection = self.connection(a, b)
        if connection is None:
            return FORBIDDEN
        return connection.minutes + boarding

    # --- explanations ---------------------------------------------------------------

    def _must_see_problems(self) -> list[Msg]:
        """Exact reasons a must-see cannot be in any plan (before any search)."""
        from itineraries.planning.explain import must_see_problems

        return must_see_problems(self)

    def _msg_engine_failure(self, skeleton, problem, meta) -> Msg:
        from itineraries.planning.explain import engine_failure

        return engine_failure(self, skeleton, meta)

    def _msg_budget(self, cheapest: float) -> Msg:
        """Over budget before any route is looked at: ``cheapest`` is a lower bound
        of every route's cost."""
        from itineraries.planning.explain import msg_budget

        return msg_budget(self, cheapest, exact=False)

    def _msg_acclimatisation(self) -> Msg:
        from itineraries.planning.explain import msg_acclimatisation

        return msg_acclimatisation(self)

    def _explain_failure(self, search, cheapest_seen, stats, engine_fail) -> list[Msg]:
        from itineraries.planning.explain import explain_failure

        return explain_failure(self, search, cheapest_seen, stats, engine_fail)

    def _fixes(self, result: PlanResult, started: float) -> list[dict]:
        from itineraries.planning.explain import verified_fixes

        return verified_fixes(self, result)

    def days_needed(self) -> int | None:
        """How many days to add for a route to exist (rides of later dates must be
        in the world; the loader loads a week beyond the trip)."""
        for extra in range(1, 6):
            longer = replace(self.request, days=self.request.days + extra)
            planner = Planner(self.world, longer, time_limit_s=self.time_limit_s)
            search = planner.search()
            if search.best_to_go()(search.initial()) != float("-inf"):
                return extra
        return None

    # --- rendering -------------------------------------------------------------

    def _render(self, skeleton: Skeleton, stays_meta, problem, solution) -> PlanResult:
        from itineraries.planning.render import render_plan

        stays, meta = stays_meta
        return render_plan(self, skeleton, stays, problem, meta, solution)


def _day_minutes(plan: DayPlan) -> int:
    """Most minutes of experiences and sights a day can hold: its pace's active
    minutes, and no more than its free windows (they do not overlap)."""
    free = sum(max(0, s.hi - s.lo) for s in plan.segments)
    return min(plan.active_cap, free)


def _fractional(items: Iterable[tuple[int, int]], capacity: int) -> int:
    """Fractional knapsack of (value, minutes) items in ``capacity`` minutes."""
    total = 0.0
    for value, minutes in sorted(items, key=lambda i: -i[0] / max(1, i[1])):
        if capacity <= 0:
            break
        take = min(minutes, capacity)
        total += value * take / max(1, minutes)
        capacity -= take
    return int(total + 0.999)


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(set(windows)):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado")


def weekday(date: dt.date) -> Text:
    return Text(
        (*WEEKDAYS_EN, "Sunday")[date.weekday()],
        (*WEEKDAYS_ES, "domingo")[date.weekday()],
    )


def zone_name(world: World, place: str) -> Text:
    country = world.places[place].country
    if country == "BO":
        return Text("Bolivia time", "hora de Bolivia")
    return Text("Peru time", "hora de Perú")


def ride_title(world: World, ride: Ride) -> Text:
    origin = world.places[ride.origin].name
    destination = world.places[ride.destination].name
    mode, operator = ride.mode_name, ride.operator
    return Text(
        f"{mode.en.capitalize()} {origin.en} → {destination.en} ({operator})",
        f"{mode.es.capitalize()} {origin.es} → {destination.es} ({operator})",
    )


def link_title(world: World, link: Link) -> Text:
    origin = world.places[link.origin].name
    destination = world.places[link.destination].name
    mode = link.mode_name
    extra_en = f" ({link.operator})" if link.operator else ""
    if link.estimated:
        return Text(
            f"{mode.en.capitalize()} {origin.en} → {destination.en} "
            f"(about {link.minutes} min, estimated)",
            f"{mode.es.capitalize()} {origin.es} → {destination.es} "
            f"(unos {link.minutes} min, estimado)",
        )
    return Text(
        f"{mode.en.capitalize()} {origin.en} → {destination.en}{extra_en}",
        f"{mode.es.capitalize()} {origin.es} → {destination.es}{extra_en}",
    )


__all__ = [
    "MIN_EXCURSION_VISIT",
    "UNLIMITED",
    "Connection",
    "PlanResult",
    "Planner",
    "StayChoice",
]
