"""Plain data the planner works on: the request, and a snapshot of the world.

The planner never queries the database: :mod:`itineraries.selectors` loads a
:class:`World` (places, the timetabled rides of the plan's dates with their border
checks, and the bookable stays and experiences with their free capacity and the
party's price) and :mod:`itineraries.planning.planner` turns it into a plan. Tests
build small worlds by hand.

Time is one integer axis: minutes since ``World.epoch`` (00:00 UTC of the plan's
first date). Local clock times are converted with each place's IANA zone, so the
+1 h jump into Bolivia needs no special case. Money is integer minor units with a
currency.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from itineraries.planning.messages import Msg, Text

HUBS = ("cusco", "puno", "copacabana", "la-paz")
"""The towns of the route, in order from Cusco to La Paz. Plans run between two of
them, in either direction, sleeping in them and in their satellites (islands and
villages reached by boat or road from one hub and left again for it)."""


BUS = Text("bus", "bus")


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
    include: tuple[int, ...] = ()
    exclude: tuple[int, ...] = ()
    keep_rides: tuple[str, ...] = ()  # Ride.key that must be used (re-plans)
    drop_rides: tuple[str, ...] = ()  # Ride.key that must not be used
    keep_stays: tuple[tuple[int, dt.date], ...] = ()  # (listing, night) to keep
    seed: int = 0

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


@dataclass(frozen=True)
class Passage:
    """A ride passing a border post or the Tiquina strait."""

    crossing: str
    name: Text
    first_side: str  # place slug reached first
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

    @property
    def minutes(self) -> int:
        return self.arrive - self.depart


@dataclass(frozen=True)
class Session:
    """When an experience can start on one date (a start time or an opening window),
    or one night of a stay; with what is free and what the party pays."""

    earliest: int
    latest: int
    free: int
    price_minor: int
    start_time: str | None = None  # local "HH:MM" of a timed slot


@dataclass(frozen=True)
class Offer:
    """A bookable stay, activity or guide of an approved provider."""

    listing_id: int
    kind: str  # "stay" | "activity" | "guide"
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
    party_note: Msg | None = None
    sessions: Mapping[dt.date, tuple[Session, ...]] = field(default_factory=dict)


class Rates(Protocol):
    """Exchange rates (``catalogue.selectors.RateTable`` in production)."""

    def convert_minor(
        self, amount_minor: int, from_currency: str, to_currency: str
    ) -> int: ...


@dataclass(frozen=True)
class World:
    epoch: dt.datetime  # 00:00 UTC of the first date
    places: Mapping[str, PlaceInfo]
    travel: Mapping[tuple[str, str], int]  # minutes between places (estimates)
    rides: tuple[Ride, ...]
    offers: tuple[Offer, ...]
    rates: Rates
    stay_estimates: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    """Per place: an estimated price per person and night, when nothing is bookable."""
    satellites: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per hub: places slept in on side trips (islands, villages)."""
    areas: Mapping[str, str] = field(default_factory=dict)
    """Place of an experience → the overnight place it is visited from."""

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

    def between(self, a: str, b: str) -> int:
        """Minutes from place ``a`` to place ``b`` (10 within one place)."""
        if a == b:
            return 10
        return self.travel.get((a, b), self.travel.get((b, a), 24 * 60))
