"""Reads: the world snapshot a plan is computed on, and plans."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from catalogue.models import (
    Crossing,
    CrossingHours,
    Departure,
    Place,
    RouteLeg,
    Sight,
    Transfer,
)
from catalogue.selectors import departure_occurrences, exchange_rates_current
from itineraries.models import TripBooking, TripBookingPart, TripPlan
from itineraries.planning.messages import Msg, Text
from itineraries.planning.world import (
    HUBS,
    UNLIMITED,
    Link,
    Offer,
    Passage,
    PlaceInfo,
    PlanRequest,
    Ride,
    Session,
    Stop,
    World,
)
from providers.models import Listing, ListingUnit, PriceSchedule, Slot
from providers.selectors import listing_list_bookable, slot_keys, slot_starts_at

EXTRA_DAYS = 6  # rides loaded beyond the trip, to say how many days to add
DEFAULT_NIGHT = {"PE": (8000, "PEN"), "BO": (15000, "BOB")}  # per person, rough
DEFAULT_START, DEFAULT_END = dt.time(9, 0), dt.time(18, 0)
STAY_CHECK_IN = dt.time(14, 0)
STAY_KINDS = (Listing.Kind.STAY, Listing.Kind.ACTIVITY, Listing.Kind.GUIDE)


def plan_get(*, plan_id) -> TripPlan | None:
    return TripPlan.objects.filter(pk=plan_id).first()


def _both(label_of) -> Text:
    with translation.override("en"):
        en = str(label_of())
    with translation.override("es"):
        es = str(label_of())
    return Text(en, es)


def _passage(world_epoch: dt.datetime, occurrence, places) -> Passage | None:
    passage = occurrence.passage
    if passage is None:
        return None
    crossing: Crossing = passage.crossing
    first = passage.first_side
    hours = {h.side: h for h in crossing.hours.all()}
    first_side = (
        CrossingHours.Side.A if first.pk == crossing.side_a_id else CrossingHours.Side.B
    )
    first_hours = hours.get(first_side)
    zone = Text("Peru time", "hora de Perú")
    if first.country.code == "BO":
        zone = Text("Bolivia time", "hora de Bolivia")
    hours_text = None
    closes = ""
    if first_hours is not None:
        span = f"{first_hours.opens:%H:%M}–{first_hours.closes:%H:%M}"
        hours_text = Text(f"{span} {zone.en}", f"{span} {zone.es}")
        closes = f"{first_hours.closes:%H:%M}"
    problems: tuple[Msg, ...] = ()
    if not passage.passable:
        with translation.override("es"):
            from catalogue.selectors import crossing_passage

            spanish = crossing_passage(
                crossing=crossing,
                first_side_id=first.pk,
                arrive_at=passage.arrive_at,
            ).problems
        problems = tuple(
            Msg(gettext_noop("%(problem)s"), {"problem": Text(str(en), str(es))})
            for en, es in zip(passage.problems, spanish, strict=False)
        )

    def minute(instant: dt.datetime) -> int:
        return int((instant - world_epoch).total_seconds() // 60)

    disrupted = None
    if crossing.status == Crossing.Status.DISRUPTED:
        note = crossing.status_note or "disrupted"
        disrupted = Text(note, note)
    documents = None
    if crossing.documents_note_en or crossing.documents_note_es:
        documents = Text(crossing.documents_note_en, crossing.documents_note_es)
    return Passage(
        crossing=crossing.slug,
        name=Text(crossing.name_en, crossing.name_es),
        first_side=first.slug,
        second_side=passage.second_side.slug,
        arrive=minute(passage.arrive_at),
        leave=minute(passage.leave_at),
        passable=passage.passable,
        problems=problems,
        hours=hours_text,
        closes_local=closes,
        disrupted=disrupted,
        documents=documents,
    )


class _Unit(NamedTuple):
    code: str
    max_age: int | None
    price_minor: int
    occupies_capacity: bool
    seasons: tuple[tuple[dt.date, dt.date, int], ...]  # (starts, ends, price)


def _units_of(listing_ids: Iterable[int]) -> dict[int, list[_Unit]]:
    """Every listing's units with their seasonal prices, in two plain queries (at
    route scale, model instances and prefetching cost more than the planning)."""
    ids = list(listing_ids)
    seasons: dict[int, list[tuple[dt.date, dt.date, int]]] = defaultdict(list)
    for unit_id, starts, ends, price in (
        PriceSchedule.objects.filter(unit__listing_id__in=ids)
        .order_by("unit_id", "starts")
        .values_list("unit_id", "starts", "ends", "price_minor")
    ):
        seasons[unit_id].append((starts, ends, price))
    units: dict[int, list[_Unit]] = defaultdict(list)
    for unit_id, listing_id, code, max_age, price, takes_place in (
        ListingUnit.objects.filter(listing_id__in=ids)
        .order_by("listing_id", "price_minor", "pk")
        .values_list(
            "pk", "listing_id", "code", "max_age", "price_minor", "occupies_capacity"
        )
    ):
        units[listing_id].append(
            _Unit(code, max_age, price, takes_place, tuple(seasons.get(unit_id, ())))
        )
    return units


def _party_pricer(
    units: list[_Unit], adults: int, children: int
) -> Callable[[dt.date], int]:
    """The party's price of a listing as a function of the day (the adult and the
    child unit are picked once, as a trip booking will book them)."""
    picked = party_unit_pick(units)
    if picked is None:
        return lambda day: 0
    adult, child = picked
    parts = [(adults, adult)] + ([(children, child)] if children else [])

    def price(day: dt.date) -> int:
        # Same rule as providers.selectors.unit_price: the first season covering the
        # day, else the base price.
        return sum(
            count * next((p for a, b, p in u.seasons if a <= day <= b), u.price_minor)
            for count, u in parts
        )

    return price


def _world_minute(epoch: dt.datetime, zone, day: dt.date, clock: dt.time) -> int:
    local = dt.datetime.combine(day, clock, tzinfo=zone)
    return int((local - epoch).total_seconds() // 60)


def world_load(
    request: PlanRequest,
    *,
    now: dt.datetime | None = None,
    places_only: Iterable[str] | None = None,
) -> World:
    """Everything the planner needs for ``request``, in a handful of queries."""
    now = now or timezone.now()
    epoch = dt.datetime.combine(request.start_date, dt.time(0), tzinfo=dt.UTC)
    first = request.start_date
    last_offer = first + dt.timedelta(days=request.days - 1)
    last_ride = last_offer + dt.timedelta(days=EXTRA_DAYS)
    place_rows = list(Place.objects.select_related("country"))
    by_slug = {p.slug: p for p in place_rows}
    places = {
        p.slug: PlaceInfo(
            slug=p.slug,
            name=Text(p.name_en, p.name_es),
            zone=p.zone,
            country=p.country.code,
            altitude_m=p.altitude_m,
            latitude=float(p.latitude),
            longitude=float(p.longitude),
            kind=p.kind,
            access_confirm=p.access_confirm,
        )
        for p in place_rows
    }
    legs = list(
        RouteLeg.objects.exclude(mode=RouteLeg.Mode.FLIGHT).select_related(
            "origin", "destination"
        )
    )
    links = _links(request.persons)
    mode_names = {
        mode: _both(lambda label=label: label) for mode, label in RouteLeg.Mode.choices
    }
    persons = request.persons

    # Offers: bookable stays and experiences with their sessions on the trip's dates.
    listings = list(
        listing_list_bookable().filter(kind__in=STAY_KINDS).prefetch_related(None)
    )
    units = _units_of(listing.pk for listing in listings)
    covers: dict[int, list[str]] = defaultdict(list)
    for listing_id, slug in Listing.sights.through.objects.filter(
        listing_id__in=[listing.pk for listing in listings]
    ).values_list("listing_id", "sight__slug"):
        covers[listing_id].append(slug)
    # Free places per stored slot (closed: none); plain tuples, not model instances:
    # at route scale this is tens of thousands of rows.
    slots: dict[int, dict] = defaultdict(dict)
    rows = Slot.objects.filter(
        listing_id__in=[listing.pk for listing in listings],
        date__gte=first,
        date__lte=last_offer,
    ).values_list(
        "listing_id",
        "date",
        "start_time",
        "capacity",
        "held",
        "booked",
        "blocked",
        "closed",
    )
    for listing_id, date, start_time, capacity, held, booked, blocked, closed in rows:
        free = 0 if closed else max(0, capacity - held - booked - blocked)
        slots[listing_id][date, start_time] = free
    offers: list[Offer] = []
    stay_prices: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for listing in listings:
        place = by_slug.get(listing.place.slug)
        if place is None:
            continue
        zone = place.zone
        cutoff = now + dt.timedelta(hours=listing.booking_cutoff_hours)
        sessions: dict[dt.date, tuple[Session, ...]] = {}
        duration = listing.duration_min or 0
        if listing.kind != Listing.Kind.STAY and not duration:
            duration = 120
        price_on = _party_pricer(units[listing.pk], request.adults, request.children)
        listing_slots = slots[listing.pk]
        day = first
        while day <= last_offer:
            found = []
            price = price_on(day)
            for start_time in slot_keys(listing, day):
                slot = listing_slots.get((day, start_time))
                free = listing.default_capacity if slot is None else slot
                if listing.kind == Listing.Kind.STAY:
                    lo = hi = _world_minute(epoch, zone, day, STAY_CHECK_IN)
                elif start_time is not None:
                    lo = hi = _world_minute(epoch, zone, day, start_time)
                else:
                    opens = listing.opens or DEFAULT_START
                    closes = listing.closes or DEFAULT_END
                    lo = _world_minute(epoch, zone, day, opens)
                    hi = _world_minute(epoch, zone, day, closes) - duration
                if hi < lo:
                    continue
                if epoch + dt.timedelta(minutes=lo) < cutoff:
                    continue
                found.append(
                    Session(
                        earliest=lo,
                        latest=hi,
                        free=free,
                        price_minor=price,
                        start_time=start_time.strftime("%H:%M") if start_time else None,
                    )
                )
            if found:
                sessions[day] = tuple(found)
            day += dt.timedelta(days=1)
        party_ok = persons >= listing.min_party and (
            listing.max_party is None or persons <= listing.max_party
        )
        end_place = getattr(listing, "end_place", None)
        if listing.kind == Listing.Kind.STAY:
            adult_prices = [u.price_minor for u in units[listing.pk]]
            if adult_prices:
                stay_prices[place.slug].append((max(adult_prices), listing.currency))
        offers.append(
            Offer(
                listing_id=listing.pk,
                kind=listing.kind,
                place=place.slug,
                title=Text(listing.title_en, listing.title_es or listing.title_en),
                provider=listing.provider.name,
                community_run=listing.provider.community_run,
                currency=listing.currency,
                tags=tuple(listing.tags or ()),
                duration_min=duration,
                strenuous=listing.strenuous,
                stay_type=listing.stay_type,
                on_request=listing.confirmation == Listing.Confirmation.ON_REQUEST,
                party_ok=party_ok,
                min_party=listing.min_party,
                max_party=listing.max_party,
                sessions=sessions,
                end_place=end_place.slug if end_place is not None else None,
                covers=tuple(sorted(covers.get(listing.pk, ()))),
            )
        )
    offers.extend(_sight_offers(epoch, first, last_offer, persons, by_slug))

    # Satellites: places slept on side trips, reached from a hub by a leg or a
    # transfer, where a stay is bookable.
    stay_places = {o.place for o in offers if o.kind == Listing.Kind.STAY}
    satellites: dict[str, list[str]] = defaultdict(list)
    kinds = {p.slug: p.kind for p in place_rows}
    pairs = [(leg.origin.slug, leg.destination.slug) for leg in legs] + list(links)
    for origin, destination in pairs:
        if (
            origin in HUBS
            and destination not in HUBS
            and destination in stay_places
            and kinds.get(destination)
            not in (Place.Kind.BORDER_POST, Place.Kind.AIRPORT)
            and destination not in satellites[origin]
        ):
            satellites[origin].append(destination)

    # Stay estimates where nothing is bookable: the place's listed prices, else the
    # country's, else a rough default.
    estimates: dict[str, tuple[int, str]] = {}
    by_country: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for slug, prices in stay_prices.items():
        by_country[places[slug].country].extend(prices)
    for slug, info in places.items():
        prices = stay_prices.get(slug) or by_country.get(info.country)
        if prices:
            currency = prices[0][1]
            same = [p for p, c in prices if c == currency]
            estimates[slug] = (int(statistics.median(same)), currency)
        else:
            estimates[slug] = DEFAULT_NIGHT.get(info.country, (8000, "PEN"))

    # Rides on the trip's dates (and a few more, to say how many days to add).
    departures = list(
        Departure.objects.exclude(leg__mode=RouteLeg.Mode.FLIGHT)
        .select_related(
            "leg__origin__country",
            "leg__destination__country",
            "leg__crossing__side_a__country",
            "leg__crossing__side_b__country",
        )
        .prefetch_related(
            Prefetch(
                "leg__crossing__hours", queryset=CrossingHours.objects.order_by("side")
            ),
            Prefetch(
                "listings",
                queryset=listing_list_bookable(
                    kind=Listing.Kind.TRANSPORT
                ).prefetch_related(None),
            ),
        )
    )
    transport_slots = defaultdict(dict)
    transport_ids = {listing.pk for d in departures for listing in d.listings.all()}
    transport_units = _units_of(transport_ids)
    for slot in Slot.objects.filter(
        listing_id__in=transport_ids, date__gte=first, date__lte=last_ride
    ):
        transport_slots[slot.listing_id][slot.date, slot.start_time] = slot
    rides: list[Ride] = []
    with translation.override("en"):
        for departure in departures:
            leg = departure.leg
            linked = list(departure.listings.all())  # one manager, not one per run
            day = first
            while day <= last_ride:
                for occurrence in departure_occurrences(departure=departure, day=day):
                    local = occurrence.depart_local
                    depart = int((occurrence.depart_at - epoch).total_seconds() // 60)
                    price = departure.price_minor * persons
                    currency = departure.currency
                    listing_id = None
                    for listing in linked:
                        slot = transport_slots[listing.pk].get((day, local.time()))
                        free = listing.default_capacity if slot is None else slot.free
                        if free >= persons and listing.operates_on(day):
                            listing_id = listing.pk
                            price = _party_pricer(
                                transport_units[listing.pk],
                                request.adults,
                                request.children,
                            )(day)
                            currency = listing.currency
                            break
                    rides.append(
                        Ride(
                            key=f"{departure.pk}@{local.replace(tzinfo=None).isoformat(timespec='minutes')}",
                            departure_id=departure.pk,
                            leg=leg.slug,
                            mode=leg.mode,
                            operator=departure.operator,
                            origin=leg.origin.slug,
                            destination=leg.destination.slug,
                            depart=depart,
                            arrive=depart + departure.duration_min,
                            price_minor=price,
                            currency=currency,
                            seats_ok=departure.seats >= persons
                            or listing_id is not None,
                            listing_id=listing_id,
                            verified=departure.verified,
                            passage=_passage(epoch, occurrence, by_slug),
                            mode_name=mode_names[leg.mode],
                            stops=tuple(
                                Stop(
                                    place=stop["place"],
                                    arrive=depart + stop["after_min"],
                                    leave=depart + stop["after_min"] + stop["minutes"],
                                    sights=tuple(stop.get("sights", ())),
                                    fee_included=bool(stop.get("fee_included")),
                                )
                                for stop in leg.stops or ()
                                if stop.get("place") in by_slug
                            ),
                        )
                    )
                day += dt.timedelta(days=1)
    return World(
        epoch=epoch,
        places=places,
        rides=tuple(sorted(rides, key=lambda r: (r.depart, r.key))),
        offers=tuple(offers),
        rates=exchange_rates_current(),
        links=links,
        stay_estimates=estimates,
        satellites={hub: tuple(sorted(s)) for hub, s in satellites.items()},
    )


def _links(persons: int) -> dict[tuple[str, str], tuple[Link, ...]]:
    """The staff-kept transfers as the planner's links, priced for the party."""
    names = {
        mode: _both(lambda label=label: label) for mode, label in Transfer.Mode.choices
    }
    links: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for transfer in Transfer.objects.select_related("origin", "destination"):
        if transfer.price_per == Transfer.PricePer.VEHICLE:
            vehicles = -(-persons // max(1, transfer.vehicle_seats or 1))
            price = transfer.price_minor * vehicles
        else:
            price = transfer.price_minor * persons
        note = None
        if transfer.confirm_locally:
            note = Text("confirm locally", "confírmelo en el lugar")
        link = Link(
            origin=transfer.origin.slug,
            destination=transfer.destination.slug,
            mode=transfer.mode,
            minutes=transfer.minutes,
            price_minor=price,
            currency=transfer.currency,
            mode_name=names[transfer.mode],
            opens=transfer.service_from,
            closes=transfer.service_until,
            verified=transfer.verified,
            note=note,
        )
        links[link.origin, link.destination].append(link)
    return {pair: tuple(options) for pair, options in links.items()}


# A sight open at all hours (a village, a plaza, a viewpoint) is visited in
# daylight: the sun sets about 17:45 (June) to 18:45 (December) at the lake.
VISIT_DAYLIGHT = (dt.time(6, 30), dt.time(19, 0))


def _sight_offers(
    epoch: dt.datetime,
    first: dt.date,
    last: dt.date,
    persons: int,
    places: dict[str, Place],
) -> list[Offer]:
    """The public sights as offers: a session per opening window of each date,
    no capacity limit, the entry fee for the whole party."""
    offers = []
    for sight in Sight.objects.select_related("place").prefetch_related("hours"):
        place = places.get(sight.place.slug)
        if place is None:
            continue
        sessions: dict[dt.date, tuple[Session, ...]] = {}
        fee = (sight.fee_minor or 0) * persons
        day = first
        while day <= last:
            found = []
            windows = [VISIT_DAYLIGHT] if sight.always_open else sight.windows_on(day)
            for opens, closes in windows:
                lo = _world_minute(epoch, place.zone, day, opens)
                hi = _world_minute(epoch, place.zone, day, closes) - sight.visit_min
                if hi >= lo:
                    found.append(Session(lo, hi, UNLIMITED, fee))
            if found:
                sessions[day] = tuple(found)
            day += dt.timedelta(days=1)
        offers.append(
            Offer(
                listing_id=None,
                kind="sight",
                place=place.slug,
                title=Text(sight.name_en, sight.name_es or sight.name_en),
                provider="",
                community_run=False,
                currency=sight.fee_currency,
                tags=tuple(sight.tags or ()),
                duration_min=sight.visit_min,
                strenuous=sight.effort == Sight.Effort.STRENUOUS,
                sessions=sessions,
                sight=sight.slug,
                verified=sight.verified and sight.hours_known,
                confirm_locally=sight.confirm_locally,
                min_nights_at_altitude=sight.min_nights_at_altitude,
                fee_known=sight.fee_minor is not None,
                ticket=sight.fee_ticket,
            )
        )
    return offers


# --- Whole-itinerary holds: which steps of a plan are booked, and trip bookings -----


def party_unit_pick(units: list) -> tuple | None:
    """The listing units an adult and a child of a plan's party are booked as: the
    planner's pricing rule (the ``adult`` and ``child`` codes, else the dearest unit
    open to adults and the first, cheapest, for under-18s), except that a child is
    never an infant on a lap (a child of the plan takes a place); children count as
    adults when the listing has no child unit. None without units."""
    if not units:
        return None
    adult = next((u for u in units if u.code == "adult"), None) or max(
        (u for u in units if u.max_age is None or u.max_age >= 18),
        key=lambda u: u.price_minor,
        default=units[-1],
    )
    child = next((u for u in units if u.code == "child"), None) or next(
        (
            u
            for u in units
            if u.max_age is not None
            and u.max_age < 18
            and getattr(u, "occupies_capacity", True)
        ),
        adult,
    )
    return adult, child


def party_units(listing: Listing, adults: int, children: int) -> dict[str, int]:
    """``{unit code: quantity}`` booking a plan's party on ``listing``."""
    picked = party_unit_pick(list(listing.units.all()))
    if picked is None:
        return {}
    adult, child = picked
    units: dict[str, int] = {}
    for unit, count in ((adult, adults), (child, children)):
        if count:
            units[unit.code] = units.get(unit.code, 0) + count
    return units


@dataclass(frozen=True)
class TripPartSpec:
    """One part of a solved plan as a trip booking sees it: a step with a provider's
    listing is held on its slot (a stay per night, an activity at its start, a
    provider's transport service at its departure); the rest is paid locally (a
    timetabled departure paid on board, a stay to book on arrival)."""

    step_id: str
    kind: str  # "stay", "activity" or "transport"
    title: dict | str
    day: dt.date
    start_time: dt.time | None
    start: str | None  # the step's local start, ISO 8601 with the offset
    listing_id: int | None = None
    departure_id: int | None = None
    price: dict | None = None

    @property
    def slot_order(self) -> tuple:
        """The global order trip holds take slots in (so two cannot deadlock)."""
        return (
            self.listing_id or 0,
            self.day,
            self.start_time is not None,
            self.start_time or dt.time.min,
            self.step_id,
        )


def _ride_when(ride_key: str) -> tuple[dt.date, dt.time]:
    """A ride key (``<departure id>@<local departure, minutes>``) as its local date
    and time at the origin: the slot of a provider's transport service."""
    local = dt.datetime.fromisoformat(ride_key.split("@", 1)[1])
    return local.date(), local.time()


def plan_trip_parts(plan: TripPlan) -> tuple[list[TripPartSpec], list[TripPartSpec]]:
    """``(held, local)``: the plan's parts a trip booking holds, in the global slot
    order, and the parts paid locally, in plan order. A ride split at a border (two
    transport steps and the crossing) is one part, named by its first step."""
    held: list[TripPartSpec] = []
    local: list[TripPartSpec] = []
    rides: set[str] = set()
    for day in plan.days or []:
        for step in day["steps"]:
            kind = step["kind"]
            common = {
                "step_id": step["id"],
                "title": step.get("title") or "",
                "start": step.get("start"),
                "price": step.get("price"),
            }
            if kind in ("stay", "activity"):
                slot = step.get("slot")
                if step.get("listing") and slot:
                    held.append(
                        TripPartSpec(
                            kind=kind,
                            day=dt.date.fromisoformat(slot["date"]),
                            start_time=dt.time.fromisoformat(slot["start_time"])
                            if slot.get("start_time")
                            else None,
                            listing_id=int(step["listing"]),
                            **common,
                        )
                    )
                elif kind == "stay":
                    local.append(
                        TripPartSpec(
                            kind=kind,
                            day=dt.date.fromisoformat(day["date"]),
                            start_time=None,
                            **common,
                        )
                    )
            elif step.get("ride") and step["ride"] not in rides:
                rides.add(step["ride"])
                when, clock = _ride_when(step["ride"])
                spec = TripPartSpec(
                    kind="transport",
                    day=when,
                    start_time=clock,
                    listing_id=int(step["listing"]) if step.get("listing") else None,
                    departure_id=step.get("departure"),
                    **common,
                )
                (held if spec.listing_id else local).append(spec)
    held.sort(key=lambda spec: spec.slot_order)
    return held, local


def trip_booking_list() -> QuerySet[TripBooking]:
    """Trip bookings with their parts' bookings, listings, providers and slots."""
    return TripBooking.objects.select_related("plan").prefetch_related(
        Prefetch(
            "parts",
            queryset=TripBookingPart.objects.select_related(
                "booking__listing__place__country",
                "booking__listing__provider",
                "booking__slot",
            ).order_by("booking__slot__date", "booking__slot__start_time", "pk"),
        )
    )


@dataclass(frozen=True)
class TripPartStep:
    """A held part of a trip booking with its plan step (empty when the step is no
    longer in the plan) and its local start."""

    part: TripBookingPart
    step: dict
    starts: dt.datetime


def trip_parts_in_plan_order(trip: TripBooking) -> list[TripPartStep]:
    """The trip's held parts in the order of their steps in the plan (parts whose
    step is gone last, by step id), as the API and the website show them."""
    steps = {step["id"]: step for day in trip.plan.days or [] for step in day["steps"]}
    order = {step_id: index for index, step_id in enumerate(steps)}
    parts = sorted(
        trip.parts.all(),
        key=lambda part: (order.get(part.step_id, len(order)), part.step_id),
    )
    return [
        TripPartStep(
            part=part,
            step=steps.get(part.step_id) or {},
            starts=slot_starts_at(
                listing=part.booking.listing,
                day=part.booking.slot.date,
                start_time=part.booking.slot.start_time,
            ),
        )
        for part in parts
    ]


def trip_booking_get(*, trip_id) -> TripBooking | None:
    return trip_booking_list().filter(pk=trip_id).first()


@dataclass(frozen=True)
class TripOwner:
    """Who asks about a plan or a trip booking: the agency of the API key, the
    signed-in traveller, the manage token of a trip booking (the X-Manage-Token
    header, or the website session), the plan's secret (the X-Plan-Secret header, or
    the website's plan URL), and, for a hold without an account or API key, who the
    visitor is (``visitor_hash``: their website session or their address). Any may
    be missing."""

    agency: object | None = None  # agencies.models.Agency
    user: object | None = None  # a signed-in user
    token: str = ""
    plan_secret: str = ""
    visitor: str = ""

    @property
    def anonymous(self) -> bool:
        return self.agency is None and self.user is None


def manage_token_hash(token: str) -> str:
    # 256 random bits: one SHA-256 is enough (nothing to brute-force).
    return hashlib.sha256(token.encode()).hexdigest()


def plan_secret_hash(secret: str) -> str:
    # Random too (secrets.token_urlsafe): one SHA-256 is enough.
    return hashlib.sha256(secret.encode()).hexdigest()


def visitor_hash(ident: str) -> str:
    """The stored form of a visitor's identity (``session-…``, ``ip-…``)."""
    return hashlib.sha256(ident.encode()).hexdigest()


def manage_token_expiry(plan: TripPlan) -> dt.datetime:
    """When a manage token of a trip on ``plan`` stops working: the end of the
    MANAGE_TOKEN_DAYS_AFTER_TRIP-th day after the trip's last day (UTC)."""
    dates = [day["date"] for day in plan.days or [] if day.get("date")]
    if dates:
        last = max(dt.date.fromisoformat(d) for d in dates)
    else:
        request = plan.request or {}
        last = dt.date.fromisoformat(str(request["start_date"])) + dt.timedelta(
            days=int(request.get("days", 1)) - 1
        )
    after = dt.timedelta(days=settings.MANAGE_TOKEN_DAYS_AFTER_TRIP + 1)
    return dt.datetime.combine(last + after, dt.time.min, tzinfo=dt.UTC)


def _token_live(now: dt.datetime) -> Q:
    return Q(manage_token_expires_at__isnull=True) | Q(manage_token_expires_at__gt=now)


def manage_token_expired_at(token: str) -> dt.datetime | None:
    """When ``token``'s manage token expired, if it is one that has; else None
    (unknown tokens too)."""
    if not token or len(token) > 200:
        return None
    return (
        TripBooking.objects.filter(
            manage_token_hash=manage_token_hash(token),
            manage_token_expires_at__lte=timezone.now(),
        )
        .values_list("manage_token_expires_at", flat=True)
        .first()
    )


def _owner_filter(owner: TripOwner) -> Q | None:
    conditions = []
    if owner.agency is not None:
        conditions.append(Q(agency=owner.agency))
    if owner.user is not None:
        conditions.append(Q(user=owner.user))
    if owner.token:
        conditions.append(
            Q(
                manage_token_hash=manage_token_hash(owner.token),
                agency__isnull=True,
                user__isnull=True,
            )
            & _token_live(timezone.now())
        )
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def trip_booking_get_owned(*, trip_id, owner: TripOwner) -> TripBooking | None:
    """The trip booking if ``owner`` made it (its agency, its traveller, or the
    holder of its manage token), else None: to anyone else it does not exist."""
    owned = _owner_filter(owner)
    if owned is None:
        return None
    return trip_booking_list().filter(owned, pk=trip_id).first()


def trip_booking_for_plan(
    *, plan_id, owner: TripOwner, trip_id=None
) -> TripBooking | None:
    """``owner``'s trip booking of a plan: ``trip_id`` when given, else the active
    one (on hold or confirmed), else the latest."""
    owned = _owner_filter(owner)
    if owned is None:
        return None
    trips = trip_booking_list().filter(owned, plan_id=plan_id)
    if trip_id is not None:
        trips = trips.filter(pk=trip_id)
    active = (TripBooking.Status.ON_HOLD, TripBooking.Status.CONFIRMED)
    return (
        trips.filter(status__in=active).order_by("-created_at").first()
        or trips.order_by("-created_at").first()
    )


def plan_open_to(plan: TripPlan, owner: TripOwner) -> bool:
    """Whether ``owner`` may read, re-plan and hold ``plan``: a plan made with an
    agency's API key is that agency's alone; any other plan is open to the
    signed-in traveller who made it, to whoever holds its secret (compared in
    constant time), and to the owner of a trip booking of it by its manage token
    (to hold it again). To anyone else it does not exist (404)."""
    if plan.agency_id is not None:
        return owner.agency is not None and owner.agency.pk == plan.agency_id
    if owner.user is not None and plan.user_id == owner.user.pk:
        return True
    if (
        plan.secret_hash
        and owner.plan_secret
        and hmac.compare_digest(plan.secret_hash, plan_secret_hash(owner.plan_secret))
    ):
        return True
    if owner.token:
        return TripBooking.objects.filter(
            _token_live(timezone.now()),
            plan=plan,
            manage_token_hash=manage_token_hash(owner.token),
            agency__isnull=True,
        ).exists()
    return False
