"""Small hand-made worlds for planner tests (no database)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from itineraries.planning.messages import Text
from itineraries.planning.world import (
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

LIMA = zoneinfo.ZoneInfo("America/Lima")
LA_PAZ = zoneinfo.ZoneInfo("America/La_Paz")
START = dt.date(2027, 3, 1)  # a Monday

PLACES = {
    "cusco": ("Cusco", "PE", 3399),
    "pisac": ("Pisac", "PE", 2972),
    "raqchi": ("Raqchi", "PE", 3480),
    "puno": ("Puno", "PE", 3827),
    "uros": ("Uros", "PE", 3810),
    "taquile": ("Taquile", "PE", 3925),
    "amantani": ("Amantaní", "PE", 3925),
    "llachon": ("Llachón", "PE", 3870),
    "sillustani": ("Sillustani", "PE", 3890),
    "kasani-pe": ("Kasani (Peru)", "PE", 3830),
    "kasani-bo": ("Kasani (Bolivia)", "BO", 3830),
    "desaguadero-pe": ("Desaguadero (Peru)", "PE", 3827),
    "desaguadero-bo": ("Desaguadero (Bolivia)", "BO", 3827),
    "copacabana": ("Copacabana", "BO", 3862),
    "yampupata": ("Yampupata", "BO", 3850),
    "isla-del-sol-yumani": ("Isla del Sol", "BO", 4000),
    "isla-del-sol-challapampa": ("Challapampa", "BO", 3815),
    "tiwanaku": ("Tiwanaku", "BO", 3863),
    "la-paz": ("La Paz", "BO", 3640),
}
ISLANDS = {"uros", "taquile", "amantani"}
# Rough coordinates (for straight-line estimates only).
COORDS = {
    "cusco": (-13.52, -71.97),
    "pisac": (-13.42, -71.85),
    "puno": (-15.84, -70.02),
    "sillustani": (-15.72, -70.16),
    "llachon": (-15.72, -69.75),
    "copacabana": (-16.17, -69.09),
    "yampupata": (-16.06, -69.18),
    "tiwanaku": (-16.56, -68.68),
    "la-paz": (-16.50, -68.15),
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
    links: dict[tuple[str, str], list[Link]] = field(default_factory=dict)
    kasani_closes: str = "20:00"
    cebaf_closes: str = "20:00"
    satellites: dict[str, tuple[str, ...]] = field(default_factory=dict)
    volatile: set[str] = field(default_factory=set)  # access to confirm locally
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
        crossing: str = "kasani",
        stops: tuple = (),
    ) -> Ride:
        depart = minute(origin, day, clock)
        passage = None
        into_peru = PLACES[origin][1] == "BO"
        post = "desaguadero" if crossing in ("desaguadero", "cebaf") else "kasani"
        sides = (f"{post}-pe", f"{post}-bo")
        if into_peru:
            sides = sides[::-1]
        if kasani_after is not None:
            arrive = depart + kasani_after
            # Kasani (Peru side) open 07:00–20:00 Peru time: compare clock times.
            local = (
                dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC)
                + dt.timedelta(minutes=arrive)
            ).astimezone(LIMA)
            leave_local = local + dt.timedelta(minutes=60)
            # Kasani's closing is the builder's to change; the CEBAF keeps 08–20.
            closes = self.kasani_closes if crossing == "kasani" else self.cebaf_closes
            opens = dt.time(7) if crossing == "kasani" else dt.time(8)
            close_clock = dt.time.fromisoformat(closes)
            passable = opens <= local.time() and leave_local.time() <= close_clock
            passage = Passage(
                crossing=crossing,
                name=Text(crossing.capitalize(), crossing.capitalize()),
                first_side=sides[0],
                second_side=sides[1],
                arrive=arrive,
                leave=arrive + 60,
                passable=passable,
                problems=()
                if passable
                else (
                    _problem(
                        f"{post.title()} is closed at {leave_local:%H:%M} (Peru time)."
                    ),
                ),
                hours=Text("07:00–20:00 Peru time", "07:00–20:00 hora de Perú"),
                closes_local=closes,
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
            stops=tuple(
                Stop(place, depart + after, depart + after + minutes, sights, included)
                for place, after, minutes, sights, included in stops
            ),
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
        min_party: int = 1,
        end_place: str | None = None,
        opens: str | None = None,
        covers: tuple[str, ...] = (),
    ) -> Offer:
        days = (
            days
            if days is not None
            else [START + dt.timedelta(days=i) for i in range(10)]
        )
        sessions = {}
        for day in days:
            start = minute(place, day, clock)
            latest = start if opens is None else minute(place, day, opens)
            sessions[day] = (
                Session(start, latest, free, price, clock if opens is None else None),
            )
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
            min_party=min_party,
            sessions=sessions,
            end_place=end_place,
            covers=covers,
        )
        self.offers.append(offer)
        return offer

    def sight(
        self,
        slug: str,
        place: str,
        *,
        opens: str = "08:00",
        closes: str = "17:00",
        minutes: int = 60,
        fee: int = 0,
        tags: tuple[str, ...] = ("archaeology",),
        days: list[dt.date] | None = None,
        ticket: str = "",
    ) -> Offer:
        days = (
            days
            if days is not None
            else [START + dt.timedelta(days=i) for i in range(10)]
        )
        sessions = {}
        for day in days:
            lo = minute(place, day, opens)
            hi = minute(place, day, closes) - minutes
            sessions[day] = (Session(lo, hi, 10**6, fee * 2, None),)
        offer = Offer(
            listing_id=None,
            kind="sight",
            place=place,
            title=Text(f"Sight {slug}", f"Lugar {slug}"),
            provider="",
            community_run=False,
            currency="PEN" if PLACES[place][1] == "PE" else "BOB",
            tags=tags,
            duration_min=minutes,
            sessions=sessions,
            sight=slug,
            ticket=ticket,
        )
        self.offers.append(offer)
        return offer

    def link(
        self,
        origin: str,
        destination: str,
        minutes: int,
        *,
        mode: str = "combi",
        price: int = 1000,
        both: bool = True,
        opens: str | None = None,
        closes: str | None = None,
    ) -> None:
        pairs = [(origin, destination)] + ([(destination, origin)] if both else [])
        for a, b in pairs:
            currency = "PEN" if PLACES[a][1] == "PE" else "BOB"
            self.links.setdefault((a, b), []).append(
                Link(
                    origin=a,
                    destination=b,
                    mode=mode,
                    minutes=minutes,
                    price_minor=price,
                    currency=currency,
                    mode_name=Text(mode, mode),
                    opens=dt.time.fromisoformat(opens) if opens else None,
                    closes=dt.time.fromisoformat(closes) if closes else None,
                )
            )

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
                latitude=COORDS.get(slug, (-15.0, -70.0))[0],
                longitude=COORDS.get(slug, (-15.0, -70.0))[1],
                kind="island" if slug in ISLANDS else "town",
                access_confirm=slug in self.volatile,
            )
            for slug, (name, country, altitude) in PLACES.items()
        }
        return World(
            epoch=dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC),
            places=places,
            rides=tuple(sorted(self.rides, key=lambda r: (r.depart, r.key))),
            offers=tuple(self.offers),
            rates=Rates(),
            links={k: tuple(v) for k, v in self.links.items()},
            stay_estimates={"*": (9000, "PEN")},
            satellites=self.satellites,
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


def route_world(**changes) -> WorldBuilder:
    """A small copy of the real route: Cusco – Puno – Copacabana – La Paz with the
    lake's islands, day trips by road (Pisac, Sillustani, Llachón, Tiwanaku), the
    Kasani and Desaguadero crossings, stays, experiences and sights."""
    builder = WorldBuilder(
        satellites={
            "puno": ("amantani", "llachon", "taquile", "uros"),
            "copacabana": ("isla-del-sol-challapampa", "isla-del-sol-yumani"),
            "la-paz": (),
        }
    )
    for key, value in changes.items():
        setattr(builder, key, value)
    daily = builder.daily
    days = 16
    daily("cusco", "puno", "06:00", 420, days=days, price=6000)
    daily("cusco", "puno", "21:00", 480, days=days, price=7000)
    daily("puno", "cusco", "06:00", 420, days=days, price=6000)
    daily("puno", "copacabana", "07:30", 210, kasani_after=135, days=days, price=3600)
    daily("puno", "copacabana", "14:30", 210, kasani_after=135, days=days, price=3600)
    daily("copacabana", "puno", "13:30", 210, kasani_after=15, days=days, price=6000)
    daily("copacabana", "la-paz", "13:30", 210, days=days, price=7000)
    daily("copacabana", "la-paz", "18:00", 210, days=days, price=7000)
    daily("la-paz", "copacabana", "07:00", 210, days=days, price=7000)
    daily(
        "puno",
        "la-paz",
        "07:30",
        360,
        kasani_after=135,
        crossing="cebaf",
        days=days,
        price=5000,
    )
    daily(
        "la-paz",
        "puno",
        "08:00",
        360,
        kasani_after=200,
        crossing="cebaf",
        days=days,
        price=5000,
    )
    daily("puno", "taquile", "07:30", 180, days=days, price=6000, mode="boat")
    daily("taquile", "puno", "14:30", 180, days=days, price=0, mode="boat")
    for clock in ("08:00", "10:00", "14:00"):
        daily("puno", "uros", clock, 30, days=days, price=2000, mode="boat")
    for clock in ("10:00", "12:00", "16:00"):
        daily("uros", "puno", clock, 30, days=days, price=0, mode="boat")
    daily("puno", "amantani", "08:00", 240, days=days, price=6000, mode="boat")
    daily("amantani", "taquile", "08:00", 60, days=days, price=0, mode="boat")
    for clock in ("08:30", "13:30"):
        daily(
            "copacabana",
            "isla-del-sol-yumani",
            clock,
            90,
            days=days,
            price=6000,
            currency="BOB",
            mode="boat",
        )
    for clock in ("10:30", "15:30"):
        daily(
            "isla-del-sol-yumani",
            "copacabana",
            clock,
            90,
            days=days,
            price=0,
            currency="BOB",
            mode="boat",
        )
    daily(
        "copacabana",
        "isla-del-sol-challapampa",
        "08:30",
        150,
        days=days,
        price=7000,
        currency="BOB",
        mode="boat",
    )
    daily(
        "isla-del-sol-challapampa",
        "copacabana",
        "13:45",
        150,
        days=days,
        price=0,
        currency="BOB",
        mode="boat",
    )
    builder.link("cusco", "pisac", 45, price=1000)
    builder.link("puno", "sillustani", 40, mode="taxi", price=9000)
    builder.link("puno", "llachon", 120, mode="colectivo", price=2000)
    builder.link(
        "la-paz",
        "tiwanaku",
        90,
        mode="minibus",
        price=4000,
        opens="06:00",
        closes="16:00",
    )
    builder.link(
        "isla-del-sol-yumani", "isla-del-sol-challapampa", 180, mode="walk", price=0
    )
    for listing_id, place in enumerate(
        (
            "cusco",
            "puno",
            "copacabana",
            "la-paz",
            "amantani",
            "taquile",
            "isla-del-sol-yumani",
            "llachon",
        ),
        start=100,
    ):
        builder.stay(listing_id, place, days=days, community_run=place not in HUBS)
    builder.activity(
        1,
        "llachon",
        "08:30",
        180,
        tags=("lake", "nature"),
        min_party=2,
        party_ok=True,
        days=_days(days),
    )
    builder.activity(
        2,
        "isla-del-sol-yumani",
        "09:00",
        240,
        tags=("hiking", "archaeology"),
        end_place="isla-del-sol-challapampa",
        days=_days(days),
        community_run=True,
    )
    builder.activity(
        3,
        "taquile",
        "10:30",
        150,
        tags=("textiles", "culture"),
        days=_days(days),
        community_run=True,
    )
    builder.activity(
        4,
        "pisac",
        "09:00",
        300,
        tags=("farming", "food"),
        days=_days(days),
        community_run=True,
    )
    builder.sight("cus-qorikancha", "cusco", minutes=60, fee=1500)
    builder.sight("sv-pisac-ruins", "pisac", opens="07:00", closes="18:00", minutes=150)
    builder.sight("pu-sillustani", "sillustani", minutes=90, fee=1500)
    builder.sight(
        "pu-uros",
        "uros",
        opens="06:00",
        closes="16:30",
        minutes=60,
        fee=1500,
        tags=("culture", "lake"),
    )
    builder.sight(
        "co-basilica",
        "copacabana",
        opens="07:00",
        closes="19:00",
        minutes=45,
        tags=("culture",),
    )
    builder.sight(
        "is-pilkokaina",
        "isla-del-sol-yumani",
        opens="07:00",
        closes="18:00",
        minutes=60,
        fee=1000,
    )
    builder.sight("is-chincana", "isla-del-sol-challapampa", minutes=90, fee=1000)
    builder.sight(
        "tiwanaku", "tiwanaku", opens="09:00", closes="16:00", minutes=150, fee=10000
    )
    builder.sight(
        "lp-teleferico",
        "la-paz",
        opens="06:00",
        closes="22:00",
        minutes=90,
        fee=600,
        tags=("viewpoints", "culture"),
    )
    return builder


def _days(n: int) -> list[dt.date]:
    return [START + dt.timedelta(days=i) for i in range(n)]


HUBS = ("cusco", "puno", "copacabana", "la-paz")
