"""Writes to the route catalogue: seeding, crossing status, the periodic audit."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from catalogue.models import (
    CURRENCY_EXPONENT,
    WEEKDAYS,
    CatalogueAudit,
    Country,
    Crossing,
    CrossingHours,
    Currency,
    Departure,
    EntryRequirement,
    ExchangeRate,
    Place,
    RouteLeg,
    Sight,
    SightHours,
    SightTag,
    Transfer,
    stops_problem,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
ROUTE_DATA = DATA_DIR / "route.yaml"
SIGHTS_DATA = DATA_DIR / "sights.yaml"
TRANSFERS_DATA = DATA_DIR / "transfers.yaml"
# What seed_route loads, in order (sights and transfers refer to the route's places).
SEED_FILES = (ROUTE_DATA, SIGHTS_DATA, TRANSFERS_DATA)


# (slug, where) → the Place, or SeedError naming ``where``.
PlaceLookup = Callable[[str, str], Place]


class SeedError(Exception):
    """The seed file is malformed; the message says which record and field."""


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) + sum(self.updated.values()))

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        return [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
            f"{self.unchanged[kind]} unchanged"
            for kind in kinds
        ]


def money_to_minor(amount: str | int | float | Decimal, currency: str) -> int:
    """``"15.50", "PEN"`` → ``1550``; refuses amounts finer than the currency's unit."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {amount!r}") from exc
    minor = value * (10 ** CURRENCY_EXPONENT[currency])
    if minor != minor.to_integral_value() or minor < 0:
        raise ValueError(f"{amount!r} is not a whole number of {currency} minor units")
    return int(minor)


def _time(value: Any, where: str) -> dt.time:
    try:
        hours, minutes = (int(part) for part in str(value).split(":"))
        return dt.time(hours, minutes)
    except (ValueError, TypeError) as exc:
        raise SeedError(f"{where}: {value!r} is not an HH:MM time") from exc


def _fact(record: dict[str, Any], where: str) -> dict[str, Any]:
    if "source" not in record or "verified" not in record:
        raise SeedError(f"{where}: every record needs 'source' and 'verified'")
    return {
        "source": str(record["source"]).strip(),
        "verified": bool(record["verified"]),
        "note": str(record.get("note") or "").strip(),
    }


def _upsert(
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    *,
    update: bool,
    report: SeedReport,
    where: str,
) -> Any:
    """Create the row, or (with ``update``) bring an existing row to ``values``.

    Without ``update`` an existing row is left alone, so staff corrections made in the
    admin survive a re-seed.
    """
    kind = model._meta.verbose_name_plural.title()
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        action = report.created
    else:
        differing = {k: v for k, v in values.items() if getattr(obj, k) != v}
        if not update or not differing:
            report.unchanged[kind] += 1
            return obj
        for key, value in differing.items():
            setattr(obj, key, value)
        action = report.updated
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise SeedError(f"{where}: {exc.message_dict}") from exc
    obj.save()
    action[kind] += 1
    return obj


def _days(raw: dict[str, Any], where: str) -> dict[str, bool]:
    """``days: daily`` or a list of ``mon``…``sun`` → the seven day flags."""
    days = raw.get("days", "daily")
    if days == "daily":
        chosen = set(WEEKDAYS)
    elif isinstance(days, list) and days and set(days) <= set(WEEKDAYS):
        chosen = set(days)
    else:
        raise SeedError(f"{where}: days must be 'daily' or a list of {WEEKDAYS}")
    return {day: day in chosen for day in WEEKDAYS}


