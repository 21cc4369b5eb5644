"""Plain data the planner works on: the request, and a snapshot of the world.

The planner never queries the database: :mod:`itineraries.selectors` loads a
:class:`World` (places, the timetabled rides of the plan's dates with their border
checks, the transfers that are not timetabled, the bookable stays and experiences
with their free capacity and the party's price, and the public sights) and
:mod:`itineraries.planning.planner` turns it into a plan. Tests build small worlds by
hand.

Time is one integer axis: minutes since ``World.epoch`` (00:00 UTC of the plan's
first date). Local clock times are converted with each place's IANA zone, so the
+1 h jump into Bolivia needs no special case. Money is integer minor units with a
currency.

Two kinds of movement exist:

* a :class:`Ride` is one run of a timetabled departure (a bus, the train, a lake
  boat) at a fixed time;
* a :class:`Link` is a way between two places that can be taken at any time within
  its service hours (a combi, a taxi, a walk, a cable car), from the staff-kept
  transfer table, or a straight-line estimate when the table has no pair (the plan
  then warns).

Places that are linked by short walks or rides (a town and the ruins above it, the
two ends of Isla del Sol) form one *cluster*: inside a cluster the traveller moves by
links; between clusters only by rides, or by the links of a day trip out and back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from catalogue.geo import km_between
from itineraries.planning.messages import Msg, Text

HUBS = ("cusco", "puno", "copacabana", "la-paz")
"""The towns of the route, in order from Cusco to La Paz. Plans run between two of
them, in either direction, sleeping in them and in their satellites (islands and
villages reached by boat or road from one hub and left again for it)."""

VIA_CHOICES = ("copacabana", "desaguadero", "any")
"""How an overland trip between Peru and Bolivia crosses: by Kasani and Copacabana
(the route the service is named for), by Desaguadero, or whichever plans best."""

ROUTE_CROSSINGS = {"kasani": "copacabana", "desaguadero": "desaguadero"}
ROUTE_CROSSINGS["cebaf"] = "desaguadero"

BUS = Text("bus", "bus")
LOCAL_MIN = 10  # moving within one place (a town's centre, a village)
CLUSTER_LINK_MIN = 20  # places linked this closely (or on foot) form one cluster
WALK_HOURS = (dt.time(6, 0), dt.time(18, 0))  # walks without hours: in daylight


class Pace:
    """The day's pace: earliest start, latest end (local clock), active minutes."""

    RELAXED = "relaxed"
    NORMAL = "normal"
    PACKED = "packed"
    CHOICES = (RELAXED, NORMAL, PACKED)
    # (earliest start, latest end, maximum minutes of experiences per day)
    LIMITS: Mapping[str, tuple[dt.time, dt.time, int]] = {
        RELAXED: (dt.time(8, 0), dt.time(20, 30), 5 * 60),
        NORMAL: (dt.time(7, 0), dt.time(21, 30), 8 * 60),
        PACKED: (dt.time(5, 30), dt.time(22, 30), 11 * 60),
    }


@dataclass(frozen=True)
class Budget:
    amount_minor: int
    currency: str


ItemKey = int | str
"""A listing id (int) or ``"sight:<slug>"``."""


def sight_key(slug: str) -> str:
    return f"sight:{slug}"


@dataclass(frozen=True)
class PlanRequest:
    """A validated plan request (the API checks the fields and names bad ones)."""

    origin: str
    destination: str
    start_date: dt.date
    days: int
    adults: int = 1
    children: int = 0
    nationality: str = ""
    arrival: str = "overland"  # or "flight"
    budget: Budget | None = None
    interests: Mapping[str, int] = field(default_factory=dict)
    pace: str = Pace.NORMAL
    include: tuple[ItemKey, ...] = ()
    exclude: tuple[ItemKey, ...] = ()
    via: str = "copacabana"
    keep_rides: tuple[str, ...] = ()  # Ride.key that must be used (re-plans)
    drop_rides: tuple[str, ...] = ()  # Ride.key that must not be used
    keep_stays: tuple[tuple[int, dt.date], ...] = ()  # (listing, night) to keep
    keep_nights: tuple[str | None, ...] = ()  # re-plans: where each night is spent
    # Re-plans keep what the traveller did not drop: these experiences, sights and
    # rides stay unless they no longer fit (the plan then says which).
    pinned: tuple[ItemKey, ...] = ()
    pinned_rides: tuple[str, ...] = ()
    seed: int = 0

    @property
    def has_pins(self) -> bool:
        return bool(self.pinned or self.pinned_rides)

    @property
    def persons(self) -> int:
        return self.adults + self.children

    @property
    def nights(self) -> int:
        return self.days - 1

    @property
    def by_air(self) -> bool:
        return self.arrival == "flight"


