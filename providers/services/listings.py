"""Listings and what belongs to them: units, seasonal prices, photos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalogue.geo import km_between
from catalogue.models import WEEKDAYS, Departure, Sight, parse_month_day
from providers.models import (
    InterestTag,
    Listing,
    ListingPhoto,
    ListingUnit,
    PriceSchedule,
    Provider,
)
from providers.photos import photo_process

GUIDE_LANGUAGES = (
    ("es", gettext_lazy("Spanish")),
    ("en", gettext_lazy("English")),
    ("qu", gettext_lazy("Quechua")),
    ("ay", gettext_lazy("Aymara")),
    ("pt", gettext_lazy("Portuguese")),
    ("fr", gettext_lazy("French")),
    ("de", gettext_lazy("German")),
    ("it", gettext_lazy("Italian")),
)

# What a provider edits, per kind of listing (the rest keeps its default).
LISTING_COMMON_FIELDS = (
    "place",
    "title_en",
    "title_es",
    "description_en",
    "description_es",
    "tags",
    "currency",
    "default_capacity",
    "confirmation",
    "booking_cutoff_hours",
    "cancellation_cutoff_hours",
    "cancellation_refund_percent",
    "is_active",
)
LISTING_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Listing.Kind.STAY: ("stay_type", "rooms", "beds"),
    Listing.Kind.ACTIVITY: (
        "end_place",
        "sights",
        "duration_min",
        "start_times",
        "opens",
        "closes",
        "days",
        "season_start",
        "season_end",
        "min_party",
        "max_party",
        "difficulty",
        "strenuous",
        "altitude_m",
    ),
    Listing.Kind.TRANSPORT: ("route_leg", "min_party", "max_party"),
    Listing.Kind.GUIDE: (
        "end_place",
        "sights",
        "languages",
        "duration_min",
        "start_times",
        "days",
        "min_party",
        "max_party",
    ),
}


def _clean_listing_values(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Checks of the free-form (JSON) fields and cross-field rules; field errors."""
    allowed = (*LISTING_COMMON_FIELDS, *LISTING_KIND_FIELDS[kind])
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"not editable on a {kind} listing: {sorted(unknown)}")
    cleaned = dict(values)
    errors: dict[str, str] = {}
    lists = {
        "tags": set(InterestTag.values),
        "days": set(WEEKDAYS),
        "languages": {code for code, _label in GUIDE_LANGUAGES},
    }
    for field, choices in lists.items():
        if field in cleaned:
            value = list(dict.fromkeys(cleaned[field] or []))
            if any(item not in choices for item in value):
                errors[field] = _("Choose from the list.")
            cleaned[field] = value
    if "start_times" in cleaned:
        times = set()
        for raw in cleaned["start_times"] or []:
            try:
                times.add(dt.time.fromisoformat(str(raw)).strftime("%H:%M"))
            except ValueError:
                errors["start_times"] = _("Use times like 09:00, 14:30.")
        cleaned["start_times"] = sorted(times)
    season = [cleaned.get("season_start", ""), cleaned.get("season_end", "")]
    for field, value in zip(("season_start", "season_end"), season, strict=True):
        if value and parse_month_day(value) is None:
            errors[field] = _("Use MM-DD, e.g. 04-01.")
    if bool(season[0]) != bool(season[1]):
        errors["season_end" if season[0] else "season_start"] = _(
            "Give both the start and the end of the season, or neither."
        )
    min_party = cleaned.get("min_party")
    if min_party is not None and min_party < 1:
        errors["min_party"] = _("At least 1.")
    max_party = cleaned.get("max_party")
    if max_party is not None and max_party < (min_party or 1):
        errors["max_party"] = _("Cannot be lower than the minimum party.")
    opens, closes = cleaned.get("opens"), cleaned.get("closes")
    if opens and closes and opens >= closes:
        errors["closes"] = _("Must be later than the opening time.")
    if kind == Listing.Kind.STAY and not cleaned.get("stay_type"):
        errors["stay_type"] = _("Choose the type of stay.")
    if kind == Listing.Kind.TRANSPORT and not cleaned.get("route_leg"):
        errors["route_leg"] = _("Choose the route.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _listing_write(
    listing: Listing,
    values: Mapping[str, Any],
    departures: Iterable[Departure] | None,
) -> Listing:
    cleaned = _clean_listing_values(listing.kind, values)
    sights = cleaned.pop("sights", None)
    for field, value in cleaned.items():
        setattr(listing, field, value)
    if sights is not None:
        _check_sights_nearby(listing, sights)
    chosen: list[Departure] = []
    if listing.kind == Listing.Kind.TRANSPORT:
        leg = listing.route_leg
        listing.place = leg.origin  # timetables are local times at the origin
        chosen = list(departures or [])
        if not chosen:
            raise ValidationError({"departures": _("Choose at least one departure.")})
        if any(departure.leg_id != leg.pk for departure in chosen):
            raise ValidationError(
                {"departures": _("Choose departures of the chosen route only.")}
            )
    listing.full_clean()
    listing.save()
    if listing.kind == Listing.Kind.TRANSPORT:
        listing.departures.set(chosen)
    if sights is not None:
        listing.sights.set(sights)
    return listing