def _departure_values(leg: RouteLeg, raw: dict[str, Any], where: str) -> dict[str, Any]:
    day_flags = _days(raw, where)
    season = raw.get("season") or {}
    if season and not ({"from", "to"} <= set(season)):
        raise SeedError(f"{where}: season needs 'from' and 'to' (MM-DD)")
    every, until = raw.get("every_min"), raw.get("until")
    if (every is None) != (until is None):
        raise SeedError(f"{where}: every_min and until go together")
    currency = str(raw.get("currency", ""))
    if currency not in CURRENCY_EXPONENT:
        raise SeedError(f"{where}: currency {currency!r} is not one of PEN, BOB, USD")
    try:
        price_minor = money_to_minor(raw["price"], currency)
    except (KeyError, ValueError) as exc:
        raise SeedError(f"{where}: price: {exc}") from exc
    return {
        "operator": str(raw["operator"]),
        "departure_time": _time(raw["time"], where),
        "duration_min": int(raw.get("duration_min") or leg.duration_min),
        **day_flags,
        "season_start": str(season.get("from", "")),
        "season_end": str(season.get("to", "")),
        "valid_from": raw.get("valid_from"),
        "valid_until": raw.get("valid_until"),
        "price_minor": price_minor,
        "currency": currency,
        "seats": int(raw["seats"]),
        "every_min": int(every) if every is not None else None,
        "last_departure_time": _time(until, where) if until is not None else None,
        **_fact(raw, where),
    }


def _exchange_rate_values(raw: dict[str, Any], where: str) -> dict[str, Any]:
    currency = str(raw.get("currency", ""))
    if currency == Currency.USD or currency not in Currency.values:
        raise SeedError(f"{where}: currency must be one of PEN, BOB (USD is the base)")
    set_on = raw.get("set_on")
    try:
        if not (isinstance(set_on, dt.date) and not isinstance(set_on, dt.datetime)):
            set_on = dt.date.fromisoformat(str(set_on))
        per_usd = Decimal(str(raw["per_usd"]))
    except (ValueError, InvalidOperation) as exc:
        raise SeedError(f"{where}: set_on must be a date, per_usd a decimal") from exc
    return {"currency": currency, "set_on": set_on, "per_usd": per_usd}