@dataclass(frozen=True)
class PlaceInfo:
    slug: str
    name: Text
    zone: zoneinfo.ZoneInfo
    country: str
    altitude_m: int
    latitude: float
    longitude: float
    kind: str = "town"
    access_confirm: bool = False  # access changes with local agreements

    @property
    def by_water(self) -> bool:
        return self.kind == "island"


@dataclass(frozen=True)
class Passage:
    """A ride passing a border post or the Tiquina strait."""

    crossing: str
    name: Text
    first_side: str  # place slug reached first (stored on the leg)
    second_side: str
    arrive: int  # minutes: reaches the first side
    leave: int  # minutes: through the second side
    passable: bool
    problems: tuple[Msg, ...] = ()
    hours: Text | None = None  # "07:00–20:00 (Peru time)" for the itinerary
    closes_local: str = ""  # closing time of the first side, local "HH:MM"
    disrupted: Text | None = None
    documents: Text | None = None


@dataclass(frozen=True)
class Stop:
    """A stop a ride makes on the way (the tourist bus at Raqchi, the boat at the
    Uros islands), with the sights visited there."""

    place: str
    arrive: int
    leave: int
    sights: tuple[str, ...] = ()  # sight slugs
    fee_included: bool = False  # the fare pays the entries


@dataclass(frozen=True)
class Ride:
    """One run of a timetabled departure on one date."""

    key: str  # "<departure id>@<local departure ISO datetime>"
    departure_id: int
    leg: str
    mode: str
    operator: str
    origin: str
    destination: str
    depart: int
    arrive: int
    price_minor: int  # the whole party
    currency: str
    seats_ok: bool = True
    listing_id: int | None = None  # a provider's bookable seats on this run
    verified: bool = True
    passage: Passage | None = None
    mode_name: Text = BUS
    stops: tuple[Stop, ...] = ()

    @property
    def minutes(self) -> int:
        return self.arrive - self.depart

    @property
    def route(self) -> str | None:
        """The border route this ride takes ("copacabana" / "desaguadero"), if any."""
        if self.passage is not None and self.passage.crossing in ROUTE_CROSSINGS:
            return ROUTE_CROSSINGS[self.passage.crossing]
        for place in (self.origin, self.destination):
            if place.startswith(("desaguadero", "cebaf")):
                return "desaguadero"
        return None


@dataclass(frozen=True)
class Link:
    """A way between two places that is not timetabled: taken at any time from
    ``opens`` to ``closes`` (local clock at the origin; None: any time)."""

    origin: str
    destination: str
    mode: str
    minutes: int
    price_minor: int  # the whole party
    currency: str
    mode_name: Text = BUS
    operator: str = ""
    opens: dt.time | None = None
    closes: dt.time | None = None
    verified: bool = True
    estimated: bool = False  # straight-line estimate (no transfer known)
    note: Text | None = None

    @property
    def key(self) -> str:
        return f"{self.origin}>{self.destination}:{self.mode}"


@dataclass(frozen=True)
class Session:
    """When an experience can start on one date (a start time or an opening window),
    or one night of a stay; with what is free and what the party pays."""

    earliest: int
    latest: int
    free: int
    price_minor: int
    start_time: str | None = None  # local "HH:MM" of a timed slot


UNLIMITED = 10**6


@dataclass(frozen=True)
class Offer:
    """A bookable stay, activity or guide of an approved provider, or a public sight
    (``kind == "sight"``, ``sight`` its slug, no listing, no capacity limit)."""

    listing_id: int | None
    kind: str  # "stay" | "activity" | "guide" | "sight"
    place: str
    title: Text
    provider: str
    community_run: bool
    currency: str
    tags: tuple[str, ...] = ()
    duration_min: int = 0
    strenuous: bool = False
    stay_type: str = ""
    on_request: bool = False
    party_ok: bool = True
    min_party: int = 1
    max_party: int | None = None
    sessions: Mapping[dt.date, tuple[Session, ...]] = field(default_factory=dict)
    end_place: str | None = None  # where it ends, when not where it starts
    covers: tuple[str, ...] = ()  # sight slugs an experience visits
    sight: str | None = None
    verified: bool = True
    confirm_locally: bool = False
    min_nights_at_altitude: int = 0
    fee_known: bool = True  # a sight whose fee no source gave: shown as unknown
    ticket: str = ""  # sights sharing one ticket pay it once

    @property
    def key(self) -> ItemKey:
        if self.sight is not None:
            return sight_key(self.sight)
        assert self.listing_id is not None
        return self.listing_id

    @property
    def ends_at(self) -> str:
        return self.end_place or self.place


