"""Synthetic route-scale catalogue for benchmarks (not a test, not demo content).

``generate()`` fills an already-migrated database that has the route catalogue
(``seed_route``) with approved providers and their listings on the real route's
places (stays, activities, guides), with units priced in PEN or BOB and one
``Slot`` per listing, date and start time for ``days`` days. Load is random but
deterministic for a seed. Everything is marked ``is_demo`` and every provider slug
starts with ``synth-``. ``clear()`` deletes all of it again.

Run on its own, it prints how many rows it made and how long that took::

    .venv/bin/python benchmarks/synthetic_catalogue.py --listings 2000 --days 90
    bin/with-services .venv/bin/python benchmarks/synthetic_catalogue.py

Without ``DATABASE_URL`` it uses a throwaway SQLite file
(``/tmp/synthetic_catalogue.sqlite3``), never the development database. With it, it
uses that database. It migrates if needed, seeds the route, replaces an earlier
synthetic catalogue and leaves the new one in place (``--clear`` removes it at the
end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shlex
import sys
import time
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SLUG_PREFIX = "synth-"
DEFAULT_DATABASE_URL = "sqlite:////tmp/synthetic_catalogue.sqlite3"
BATCH = 2000  # rows per INSERT: 2000 slots x 10 columns stays under PostgreSQL's 65535


# --- The mix --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceMix:
    """How often listings sit at a place, what stays it has and what it offers."""

    weight: int
    stays: tuple[tuple[str, int], ...]  # (stay_type, weight); empty: no stays
    tags: tuple[str, ...]  # the interests the place is known for


_CITY = (("hotel", 35), ("hostel", 35), ("homestay", 20), ("community_lodge", 10))
_TOWN = (("hostel", 30), ("hotel", 25), ("homestay", 35), ("community_lodge", 10))
_COMMUNITY = (("homestay", 75), ("community_lodge", 25))

# Weighted like the real route: the four hubs carry most of the supply, the lake's
# islands and villages and the day-trip sites the rest. Sites have no stays.
PLACES: dict[str, PlaceMix] = {
    "cusco": PlaceMix(20, _CITY, ("culture", "archaeology", "food", "textiles")),
    "puno": PlaceMix(15, _CITY, ("lake", "culture", "festivals", "food")),
    "copacabana": PlaceMix(9, _TOWN, ("lake", "culture", "hiking", "festivals")),
    "la-paz": PlaceMix(17, _CITY, ("culture", "food", "festivals", "textiles")),
    "amantani": PlaceMix(5, _COMMUNITY, ("culture", "lake", "hiking", "farming")),
    "taquile": PlaceMix(4, _COMMUNITY, ("textiles", "culture", "lake")),
    "uros": PlaceMix(3, _COMMUNITY, ("lake", "culture")),
    "isla-del-sol-yumani": PlaceMix(
        5, _COMMUNITY, ("hiking", "archaeology", "lake", "nature")
    ),
    "llachon": PlaceMix(3, _COMMUNITY, ("lake", "farming", "culture", "nature")),
    "luquina-chico": PlaceMix(2, _COMMUNITY, ("culture", "lake", "farming")),
    "sillustani": PlaceMix(2, (), ("archaeology", "nature", "camelids")),
    "chucuito": PlaceMix(2, _TOWN, ("archaeology", "culture", "lake")),
    "pisac": PlaceMix(4, _TOWN, ("textiles", "archaeology", "farming", "food")),
    "raqchi": PlaceMix(2, (), ("archaeology", "culture", "food")),
    "tiwanaku": PlaceMix(3, (), ("archaeology", "culture")),
    "el-alto": PlaceMix(2, _TOWN, ("culture", "textiles", "festivals")),
}

KINDS = (("stay", 35), ("activity", 55), ("guide", 10))

# Persons per night, and the adult's price per person in major units (PEN, BOB).
STAY_CAPACITY = {
    "homestay": (2, 8),
    "community_lodge": (6, 20),
    "hostel": (10, 20),
    "hotel": (8, 20),
}
STAY_PRICE = {
    "homestay": {"PEN": (30, 90), "BOB": (60, 160)},
    "community_lodge": {"PEN": (60, 180), "BOB": (110, 330)},
    "hostel": {"PEN": (30, 70), "BOB": (55, 130)},
    "hotel": {"PEN": (90, 400), "BOB": (170, 700)},
}
ACTIVITY_PRICE = {"PEN": (10, 180), "BOB": (20, 320)}
GUIDE_PRICE = {"PEN": (50, 250), "BOB": (90, 450)}

# Booked share of capacity: most listings are quiet, a few are popular.
LOAD = ((60, 0.5, 3.0), (30, 1.0, 2.0), (10, 2.0, 1.0))  # (weight, beta a, beta b)
CLOSED_SHARE = 0.05


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...] | list) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _price_minor(rng: random.Random, low: int, high: int) -> int:
    """A price in minor units, a whole multiple of 5 in the major unit."""
    return rng.randrange(low // 5 * 5, high + 1, 5) * 100


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _tags(rng: random.Random, mix: PlaceMix, all_tags: list[str]) -> list[str]:
    """1–3 tags, the first one usually from what the place is known for."""
    count = rng.choice((1, 2, 2, 3))
    first = rng.choice(mix.tags) if rng.random() < 0.8 else rng.choice(all_tags)
    tags = [first]
    while len(tags) < count:
        pool = mix.tags if rng.random() < 0.5 else all_tags
        tag = rng.choice(pool)
        if tag not in tags:
            tags.append(tag)
    return tags


# --- Listings -------------------------------------------------------------------------


def _stay_fields(rng: random.Random, mix: PlaceMix, currency: str) -> dict:
    stay_type = _pick(rng, mix.stays)
    capacity = rng.randint(*STAY_CAPACITY[stay_type])
    adult = _price_minor(rng, *STAY_PRICE[stay_type][currency])
    units = [("adult", adult, 12, None)]
    if rng.random() < 0.8:
        units.append(("child", max(100, adult // 200 * 100), 3, 11))
    return {
        "fields": {
            "stay_type": stay_type,
            "default_capacity": capacity,
            "rooms": max(1, capacity // 2),
            "beds": capacity,
        },
        "units": units,
        "name": stay_type,
    }


def _timed_fields(
    rng: random.Random, kind: str, place_altitude: int, tags: list[str]
) -> dict:
    """When an activity or a guide runs and for whom (the part both share)."""
    duration = rng.randrange(60, 361, 30)
    fields: dict[str, Any] = {"duration_min": duration}
    latest = min(17 * 60, 20 * 60 - duration)  # back by 20:00 at the latest
    # Guides cannot have opening hours (providers.services.LISTING_KIND_FIELDS):
    # without start times a guide is booked for the whole day.
    if rng.random() < (0.65 if kind == "activity" else 0.8):
        starts = rng.sample(range(7 * 60, latest + 1, 30), rng.choice((1, 1, 2, 2, 3)))
        fields["start_times"] = [_hhmm(m) for m in sorted(starts)]
    elif kind == "activity":
        opens = rng.randrange(7 * 60, 10 * 60 + 1, 30)
        closes = min(19 * 60, opens + duration + rng.randrange(60, 301, 30))
        fields["opens"] = dt.time(opens // 60, opens % 60)
        fields["closes"] = dt.time(closes // 60, closes % 60)
    if rng.random() < 0.25:
        from catalogue.models import WEEKDAYS

        chosen = set(rng.sample(WEEKDAYS, rng.randint(3, 6)))
        fields["days"] = [day for day in WEEKDAYS if day in chosen]
    if rng.random() < (0.6 if "hiking" in tags else 0.15):
        fields["strenuous"] = True
        fields["altitude_m"] = place_altitude + rng.randrange(100, 701, 50)
        fields["difficulty"] = rng.choice(("moderate", "hard"))
    else:
        fields["difficulty"] = rng.choice(("easy", "easy", "moderate"))
    return fields


def _activity_fields(
    rng: random.Random, kind: str, currency: str, place: Any, tags: list[str]
) -> dict:
    """An activity or a guide at ``place`` (a ``catalogue.models.Place``)."""
    fields = _timed_fields(rng, kind, place.altitude_m, tags)
    capacity = rng.randint(4, 25) if kind == "activity" else rng.randint(4, 15)
    fields["default_capacity"] = capacity
    if rng.random() < 0.15:
        fields["min_party"] = 2
    if rng.random() < 0.25:
        fields["max_party"] = rng.randint(max(fields.get("min_party", 1), 2), capacity)
    adult = _price_minor(
        rng, *(ACTIVITY_PRICE if kind == "activity" else GUIDE_PRICE)[currency]
    )
    units = [("adult", adult, None, None)]
    if rng.random() < 0.6 and not fields.get("strenuous"):
        units = [
            ("adult", adult, 12, None),
            ("child", max(100, adult // 200 * 100), 4, 11),
        ]
    if kind == "guide":
        languages = ["es"]
        if rng.random() < 0.85:
            languages.append("en")
        if rng.random() < 0.5:
            aymara = currency == "BOB" or place.slug in AYMARA_PLACES
            languages.append("ay" if aymara else "qu")
        languages += [code for code in ("pt", "fr", "de", "it") if rng.random() < 0.12]
        fields["languages"] = languages
    return {"fields": fields, "units": units, "name": kind}


UNIT_NAMES = {"adult": ("Adult", "Adulto"), "child": ("Child", "Niño")}
TITLES = {
    "homestay": ("Homestay", "Hospedaje familiar"),
    "community_lodge": ("Community lodge", "Albergue comunitario"),
    "hostel": ("Hostel", "Hostal"),
    "hotel": ("Hotel", "Hotel"),
    "activity": ("Experience", "Experiencia"),
    "guide": ("Guide", "Guía"),
}
# Aymara rather than Quechua is spoken on the Peruvian shore south of Puno too.
AYMARA_PLACES = {"puno", "uros", "luquina-chico", "chucuito"}


# --- Generation -----------------------------------------------------------------------


def generate(
    *, listings: int = 2000, days: int = 90, start: dt.date, seed: int = 0
) -> dict:
    """Create the synthetic catalogue; returns counts and the seconds it took.

    Needs a migrated database with the route seeded; refuses to run over an earlier
    synthetic catalogue (``clear()`` first).
    """
    from django.db import transaction
    from django.utils import timezone

    from catalogue.models import Place
    from providers.models import InterestTag, Listing, ListingUnit, Provider, Slot
    from providers.selectors import slot_keys

    started = time.perf_counter()
    rng = random.Random(seed)
    places = {
        p.slug: p
        for p in Place.objects.select_related("country").filter(slug__in=PLACES)
    }
    missing = sorted(set(PLACES) - set(places))
    if missing:
        raise RuntimeError(f"route places missing (run seed_route): {missing}")
    if Provider.objects.filter(slug__startswith=SLUG_PREFIX).exists():
        raise RuntimeError("a synthetic catalogue exists already: clear() it first")
    all_tags = list(InterestTag.values)
    slugs = list(PLACES)
    weights = [PLACES[s].weight for s in slugs]
    by_country: dict[str, list[str]] = {}
    for slug in slugs:
        by_country.setdefault(places[slug].country.code, []).append(slug)
    now = timezone.now()

    # Providers, each with 1–7 listings (4 on average) mostly at its home place.
    providers: list[Provider] = []
    plans: list[tuple[int, str]] = []  # (provider index, place slug) per listing
    while len(plans) < listings:
        n = len(providers)
        home = places[rng.choices(slugs, weights=weights)[0]]
        community = rng.random() < 0.6
        kind = (
            _pick(rng, (("family", 45), ("association", 35), ("cooperative", 20)))
            if community
            else _pick(rng, (("company", 80), ("family", 20)))
        )
        providers.append(
            Provider(
                name=f"Synthetic provider {n:05d} – {home.name_en}",
                slug=f"{SLUG_PREFIX}{n:05d}",
                kind=kind,
                country=home.country,
                home_place=home,
                community_run=community,
                contact_name=f"Contact {n:05d}",
                email=f"synth-{n:05d}@example.org",
                status=Provider.Status.APPROVED,
                approved_at=now,
                is_demo=True,
            )
        )
        same_country = by_country[home.country.code]
        for _ in range(min(rng.randint(1, 7), listings - len(plans))):
            slug = home.slug
            if rng.random() < 0.15:
                slug = rng.choices(
                    same_country, weights=[PLACES[s].weight for s in same_country]
                )[0]
            plans.append((n, slug))

    counts = {"providers": len(providers), "listings": 0, "units": 0, "slots": 0}
    with transaction.atomic():
        Provider.objects.bulk_create(providers, batch_size=BATCH)
        rows: list[Listing] = []
        units: list[list[tuple]] = []
        for number, (p, slug) in enumerate(plans):
            place, mix = places[slug], PLACES[slug]
            currency = place.country.currency
            kind = _pick(rng, KINDS)
            if kind == "stay" and not mix.stays:
                kind = _pick(rng, KINDS[1:])
            tags = _tags(rng, mix, all_tags)
            if kind == "stay":
                spec = _stay_fields(rng, mix, currency)
            else:
                spec = _activity_fields(rng, kind, currency, place, tags)
            title_en, title_es = TITLES[spec["name"]]
            rows.append(
                Listing(
                    provider=providers[p],
                    kind=kind,
                    place=place,
                    title_en=f"{title_en} {number:05d} at {place.name_en} (synthetic)",
                    title_es=f"{title_es} {number:05d} en {place.name_es} (sintético)",
                    tags=tags,
                    currency=currency,
                    confirmation=("on_request" if rng.random() < 0.15 else "instant"),
                    is_demo=True,
                    ical_token=f"synth{seed}-{rng.getrandbits(128):032x}",
                    **spec["fields"],
                )
            )
            units.append(spec["units"])
        Listing.objects.bulk_create(rows, batch_size=BATCH)
        counts["listings"] = len(rows)
        unit_rows = [
            ListingUnit(
                listing=listing,
                code=code,
                name_en=UNIT_NAMES[code][0],
                name_es=UNIT_NAMES[code][1],
                min_age=min_age,
                max_age=max_age,
                price_minor=price,
            )
            for listing, specs in zip(rows, units, strict=True)
            for code, price, min_age, max_age in specs
        ]
        ListingUnit.objects.bulk_create(unit_rows, batch_size=BATCH)
        counts["units"] = len(unit_rows)

        dates = [start + dt.timedelta(days=d) for d in range(days)]
        pending: list[Slot] = []
        for listing in rows:
            _weight, a, b = _pick(rng, [(load, load[0]) for load in LOAD])
            capacity = listing.default_capacity
            for day in dates:
                for start_time in slot_keys(listing, day):
                    booked = min(capacity, round(rng.betavariate(a, b) * capacity))
                    pending.append(
                        Slot(
                            listing=listing,
                            date=day,
                            start_time=start_time,
                            capacity=capacity,
                            booked=booked,
                            closed=rng.random() < CLOSED_SHARE,
                        )
                    )
            if len(pending) >= 10 * BATCH:
                Slot.objects.bulk_create(pending, batch_size=BATCH)
                counts["slots"] += len(pending)
                pending = []
        Slot.objects.bulk_create(pending, batch_size=BATCH)
        counts["slots"] += len(pending)
    counts["seconds"] = round(time.perf_counter() - started, 3)
    return counts


def clear() -> dict:
    """Delete every synthetic provider and what hangs off it (listings, units, slots
    and any bookings the benchmarks made on them)."""
    from django.db import connection, transaction

    from providers.models import Booking, Listing, Provider, Slot, SyncConflict

    started = time.perf_counter()
    providers = Provider.objects.filter(slug__startswith=SLUG_PREFIX)
    listings = Listing.objects.filter(provider__in=providers)
    with transaction.atomic():
        Booking.objects.filter(provider__in=providers).delete()
        SyncConflict.objects.filter(slot__listing__in=listings).delete()
        # Hundreds of thousands of slots: one statement instead of the cascade
        # collector loading every row (Slot has reverse relations, so no fast delete).
        listing_ids = list(listings.values_list("pk", flat=True))
        table = connection.ops.quote_name(Slot._meta.db_table)
        with connection.cursor() as cursor:
            for i in range(0, len(listing_ids), 500):
                chunk = listing_ids[i : i + 500]
                cursor.execute(
                    f"DELETE FROM {table} WHERE listing_id IN "
                    f"({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
        deleted, _by_model = providers.delete()
    return {"deleted": deleted, "seconds": round(time.perf_counter() - started, 3)}


# --- Running it -----------------------------------------------------------------------


def setup_django(default_database_url: str) -> str:
    """``django.setup()`` with ``DATABASE_URL`` defaulting to a throwaway database;
    returns the URL used."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tourism.settings")
    os.environ.setdefault("DATABASE_URL", default_database_url)
    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def prepare_database() -> None:
    """Migrate if anything is unapplied, then seed the route (idempotent)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0)
    call_command("seed_route", stdout=StringIO())


def _redacted(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start", type=dt.date.fromisoformat, help="first date (default: today, UTC)"
    )
    parser.add_argument(
        "--clear", action="store_true", help="delete the catalogue again at the end"
    )
    args = parser.parse_args(argv)

    url = setup_django(DEFAULT_DATABASE_URL)
    from django.db import connection

    started = time.perf_counter()
    prepare_database()
    prepared = time.perf_counter() - started
    cleared = clear()
    start = args.start or dt.datetime.now(dt.UTC).date()
    counts = generate(
        listings=args.listings, days=args.days, start=start, seed=args.seed
    )
    removed = clear() if args.clear else None

    print(
        f"Synthetic catalogue: {args.listings} listings x {args.days} days from "
        f"{start}, seed {args.seed}"
    )
    print(f"  command: {shlex.join(['.venv/bin/python', *sys.argv])}")
    print(f"  database: {connection.vendor} {_redacted(url)}")
    print(f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(
        f"  setup (migrate if needed, seed_route) {prepared:.1f} s; "
        f"earlier catalogue cleared in {cleared['seconds']:.1f} s"
    )
    print(
        f"  generated {counts['providers']} providers, {counts['listings']} "
        f"listings, {counts['units']} units, {counts['slots']} slots "
        f"in {counts['seconds']:.2f} s"
    )
    if removed:
        print(f"  cleared again in {removed['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