# How far from where a listing starts or ends a sight it visits may be (Isla de la
# Luna is about 8 km from Yumani, whose boats go there).
SIGHT_NEAR_KM = 15.0


def _check_sights_nearby(listing: Listing, sights: Iterable[Sight]) -> None:
    ends = [p for p in (listing.place, listing.end_place) if p is not None]
    far = []
    for sight in sights:
        at = sight if sight.latitude is not None else sight.place
        if not any(
            km_between(at.latitude, at.longitude, p.latitude, p.longitude)
            <= SIGHT_NEAR_KM
            for p in ends
        ):
            far.append(sight)
    if far:
        raise ValidationError(
            {
                "sights": _(
                    "%(sights)s: more than %(km)s km from where this starts or ends."
                )
                % {"sights": ", ".join(s.name for s in far), "km": int(SIGHT_NEAR_KM)}
            }
        )


def listing_create(
    *,
    provider: Provider,
    kind: str,
    values: Mapping[str, Any],
    departures: Iterable[Departure] | None = None,
) -> Listing:
    """A new listing of ``kind`` (pending providers may prepare listings too: they
    are not public until staff approve the provider)."""
    if kind not in Listing.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of listing.")})
    return _listing_write(Listing(provider=provider, kind=kind), values, departures)


def listing_update(
    *,
    listing: Listing,
    values: Mapping[str, Any],
    departures: Iterable[Departure] | None = None,
) -> Listing:
    """Change a listing's editable fields (its kind stays)."""
    return _listing_write(listing, values, departures)


def unit_upsert(
    *,
    listing: Listing,
    unit_id: int | None,
    code: str,
    name_en: str,
    name_es: str,
    price_minor: int,
    min_age: int | None = None,
    max_age: int | None = None,
    occupies_capacity: bool = True,
) -> ListingUnit:
    """Create or change one unit (adult, child, …) of ``listing``."""
    if unit_id is None:
        unit = ListingUnit(listing=listing)
    else:
        found = ListingUnit.objects.filter(listing=listing, pk=unit_id).first()
        if found is None:
            raise ValidationError({"code": _("This unit no longer exists.")})
        unit = found
    if (
        ListingUnit.objects.filter(listing=listing, code=code)
        .exclude(pk=unit.pk)
        .exists()
    ):
        raise ValidationError({"code": _("Another unit already uses this code.")})
    if min_age is not None and max_age is not None and max_age < min_age:
        raise ValidationError({"max_age": _("Cannot be lower than the minimum age.")})
    unit.code, unit.name_en, unit.name_es = code, name_en, name_es
    unit.min_age, unit.max_age = min_age, max_age
    unit.price_minor, unit.occupies_capacity = price_minor, occupies_capacity
    unit.full_clean()
    unit.save()
    return unit


def unit_delete(*, listing: Listing, unit_id: int) -> None:
    """Remove a unit and its seasonal prices (bookings keep their own totals)."""
    ListingUnit.objects.filter(listing=listing, pk=unit_id).delete()


def price_schedule_create(
    *, unit: ListingUnit, starts: dt.date, ends: dt.date, price_minor: int
) -> PriceSchedule:
    """A seasonal price of ``unit``; periods of one unit may not overlap."""
    return price_schedule_upsert(
        unit=unit, schedule_id=None, starts=starts, ends=ends, price_minor=price_minor
    )


def price_schedule_upsert(
    *,
    unit: ListingUnit,
    schedule_id: int | None,
    starts: dt.date,
    ends: dt.date,
    price_minor: int,
) -> PriceSchedule:
    if schedule_id is None:
        schedule = PriceSchedule(unit=unit)
    else:
        found = PriceSchedule.objects.filter(
            unit__listing_id=unit.listing_id, pk=schedule_id
        ).first()
        if found is None:
            raise ValidationError(
                {"starts": _("This seasonal price no longer exists.")}
            )
        schedule = found
        schedule.unit = unit
    if ends < starts:
        raise ValidationError({"ends": _("Must be on or after the start.")})
    overlapping = (
        PriceSchedule.objects.filter(unit=unit, starts__lte=ends, ends__gte=starts)
        .exclude(pk=schedule.pk)
        .first()
    )
    if overlapping is not None:
        raise ValidationError(
            {
                "starts": _("Overlaps the seasonal price %(starts)s – %(ends)s.")
                % {"starts": overlapping.starts, "ends": overlapping.ends}
            }
        )
    schedule.starts, schedule.ends, schedule.price_minor = starts, ends, price_minor
    schedule.full_clean()
    schedule.save()
    return schedule