@transaction.atomic
def catalogue_seed(*, data: dict[str, Any], update: bool = False) -> SeedReport:
    """Load the route catalogue from parsed seed data; idempotent.

    All or nothing: a malformed record raises SeedError and nothing is written.
    """
    report = SeedReport()
    countries: dict[str, Country] = {}
    for raw in data.get("countries", []):
        where = f"country {raw.get('code')}"
        countries[raw["code"]] = _upsert(
            Country,
            {"code": raw["code"]},
            {
                "name_en": raw["name_en"],
                "name_es": raw["name_es"],
                "currency": raw["currency"],
                "timezone": raw["timezone"],
                **_fact(raw, where),
            },
            update=update,
            report=report,
            where=where,
        )
    for raw in data.get("entry_requirements", []):
        where = f"entry requirement {raw.get('nationality') or raw.get('group')}"
        destination = countries.get(raw.get("destination"))
        if destination is None:
            raise SeedError(f"{where}: unknown country {raw.get('destination')!r}")
        visa = raw.get("visa_required")
        _upsert(
            EntryRequirement,
            {
                "destination": destination,
                "nationality": str(raw.get("nationality") or "").upper(),
                "group": str(raw.get("group") or ""),
            },
            {
                "visa_required": None if visa is None else bool(visa),
                "andean_id_accepted": bool(raw.get("andean_id_accepted", False)),
                "notes_en": str(raw.get("notes_en") or "").strip(),
                "notes_es": str(raw.get("notes_es") or "").strip(),
                **_fact(raw, where),
            },
            update=update,
            report=report,
            where=where,
        )
    for raw in data.get("exchange_rates", []):
        where = f"exchange rate {raw.get('currency')} {raw.get('set_on')}"
        values = _exchange_rate_values(raw, where)
        # One row per currency and date: a re-seed finds it again; staff edits
        # survive unless update=True, and newer rows staff add are left alone.
        _upsert(
            ExchangeRate,
            {"currency": values["currency"], "set_on": values["set_on"]},
            {"per_usd": values["per_usd"], **_fact(raw, where)},
            update=update,
            report=report,
            where=where,
        )
    places: dict[str, Place] = {}
    for raw in data.get("places", []):
        where = f"place {raw.get('slug')}"
        if raw.get("country") not in countries:
            raise SeedError(f"{where}: unknown country {raw.get('country')!r}")
        places[raw["slug"]] = _upsert(
            Place,
            {"slug": raw["slug"]},
            {
                "name_en": raw["name_en"],
                "name_es": raw["name_es"],
                "country": countries[raw["country"]],
                "kind": raw["kind"],
                "latitude": Decimal(str(raw["latitude"])).quantize(Decimal("0.000001")),
                "longitude": Decimal(str(raw["longitude"])).quantize(
                    Decimal("0.000001")
                ),
                "altitude_m": int(raw["altitude_m"]),
                "altitude_note": str(raw.get("altitude_note") or ""),
                "access_confirm": bool(raw.get("access_confirm", False)),
                **_fact(raw, where),
            },
            update=update,
            report=report,
            where=where,
        )

    def place(slug: str, where: str) -> Place:
        """A place of this file, else one already in the catalogue."""
        if slug not in places:
            found = Place.objects.select_related("country").filter(slug=slug).first()
            if found is None:
                raise SeedError(f"{where}: unknown place {slug!r}")
            places[slug] = found
        return places[slug]

    crossings: dict[str, Crossing] = {}
    for raw in data.get("crossings", []):
        where = f"crossing {raw.get('slug')}"
        crossing = _upsert(
            Crossing,
            {"slug": raw["slug"]},
            {
                "kind": raw["kind"],
                "name_en": raw["name_en"],
                "name_es": raw["name_es"],
                "side_a": place(raw["side_a"], where),
                "side_b": place(raw["side_b"], where),
                "typical_minutes": int(raw["typical_minutes"]),
                "documents_note_en": str(raw.get("documents_note_en") or ""),
                "documents_note_es": str(raw.get("documents_note_es") or ""),
                "status": raw.get("status", Crossing.Status.OPEN),
                "status_note": str(raw.get("status_note") or ""),
                **_fact(raw, where),
            },
            update=update,
            report=report,
            where=where,
        )
        crossings[raw["slug"]] = crossing
        for hours in raw.get("hours", []):
            hwhere = f"{where} hours side {hours.get('side')}"
            _upsert(
                CrossingHours,
                {"crossing": crossing, "side": hours["side"]},
                {
                    "opens": _time(hours["opens"], hwhere),
                    "closes": _time(hours["closes"], hwhere),
                    **_fact(hours, hwhere),
                },
                update=update,
                report=report,
                where=hwhere,
            )
    legs_with_stops: list[tuple[RouteLeg, str]] = []
    for raw in data.get("legs", []):
        where = f"leg {raw.get('slug')}"
        crossing_slug = raw.get("crossing")
        if crossing_slug and crossing_slug not in crossings:
            raise SeedError(f"{where}: unknown crossing {crossing_slug!r}")
        first_slug = raw.get("crossing_first_side")
        if bool(crossing_slug) != bool(first_slug):
            raise SeedError(
                f"{where}: a leg through a crossing names crossing_first_side, "
                "and only such a leg"
            )
        leg = _upsert(
            RouteLeg,
            {"slug": raw["slug"]},
            {
                "origin": place(raw["origin"], where),
                "destination": place(raw["destination"], where),
                "mode": raw["mode"],
                "distance_km": raw.get("distance_km"),
                "duration_min": int(raw["duration_min"]),
                "crossing": crossings[crossing_slug] if crossing_slug else None,
                "crossing_offset_min": raw.get("crossing_offset_min")
                if crossing_slug
                else None,
                "crossing_first_side": place(first_slug, where) if first_slug else None,
                **_fact(raw, where),
            },
            update=update,
            report=report,
            where=where,
        )
        if raw.get("stops"):
            for stop in raw["stops"]:
                place(stop.get("place"), f"{where} stop")
            legs_with_stops.append((leg, raw["stops"], where))
        for dep in raw.get("departures", []):
            dwhere = f"{where} departure {dep.get('code')}"
            _upsert(
                Departure,
                {"leg": leg, "code": dep["code"]},
                _departure_values(leg, dep, dwhere),
                update=update,
                report=report,
                where=dwhere,
            )
    for raw in data.get("sights", []):
        _sight_seed(raw, place, update=update, report=report)
    for raw in data.get("transfers", []):
        _transfer_seed(raw, place, update=update, report=report)
    # Stops name sights: set once the sights are seeded. A leg's stops are filled
    # when empty (a field added after the leg was seeded), else kept unless --update.
    for leg, stops, where in legs_with_stops:
        problem = stops_problem(stops, leg.duration_min)
        if problem and "sights" not in data:
            continue  # the route alone, without the sights its stops name
        if problem:
            raise SeedError(f"{where}: {problem}")
        if update or not leg.stops:
            leg.stops = stops
            leg.save(update_fields=["stops"])
    return report


