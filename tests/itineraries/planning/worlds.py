"""Small hand-made worlds for planner tests (no database)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from itineraries.planning.messages import Text
from itineraries.planning.world import (
    Offer,
    Passage,
    PlaceInfo,
    PlanRequest,
    Ride,
    Session,
    World,
)

LIMA = zoneinfo.ZoneInfo("America/Lima")
LA_PAZ = zoneinfo.ZoneInfo("America/La_Paz")
START = dt.date(2027, 3, 1)  # a Monday

PLACES = {
    "cusco": ("Cusco", "PE", 3399),
    "puno": ("Puno", "PE", 3827),
    "kasani-pe": ("Kasani (Peru)", "PE", 3830),
    "kasani-bo": ("Kasani (Bolivia)", "BO", 3830),
    "copacabana": ("Copacabana", "BO", 3862),
    "isla-del-sol-yumani": ("Isla del Sol", "BO", 4000),
    "la-paz": ("La Paz", "BO", 3640),
}


class Rates:
    per_usd = {"USD": Decimal(1), "PEN": Decimal("3.5"), "BOB": Decimal("7")}

    def convert_minor(
        self, amount_minor: int, from_currency: str, to_currency: str
    ) -> int:
        if from_currency == to_currency:
            return amount_minor
        usd = Decimal(amount_minor) / self.per_usd[from_currency]
        value = usd * self.per_usd[to_currency]
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def minute(place: str, day: dt.date, clock: str) -> int:
    zone = LIMA if PLACES[place][1] == "PE" else LA_PAZ
    epoch = dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC)
    local = dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=zone)
    return int((local - epoch).total_seconds() // 60)


@dataclass
class WorldBuilder:
    rides: list[Ride] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    kasani_closes: str = "20:00"
    satellites: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _next_id: int = 1

    def ride(
        self,
        origin: str,
        destination: str,
        day: dt.date,
        clock: str,
        minutes: int,
        *,
        price: int = 3000,
        currency: str = "PEN",
        kasani_after: int | None = None,
        mode: str = "bus",
        seats_ok: bool = True,
    ) -> Ride:
        depart = minute(origin, day, clock)
        passage = None
        if kasani_after is not None:
            arrive = depart + kasani_after
            # Kasani (Peru side) open 07:00–20:00 Peru time: compare clock times.
            local = (
                dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC)
                + dt.timedelta(minutes=arrive)
            ).astimezone(LIMA)
            leave_local = local + dt.timedelta(minutes=60)
            close_clock = dt.time.fromisoformat(self.kasani_closes)
            passable = dt.time(7) <= local.time() and leave_local.time() <= close_clock
            passage = Passage(
                crossing="kasani",
                name=Text("Kasani", "Kasani"),
                first_side="kasani-pe",
                second_side="kasani-bo",
                arrive=arrive,
                leave=arrive + 60,
                passable=passable,
                problems=()
                if passable
                else (
                    _problem(f"Kasani is closed at {leave_local:%H:%M} (Peru time)."),
                ),
                hours=Text("07:00–20:00 Peru time", "07:00–20:00 hora de Perú"),
                closes_local=self.kasani_closes,
            )
        ride = Ride(
            key=f"{self._next_id}@{day.isoformat()}T{clock}",
            departure_id=self._next_id,
            leg=f"{origin}-{destination}",
            mode=mode,
            operator="Test Bus",
            origin=origin,
            destination=destination,
            depart=depart,
            arrive=depart + minutes,
            price_minor=price,
            currency=currency,
            seats_ok=seats_ok,
            passage=passage,
            mode_name=Text(mode, mode),
        )
        self._next_id += 1
        self.rides.append(ride)
        return ride

    def daily(self, origin, destination, clock, minutes, days=10, **kwargs) -> None:
        for i in range(days):
            self.ride(
                origin,
                destination,
                START + dt.timedelta(days=i),
                clock,
                minutes,
                **kwargs,
            )

    def activity(
        self,
        listing_id: int,
        place: str,
        clock: str,
        minutes: int,
        *,
        days: list[dt.date] | None = None,
        tags: tuple[str, ...] = ("lake",),
        price: int = 2000,
        free: int = 10,
        community_run: bool = False,
        strenuous: bool = False,
        party_ok: bool = True,
    ) -> Offer:
        days = (
            days
            if days is not None
            else [START + dt.timedelta(days=i) for i in range(10)]
        )
        sessions = {}
        for day in days:
            start = minute(place, day, clock)
            sessions[day] = (Session(start, start, free, price, clock),)
        offer = Offer(
            listing_id=listing_id,
            kind="activity",
            place=place,
            title=Text(f"Activity {listing_id}", f"Actividad {listing_id}"),
            provider="Test provider",
            community_run=community_run,
            currency="PEN" if PLACES[place][1] == "PE" else "BOB",
            tags=tags,
            duration_min=minutes,
            strenuous=strenuous,
            party_ok=party_ok,
            sessions=sessions,
        )
        self.offers.append(offer)
        return offer

    def stay(
        self,
        listing_id: int,
        place: str,
        *,
        price: int = 10000,
        free: int | dict[dt.date, int] = 10,
        community_run: bool = False,
        days: int = 10,
    ) -> Offer:
        sessions = {}
        for i in range(days):
            day = START + dt.timedelta(days=i)
            room = free.get(day, 10) if isinstance(free, dict) else free
            check_in = minute(place, day, "14:00")
            sessions[day] = (Session(check_in, check_in, room, price),)
        offer = Offer(
            listing_id=listing_id,
            kind="stay",
            place=place,
            title=Text(f"Stay {listing_id}", f"Alojamiento {listing_id}"),
            provider="Test family",
            community_run=community_run,
            currency="PEN" if PLACES[place][1] == "PE" else "BOB",
            tags=("culture",),
            sessions=sessions,
        )
        self.offers.append(offer)
        return offer

    def build(self) -> World:
        places = {
            slug: PlaceInfo(
                slug=slug,
                name=Text(name, name),
                zone=LIMA if country == "PE" else LA_PAZ,
                country=country,
                altitude_m=altitude,
                latitude=0.0,
                longitude=0.0,
            )
            for slug, (name, country, altitude) in PLACES.items()
        }
        travel = {}
        for a in PLACES:
            for b in PLACES:
                if a != b:
                    travel[a, b] = 600
        return World(
            epoch=dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC),
            places=places,
            travel=travel,
            rides=tuple(sorted(self.rides, key=lambda r: (r.depart, r.key))),
            offers=tuple(self.offers),
            rates=Rates(),
            stay_estimates={"*": (9000, "PEN")},
            satellites=self.satellites,
            areas={},
        )


def _problem(text: str):
    from itineraries.planning.messages import Msg

    return Msg("%(problem)s", {"problem": Text(text, text)})


def request(**kwargs) -> PlanRequest:
    values = {
        "origin": "puno",
        "destination": "copacabana",
        "start_date": START,
        "days": 2,
        "adults": 2,
    }
    values.update(kwargs)
    return PlanRequest(**values)