class Rates(Protocol):
    """Exchange rates (``catalogue.selectors.RateTable`` in production)."""

    def convert_minor(
        self, amount_minor: int, from_currency: str, to_currency: str
    ) -> int: ...


@dataclass(frozen=True)
class World:
    epoch: dt.datetime  # 00:00 UTC of the first date
    places: Mapping[str, PlaceInfo]
    rides: tuple[Ride, ...]
    offers: tuple[Offer, ...]
    rates: Rates
    links: Mapping[tuple[str, str], tuple[Link, ...]] = field(default_factory=dict)
    stay_estimates: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    """Per place: an estimated price per person and night, when nothing is bookable."""
    satellites: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per hub: places slept in on side trips (islands, villages)."""
    estimate_prices: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    """Per country: the price of an estimated transfer per km for the whole party."""
    clusters: Mapping[str, str] = field(default_factory=dict)
    """Place → its cluster (computed from the links when not given)."""

    def __post_init__(self) -> None:
        if not self.clusters:
            object.__setattr__(
                self, "clusters", clusters_of(self.places, self.links.values())
            )

    def minute(self, place: str, day: dt.date, clock: dt.time) -> int:
        """Minutes since the epoch of local ``clock`` on ``day`` at ``place``."""
        local = dt.datetime.combine(day, clock, tzinfo=self.places[place].zone)
        return int((local - self.epoch).total_seconds() // 60)

    def local(self, place: str, minute: int) -> dt.datetime:
        return (self.epoch + dt.timedelta(minutes=minute)).astimezone(
            self.places[place].zone
        )

    def date_of(self, place: str, minute: int) -> dt.date:
        return self.local(place, minute).date()

    def cluster(self, place: str) -> str:
        return self.clusters.get(place, place)

    def without_places(self, places: set[str]) -> World:
        """This world without any way to, from or through ``places`` and without
        what is offered there (places whose access is volatile, when the traveller
        did not ask for them)."""
        if not places:
            return self

        def touches(*slugs: str | None) -> bool:
            return any(slug in places for slug in slugs)

        return dataclasses.replace(
            self,
            rides=tuple(
                r
                for r in self.rides
                if not touches(r.origin, r.destination, *(s.place for s in r.stops))
            ),
            offers=tuple(o for o in self.offers if not touches(o.place, o.end_place)),
            links={
                pair: links for pair, links in self.links.items() if not touches(*pair)
            },
            satellites={
                hub: tuple(p for p in sats if p not in places)
                for hub, sats in self.satellites.items()
            },
        )

    def km(self, a: str, b: str) -> float:
        pa, pb = self.places[a], self.places[b]
        return km_between(pa.latitude, pa.longitude, pb.latitude, pb.longitude)


def clusters_of(
    places: Mapping[str, PlaceInfo], links: Iterable[tuple[Link, ...]]
) -> dict[str, str]:
    """Places joined by walks or short links (both ways) into clusters; hubs are
    never joined to each other. A cluster is named by its hub, else by its first
    place in alphabetical order."""
    parent = {slug: slug for slug in places}

    def find(slug: str) -> str:
        while parent[slug] != slug:
            parent[slug] = parent[parent[slug]]
            slug = parent[slug]
        return slug

    pairs: dict[tuple[str, str], int] = {}
    for options in links:
        for link in options:
            if link.estimated or link.origin not in parent:
                continue
            if link.destination not in parent:
                continue
            if link.mode == "walk" or link.minutes <= CLUSTER_LINK_MIN:
                key = (link.origin, link.destination)
                pairs[key] = min(pairs.get(key, link.minutes), link.minutes)
    for a, b in sorted(pairs):
        if (b, a) not in pairs:
            continue
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        hubs_a = _cluster_hubs(parent, ra, find)
        hubs_b = _cluster_hubs(parent, rb, find)
        if hubs_a and hubs_b:
            continue  # two towns of the route stay apart
        if hubs_b:
            ra, rb = rb, ra
        parent[rb] = ra
    members: dict[str, list[str]] = {}
    for slug in places:
        members.setdefault(find(slug), []).append(slug)
    names: dict[str, str] = {}
    for group in members.values():
        hub = next((h for h in HUBS if h in group), None)
        name = hub or sorted(group)[0]
        for slug in group:
            names[slug] = name
    return names


def _cluster_hubs(parent: dict[str, str], root: str, find) -> list[str]:
    return [h for h in HUBS if h in parent and find(h) == root]