def _coordinate(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.000001"))


def _money_or_none(amount: Any, currency: str, where: str) -> int | None:
    if currency not in CURRENCY_EXPONENT:
        raise SeedError(f"{where}: currency {currency!r} is not one of PEN, BOB, USD")
    if amount is None:
        return None
    try:
        return money_to_minor(amount, currency)
    except ValueError as exc:
        raise SeedError(f"{where}: {exc}") from exc


def _sight_hours(raw: dict[str, Any], where: str) -> list[dict[str, Any]]:
    rows = []
    for number, hours in enumerate(raw.get("hours") or [], start=1):
        hwhere = f"{where} hours row {number}"
        if not isinstance(hours, dict):
            raise SeedError(f"{hwhere}: expected days, opens and closes")
        opens = _time(hours.get("opens"), hwhere)
        closes = _time(hours.get("closes"), hwhere)
        if opens >= closes:
            raise SeedError(f"{hwhere}: closes must be after opens")
        rows.append({**_days(hours, hwhere), "opens": opens, "closes": closes})
    return rows


def _sight_seed(
    raw: dict[str, Any],
    place: PlaceLookup,
    *,
    update: bool,
    report: SeedReport,
) -> Sight:
    """One sight and its opening hours. Hours rows have no key of their own: they
    are written with a new sight, and replaced as a whole with ``update``."""
    where = f"sight {raw.get('slug')}"
    fee = raw.get("fee")
    if not isinstance(fee, dict) or "currency" not in fee:
        raise SeedError(f"{where}: fee needs amount (null if unknown) and currency")
    currency = str(fee["currency"])
    always_open = bool(raw.get("always_open", False))
    hours_known = bool(raw.get("hours_known", True))
    hours = _sight_hours(raw, where)
    if always_open and hours:
        raise SeedError(f"{where}: a sight open at all hours has no hours rows")
    if not always_open and not hours:
        raise SeedError(
            f"{where}: give hours rows (a daytime placeholder with "
            "hours_known: false when unknown) or always_open: true"
        )
    tags = raw.get("tags") or []
    unknown = set(tags) - set(SightTag.values)
    if unknown:
        raise SeedError(f"{where}: unknown tags {sorted(unknown)}")
    exists = Sight.objects.filter(slug=raw["slug"]).exists()
    sight = _upsert(
        Sight,
        {"slug": raw["slug"]},
        {
            "route_facts_id": str(raw.get("route_facts_id") or ""),
            "place": place(raw["place"], where),
            "name_en": str(raw["name_en"]),
            "name_es": str(raw["name_es"]),
            "description_en": str(raw["description_en"]).strip(),
            "description_es": str(raw["description_es"]).strip(),
            "latitude": _coordinate(raw.get("latitude")),
            "longitude": _coordinate(raw.get("longitude")),
            "altitude_m": raw.get("altitude_m"),
            "visit_min": int(raw["visit_min"]),
            "always_open": always_open,
            "hours_known": hours_known,
            "fee_minor": _money_or_none(fee.get("amount"), currency, where),
            "fee_currency": currency,
            "fee_year": fee.get("year"),
            "fee_ticket": str(fee.get("ticket") or ""),
            "fee_note": str(fee.get("note") or "").strip(),
            "tags": list(tags),
            "effort": raw["effort"],
            "confirm_locally": bool(raw.get("confirm_locally", False)),
            "min_nights_at_altitude": int(raw.get("min_nights_at_altitude") or 0),
            **_fact(raw, where),
        },
        update=update,
        report=report,
        where=where,
    )
    kind = SightHours._meta.verbose_name_plural.title()

    def key(row: dict[str, Any]) -> tuple:
        return (row["opens"], row["closes"], *(row[day] for day in WEEKDAYS))

    stored = list(sight.hours.values(*WEEKDAYS, "opens", "closes"))
    same = sorted(stored, key=key) == sorted(hours, key=key)
    if exists and (same or not update):
        report.unchanged[kind] += len(stored)
        return sight
    if stored:
        sight.hours.all().delete()
    for row in hours:
        entry = SightHours(sight=sight, **row)
        try:
            entry.full_clean()
        except ValidationError as exc:
            raise SeedError(f"{where} hours: {exc.message_dict}") from exc
        entry.save()
    (report.updated if exists else report.created)[kind] += len(hours)
    return sight


def _transfer_values(
    raw: dict[str, Any], place: PlaceLookup, where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    currency = str(raw.get("currency", ""))
    price = _money_or_none(raw.get("price"), currency, where)
    if price is None:
        raise SeedError(f"{where}: every transfer has a price (an estimate if need be)")
    window = raw.get("service") or {}
    if window and not ({"from", "until"} <= set(window)):
        raise SeedError(f"{where}: service needs 'from' and 'until' (HH:MM)")
    values = {
        "mode": raw["mode"],
        "minutes": int(raw["minutes"]),
        "minutes_max": raw.get("minutes_max"),
        "price_minor": price,
        "price_max_minor": _money_or_none(raw.get("price_max"), currency, where),
        "currency": currency,
        "price_per": raw.get("price_per", Transfer.PricePer.PERSON),
        "vehicle_seats": raw.get("vehicle_seats"),
        "price_year": raw.get("price_year"),
        "service_from": _time(window["from"], where) if window else None,
        "service_until": _time(window["until"], where) if window else None,
        "frequency": raw["frequency"],
        "confirm_locally": bool(raw.get("confirm_locally", False)),
        **_fact(raw, where),
    }
    ends = {
        "origin": place(raw["origin"], where),
        "destination": place(raw["destination"], where),
    }
    return ends, values


def _transfer_seed(
    raw: dict[str, Any], place: PlaceLookup, *, update: bool, report: SeedReport
) -> list[Transfer]:
    """One transfer, and its way back when the record has ``reverse`` (a mapping
    with the slug of the way back and any field that differs that way)."""
    where = f"transfer {raw.get('slug')}"
    ends, values = _transfer_values(raw, place, where)
    rows = [
        _upsert(
            Transfer,
            {"slug": raw["slug"]},
            {**ends, **values},
            update=update,
            report=report,
            where=where,
        )
    ]
    back = raw.get("reverse")
    if back is not None:
        if not isinstance(back, dict) or not back.get("slug"):
            raise SeedError(f"{where}: reverse needs the slug of the way back")
        rwhere = f"transfer {back['slug']}"
        merged = {
            **raw,
            "origin": raw["destination"],
            "destination": raw["origin"],
            **back,
        }
        merged.pop("reverse", None)
        ends, values = _transfer_values(merged, place, rwhere)
        rows.append(
            _upsert(
                Transfer,
                {"slug": back["slug"]},
                {**ends, **values},
                update=update,
                report=report,
                where=rwhere,
            )
        )
    return rows


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise SeedError(f"{path}: expected a mapping at the top level")
    return data


def catalogue_seed_from_file(
    *, path: Path = ROUTE_DATA, update: bool = False
) -> SeedReport:
    return catalogue_seed_from_files(paths=(path,), update=update)


def catalogue_seed_from_files(
    *, paths: tuple[Path, ...] | list[Path] = SEED_FILES, update: bool = False
) -> SeedReport:
    """Seed from several files as one (their lists are joined, in file order), all
    or nothing."""
    data: dict[str, Any] = {}
    for path in paths:
        for key, value in _load(path).items():
            if not isinstance(value, list):
                raise SeedError(f"{path}: {key!r} must be a list of records")
            data.setdefault(key, []).extend(value)
    try:
        return catalogue_seed(data=data, update=update)
    except KeyError as exc:
        raise SeedError(
            f"{', '.join(map(str, paths))}: a record lacks the field {exc}"
        ) from exc


def crossing_status_set(
    *, crossing: Crossing, status: str, note: str = "", at: dt.datetime | None = None
) -> Crossing:
    """Staff change a crossing's status; ``status_since`` moves only when it changes."""
    if status not in Crossing.Status.values:
        raise ValidationError({"status": f"{status!r} is not a crossing status"})
    if status != crossing.status:
        crossing.status_since = at or timezone.now()
    crossing.status = status
    crossing.status_note = note
    crossing.full_clean()
    crossing.save(update_fields=["status", "status_since", "status_note"])
    return crossing


def catalogue_audit_run(
    *, today: dt.date | None = None, horizon_days: int = 30
) -> CatalogueAudit:
    """Record what staff should look at: timetables ending or ended, legs with no
    service, crossings not open, and how many facts are still unverified."""
    today = today or timezone.now().date()
    soon = today + dt.timedelta(days=horizon_days)
    findings: list[dict[str, Any]] = []
    for dep in Departure.objects.filter(
        valid_until__isnull=False, valid_until__lte=soon
    ).select_related("leg"):
        findings.append(
            {
                "kind": "departure_expired"
                if dep.valid_until < today
                else "departure_expiring",
                "object": f"{dep.leg.slug}/{dep.code}",
                "message": f"{dep} is valid until {dep.valid_until.isoformat()}",
            }
        )
    for leg in RouteLeg.objects.filter(departures__isnull=True):
        findings.append(
            {
                "kind": "leg_without_departures",
                "object": leg.slug,
                "message": f"{leg} has no departures",
            }
        )
    for leg in RouteLeg.objects.filter(crossing__isnull=False).select_related(
        "crossing"
    ):
        if leg.crossing_first_side_id not in (
            leg.crossing.side_a_id,
            leg.crossing.side_b_id,
        ):
            findings.append(
                {
                    "kind": "leg_first_side_not_a_side",
                    "object": leg.slug,
                    "message": (
                        f"{leg}: the post reached first is not a side of "
                        f"{leg.crossing}; its passages are refused until fixed"
                    ),
                }
            )
    for crossing in Crossing.objects.exclude(status=Crossing.Status.OPEN):
        findings.append(
            {
                "kind": f"crossing_{crossing.status}",
                "object": crossing.slug,
                "message": (
                    f"{crossing} is {crossing.status} since "
                    f"{crossing.status_since.isoformat()}: {crossing.status_note}"
                ),
            }
        )
    unverified = {
        model._meta.verbose_name_plural.title(): model.objects.filter(
            verified=False
        ).count()
        for model in (
            Country,
            Place,
            Crossing,
            CrossingHours,
            RouteLeg,
            Departure,
            Sight,
            Transfer,
        )
    }
    return CatalogueAudit.objects.create(
        findings=findings, unverified_counts=unverified
    )
