"""Writes to the route catalogue: seeding, crossing status, the periodic audit."""

from __future__ import annotations

import datetime as dt
from collections import Counter
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
)

ROUTE_DATA = Path(__file__).resolve().parent / "data" / "route.yaml"


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


def _departure_values(leg: RouteLeg, raw: dict[str, Any], where: str) -> dict[str, Any]:
    days = raw.get("days", "daily")
    if days == "daily":
        chosen = set(WEEKDAYS)
    elif isinstance(days, list) and days and set(days) <= set(WEEKDAYS):
        chosen = set(days)
    else:
        raise SeedError(f"{where}: days must be 'daily' or a list of {WEEKDAYS}")
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
        **{day: day in chosen for day in WEEKDAYS},
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
                **_fact(raw, where),
            },
            update=update,
            report=report,
            where=where,
        )

    def place(slug: str, where: str) -> Place:
        if slug not in places:
            raise SeedError(f"{where}: unknown place {slug!r}")
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
    for raw in data.get("legs", []):
        where = f"leg {raw.get('slug')}"
        crossing_slug = raw.get("crossing")
        if crossing_slug and crossing_slug not in crossings:
            raise SeedError(f"{where}: unknown crossing {crossing_slug!r}")
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
                **_fact(raw, where),
            },
            update=update,
            report=report,
            where=where,
        )
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
    return report


def catalogue_seed_from_file(
    *, path: Path = ROUTE_DATA, update: bool = False
) -> SeedReport:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise SeedError(f"{path}: expected a mapping at the top level")
    try:
        return catalogue_seed(data=data, update=update)
    except KeyError as exc:
        raise SeedError(f"{path}: a record lacks the field {exc}") from exc


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
        for model in (Country, Place, Crossing, CrossingHours, RouteLeg, Departure)
    }
    return CatalogueAudit.objects.create(
        findings=findings, unverified_counts=unverified
    )