@dataclass(frozen=True)
class UnitInput:
    """One row of the units form; ``id`` None for a new unit."""

    id: int | None
    code: str
    name_en: str
    name_es: str
    price_minor: int
    min_age: int | None = None
    max_age: int | None = None
    occupies_capacity: bool = True
    delete: bool = False


@dataclass(frozen=True)
class PriceInput:
    """One row of the seasonal prices form; ``id`` None for a new one."""

    id: int | None
    unit_id: int
    starts: dt.date
    ends: dt.date
    price_minor: int
    delete: bool = False


def _prefixed(prefix: str, row: int, exc: ValidationError) -> dict[str, list[str]]:
    return {f"{prefix}.{row}.{field}": msgs for field, msgs in exc.message_dict.items()}


@transaction.atomic
def listing_save(
    *,
    provider: Provider,
    listing: Listing | None,
    values: Mapping[str, Any],
    kind: str | None = None,
    departures: Iterable[Departure] | None = None,
    units: Sequence[UnitInput] = (),
    prices: Sequence[PriceInput] = (),
) -> Listing:
    """The listing editor's one write: the listing, its units and seasonal prices
    together, or nothing. Errors of a row are keyed ``units.<row>.<field>`` /
    ``prices.<row>.<field>``; stored data is untouched when anything is refused."""
    if listing is not None and listing.provider_id != provider.pk:
        raise ValueError("listing of another provider")
    try:
        if listing is None:
            listing = listing_create(
                provider=provider, kind=kind or "", values=values, departures=departures
            )
        else:
            listing = listing_update(
                listing=listing, values=values, departures=departures
            )
        errors: dict[str, list[str]] = {}
        for unit in units:
            if unit.delete and unit.id is not None:
                unit_delete(listing=listing, unit_id=unit.id)
        for row, unit in enumerate(units):
            if unit.delete:
                continue
            try:
                unit_upsert(
                    listing=listing,
                    unit_id=unit.id,
                    code=unit.code,
                    name_en=unit.name_en,
                    name_es=unit.name_es,
                    min_age=unit.min_age,
                    max_age=unit.max_age,
                    price_minor=unit.price_minor,
                    occupies_capacity=unit.occupies_capacity,
                )
            except ValidationError as exc:
                errors.update(_prefixed("units", row, exc))
        if not errors and not ListingUnit.objects.filter(listing=listing).exists():
            errors["units"] = [_("Add at least one unit with its price.")]
        if errors:
            raise ValidationError(errors)
        by_id = {unit.pk: unit for unit in ListingUnit.objects.filter(listing=listing)}
        for price in prices:
            if price.delete and price.id is not None:
                PriceSchedule.objects.filter(
                    unit__listing=listing, pk=price.id
                ).delete()
        for row, price in enumerate(prices):
            if price.delete:
                continue
            unit = by_id.get(price.unit_id)
            if unit is None:
                errors[f"prices.{row}.unit"] = [
                    _("Choose one of this listing's units.")
                ]
                continue
            try:
                price_schedule_upsert(
                    unit=unit,
                    schedule_id=price.id,
                    starts=price.starts,
                    ends=price.ends,
                    price_minor=price.price_minor,
                )
            except ValidationError as exc:
                errors.update(_prefixed("prices", row, exc))
        if errors:
            raise ValidationError(errors)
    except IntegrityError as exc:
        raise ValidationError(
            _("These changes conflict with each other; nothing was saved.")
        ) from exc
    return listing


MAX_PHOTOS_PER_LISTING = 20


def photo_add(
    *, listing: Listing, upload: IO[bytes], alt_en: str = "", alt_es: str = ""
) -> ListingPhoto:
    """Check, resize and store a photo (see ``providers.photos``); errors on
    ``image``."""
    if ListingPhoto.objects.filter(listing=listing).count() >= MAX_PHOTOS_PER_LISTING:
        raise ValidationError(
            {
                "image": _("A listing has at most %(n)s photos.")
                % {"n": MAX_PHOTOS_PER_LISTING}
            }
        )
    content = photo_process(upload)
    last = (
        ListingPhoto.objects.filter(listing=listing)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    photo = ListingPhoto(
        listing=listing,
        alt_en=alt_en[:160],
        alt_es=alt_es[:160],
        position=0 if last is None else last + 1,
    )
    photo.image.save(content.name, content, save=False)
    try:
        photo.save()
    except Exception:
        photo.image.delete(save=False)
        raise
    return photo


def photo_delete(*, photo: ListingPhoto) -> None:
    """Remove a photo; its file goes once the deletion is committed."""
    storage, name = photo.image.storage, photo.image.name
    photo.delete()
    if name:

        def delete_file() -> None:
            storage.delete(name)

        transaction.on_commit(delete_file, robust=True)
