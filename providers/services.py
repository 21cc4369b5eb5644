"""Writes: providers, availability, holds and bookings.

Never oversell: a hold is one conditional UPDATE on the slot row
(``capacity >= held + booked + blocked + persons``), correct on SQLite and PostgreSQL
alike, with the database constraint ``held + booked <= capacity`` behind it. Moving
persons between ``held`` and ``booked`` is also conditional, and every booking state
change first locks the booking row so two requests cannot both act on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalogue.models import WEEKDAYS, Country, Departure, Place, parse_month_day
from providers import notifications
from providers.models import (
    Booking,
    InterestTag,
    Listing,
    ListingPhoto,
    ListingUnit,
    PriceSchedule,
    Provider,
    ProviderMember,
    Slot,
    ValueChain,
)
from providers.photos import photo_process
from providers.selectors import slot_keys, slot_starts_at, unit_price
from tourism.exceptions import BookingExpired, BookingStateError, BookingUnavailable

DEFAULT_HOLD_MINUTES = 30
MAX_HOLD_MINUTES = 24 * 60


# --- Providers ------------------------------------------------------------------------


def provider_approve(*, provider: Provider, now: dt.datetime | None = None) -> Provider:
    """Staff approve a provider: its active listings become public."""
    provider.status = Provider.Status.APPROVED
    provider.approved_at = now or timezone.now()
    provider.save(update_fields=["status", "approved_at"])
    return provider


def provider_suspend(*, provider: Provider) -> Provider:
    provider.status = Provider.Status.SUSPENDED
    provider.save(update_fields=["status"])
    return provider


# --- Availability ---------------------------------------------------------------------


def slot_get_or_create(
    *, listing: Listing, day: dt.date, start_time: dt.time | None
) -> Slot:
    """The slot row, created with the listing's default capacity when missing.

    Safe under concurrency: the partial unique constraints make a racing insert fail,
    and the loser reads the winner's row.
    """
    lookup = {"listing": listing, "date": day, "start_time": start_time}
    slot = Slot.objects.filter(**lookup).first()
    if slot is not None:
        return slot
    try:
        with transaction.atomic():
            return Slot.objects.create(**lookup, capacity=listing.default_capacity)
    except IntegrityError:
        return Slot.objects.get(**lookup)


def slot_set(
    *,
    listing: Listing,
    day: dt.date,
    start_time: dt.time | None = None,
    capacity: int | None = None,
    closed: bool | None = None,
    note: str | None = None,
) -> Slot:
    """The provider sets a day's capacity or closes it. Capacity can never go below
    what is already held and booked (the error names the field)."""
    if capacity is not None and capacity < 0:
        raise ValidationError({"capacity": _("Capacity cannot be negative.")})
    slot = slot_get_or_create(listing=listing, day=day, start_time=start_time)
    changes: dict[str, object] = {}
    if closed is not None:
        changes["closed"] = closed
    if note is not None:
        changes["note"] = note[:200]
    if capacity is not None:
        changes["capacity"] = capacity
        updated = Slot.objects.filter(
            pk=slot.pk, held__lte=capacity - F("booked")
        ).update(**changes, updated_at=timezone.now())
        if not updated:
            slot.refresh_from_db()
            raise ValidationError(
                {
                    "capacity": _(
                        "%(held)s persons are held and %(booked)s booked on this date: "
                        "capacity cannot be lower than %(total)s."
                    )
                    % {
                        "held": slot.held,
                        "booked": slot.booked,
                        "total": slot.held + slot.booked,
                    }
                }
            )
    elif changes:
        Slot.objects.filter(pk=slot.pk).update(**changes, updated_at=timezone.now())
    slot.refresh_from_db()
    return slot


# --- Prices -------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    total_minor: int
    currency: str
    persons: int
    lines: tuple[tuple[str, int, int], ...]  # (unit code, quantity, unit price)


def price_quote(*, listing: Listing, day: dt.date, units: dict[str, int]) -> Quote:
    """Price ``units`` ({code: quantity}) on ``day``; errors name the unit at fault."""
    by_code = {u.code: u for u in listing.units.all()}
    if not units or not isinstance(units, dict):
        raise ValidationError({"units": _("Choose at least one traveller.")})
    lines, persons, total = [], 0, 0
    for code, quantity in units.items():
        unit = by_code.get(code)
        if unit is None:
            raise ValidationError(
                {
                    "units": _("Unknown unit '%(code)s' for this listing.")
                    % {"code": code}
                }
            )
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise ValidationError(
                {
                    "units": _("Quantity of '%(code)s' must be a whole number ≥ 0.")
                    % {"code": code}
                }
            )
        if quantity == 0:
            continue
        price = unit_price(unit, day)
        lines.append((code, quantity, price))
        total += quantity * price
        if unit.occupies_capacity:
            persons += quantity
    if persons == 0:
        raise ValidationError({"units": _("Choose at least one traveller.")})
    if persons < listing.min_party:
        raise ValidationError(
            {
                "units": _("This needs at least %(n)s persons.")
                % {"n": listing.min_party}
            }
        )
    if listing.max_party and persons > listing.max_party:
        raise ValidationError(
            {"units": _("This takes at most %(n)s persons.") % {"n": listing.max_party}}
        )
    return Quote(
        total_minor=total,
        currency=listing.currency,
        persons=persons,
        lines=tuple(lines),
    )


# --- Holds and bookings ----------------------------------------------------------


def _take_hold(slot: Slot, persons: int) -> bool:
    """Atomically add ``persons`` to ``held`` if they fit; False when they do not."""
    return bool(
        Slot.objects.filter(
            pk=slot.pk,
            closed=False,
            capacity__gte=F("held") + F("booked") + F("blocked") + persons,
        ).update(held=F("held") + persons, updated_at=timezone.now())
    )


def _release(slot_id: int, *, held: int = 0, booked: int = 0) -> None:
    updated = Slot.objects.filter(
        pk=slot_id, held__gte=held, booked__gte=booked
    ).update(
        held=F("held") - held, booked=F("booked") - booked, updated_at=timezone.now()
    )
    if not updated:  # would mean our own bookkeeping is wrong: never hide it
        raise BookingStateError(_("Slot counters do not match the booking."))


def _held_to_booked(booking: Booking) -> None:
    """One conditional UPDATE: the persons move from held to booked together."""
    updated = Slot.objects.filter(pk=booking.slot_id, held__gte=booking.persons).update(
        held=F("held") - booking.persons,
        booked=F("booked") + booking.persons,
        updated_at=timezone.now(),
    )
    if not updated:
        raise BookingStateError(_("Slot counters do not match the booking."))


def booking_hold(
    *,
    listing: Listing,
    day: dt.date,
    start_time: dt.time | None,
    units: dict[str, int],
    channel: str,
    hold_minutes: int = DEFAULT_HOLD_MINUTES,
    lead_name: str = "",
    lead_email: str = "",
    lead_phone: str = "",
    notes: str = "",
    reseller_reference: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """Hold places on one slot until ``expires_at``; BookingUnavailable if they do not
    fit (sold out, closed, blocked, past the booking cut-off, not offered that day)."""
    now = now or timezone.now()
    if not 1 <= hold_minutes <= MAX_HOLD_MINUTES:
        raise ValidationError(
            {
                "hold_minutes": _("Hold between 1 and %(max)s minutes.")
                % {"max": MAX_HOLD_MINUTES}
            }
        )
    if not listing.is_active or listing.provider.status != Provider.Status.APPROVED:
        raise BookingUnavailable(_("This listing is not bookable."), field="listing")
    if start_time not in slot_keys(listing, day):
        raise BookingUnavailable(
            _("Not offered on %(day)s at that time.") % {"day": day.isoformat()},
            field="start_time" if start_time else "date",
        )
    starts = slot_starts_at(listing=listing, day=day, start_time=start_time)
    if starts - now < dt.timedelta(hours=listing.booking_cutoff_hours):
        raise BookingUnavailable(
            _("Bookings close %(hours)s hours before the start.")
            % {"hours": listing.booking_cutoff_hours},
            field="date",
        )
    quote = price_quote(listing=listing, day=day, units=units)
    with transaction.atomic():
        slot = slot_get_or_create(listing=listing, day=day, start_time=start_time)
        if not _take_hold(slot, quote.persons):
            slot.refresh_from_db()
            raise BookingUnavailable(
                _("Only %(free)s places left for %(persons)s persons.")
                % {"free": slot.free, "persons": quote.persons},
                field="units",
            )
        return Booking.objects.create(
            provider_id=listing.provider_id,
            listing=listing,
            slot=slot,
            status=Booking.Status.ON_HOLD,
            channel=channel,
            units={code: qty for code, qty, _price in quote.lines},
            persons=quote.persons,
            total_minor=quote.total_minor,
            currency=quote.currency,
            lead_name=lead_name,
            lead_email=lead_email,
            lead_phone=lead_phone,
            notes=notes,
            reseller_reference=reseller_reference,
            expires_at=now + dt.timedelta(minutes=hold_minutes),
        )


def _locked(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update().select_related("listing").get(pk=booking.pk)
    )


def _expire(booking: Booking, now: dt.datetime) -> None:
    _release(booking.slot_id, held=booking.persons)
    booking.status = Booking.Status.EXPIRED
    booking.cancelled_at = now
    booking.save(update_fields=["status", "cancelled_at"])


def booking_confirm(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """Confirm a hold: instant listings become CONFIRMED, on-request ones PENDING until
    the provider answers. An expired hold is released (committed) and refused."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _locked(booking)
        if booking.status in (Booking.Status.CONFIRMED, Booking.Status.PENDING):
            return booking  # confirming twice is harmless
        if booking.status != Booking.Status.ON_HOLD:
            raise BookingStateError(
                _("A %(status)s booking cannot be confirmed.")
                % {"status": booking.get_status_display()}
            )
        expired_at = booking.expires_at
        if expired_at is None or expired_at > now:
            return _confirm_hold(booking, now)
        _expire(booking, now)
    # Raised after the commit, so the release of the expired hold is kept.
    raise BookingExpired(
        _("The hold expired at %(at)s.") % {"at": expired_at.isoformat()}
    )


def _confirm_hold(booking: Booking, now: dt.datetime) -> Booking:
    if booking.listing.confirmation == Listing.Confirmation.ON_REQUEST:
        booking.status = Booking.Status.PENDING
        booking.expires_at = None
        booking.save(update_fields=["status", "expires_at"])
        _notify_after_commit(notifications.booking_needs_answer, booking_id=booking.pk)
        return booking
    _held_to_booked(booking)
    booking.status = Booking.Status.CONFIRMED
    booking.confirmed_at = now
    booking.expires_at = None
    booking.save(update_fields=["status", "confirmed_at", "expires_at"])
    _notify_after_commit(notifications.booking_confirmed, booking_id=booking.pk)
    return booking


@transaction.atomic
def booking_accept(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """The provider accepts an on-request booking."""
    booking = _locked(booking)
    if booking.status != Booking.Status.PENDING:
        raise BookingStateError(_("Only bookings waiting for you can be accepted."))
    _held_to_booked(booking)
    booking.status = Booking.Status.CONFIRMED
    booking.confirmed_at = now or timezone.now()
    booking.save(update_fields=["status", "confirmed_at"])
    _notify_after_commit(notifications.booking_accepted, booking_id=booking.pk)
    return booking


@transaction.atomic
def booking_decline(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """The provider declines an on-request booking: its places are released."""
    booking = _locked(booking)
    if booking.status != Booking.Status.PENDING:
        raise BookingStateError(_("Only bookings waiting for you can be declined."))
    _release(booking.slot_id, held=booking.persons)
    booking.status = Booking.Status.DECLINED
    booking.cancelled_at = now or timezone.now()
    booking.save(update_fields=["status", "cancelled_at"])
    _notify_after_commit(notifications.booking_declined, booking_id=booking.pk)
    return booking


def cancellation_refund(*, booking: Booking, now: dt.datetime) -> int:
    """Full refund before the listing's cut-off, its refund percentage after."""
    listing = booking.listing
    starts = slot_starts_at(
        listing=listing, day=booking.slot.date, start_time=booking.slot.start_time
    )
    if starts - now >= dt.timedelta(hours=listing.cancellation_cutoff_hours):
        return booking.total_minor
    return booking.total_minor * listing.cancellation_refund_percent // 100


@transaction.atomic
def booking_cancel(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """Cancel under the listing's policy and release the places."""
    now = now or timezone.now()
    booking = _locked(booking)
    if booking.status in Booking.HOLDING:
        _release(booking.slot_id, held=booking.persons)
        booking.refund_minor = booking.total_minor
    elif booking.status == Booking.Status.CONFIRMED:
        _release(booking.slot_id, booked=booking.persons)
        booking.refund_minor = cancellation_refund(booking=booking, now=now)
    elif booking.status == Booking.Status.CANCELLED:
        return booking
    else:
        raise BookingStateError(
            _("A %(status)s booking cannot be cancelled.")
            % {"status": booking.get_status_display()}
        )
    if booking.status != Booking.Status.ON_HOLD:  # the provider saw it: tell them
        _notify_after_commit(notifications.booking_cancelled, booking_id=booking.pk)
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.save(update_fields=["status", "cancelled_at", "refund_minor"])
    return booking


@transaction.atomic
def booking_mark_attendance(
    *, booking: Booking, showed_up: bool, now: dt.datetime | None = None
) -> Booking:
    """The provider marks a confirmed booking redeemed or a no-show."""
    booking = _locked(booking)
    if booking.status not in (
        Booking.Status.CONFIRMED,
        Booking.Status.REDEEMED,
        Booking.Status.NO_SHOW,
    ):
        raise BookingStateError(_("Only confirmed bookings can be marked."))
    booking.status = Booking.Status.REDEEMED if showed_up else Booking.Status.NO_SHOW
    booking.redeemed_at = (now or timezone.now()) if showed_up else None
    booking.save(update_fields=["status", "redeemed_at"])
    return booking


def booking_expire_holds(*, now: dt.datetime | None = None) -> int:
    """Release every hold past its expiry (the periodic sweep); returns how many."""
    now = now or timezone.now()
    expired = 0
    due = Booking.objects.filter(status=Booking.Status.ON_HOLD, expires_at__lte=now)
    for booking_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(pk=booking_id)
            if booking.status == Booking.Status.ON_HOLD and booking.expires_at <= now:
                _expire(booking, now)
                expired += 1
    return expired


# --- Provider portal: notifications, sign-up, listings, units, prices, photos ------


def _notify_after_commit(notify: Callable[..., object], **ids: int) -> None:
    """Send an email once the transaction commits; a mail failure is only logged."""

    def send() -> None:
        notify(**ids)

    send.__qualname__ = getattr(notify, "__qualname__", "notify")
    transaction.on_commit(send, robust=True)


def _unique_provider_slug(name: str) -> str:
    base = (slugify(name) or "provider")[:70].strip("-") or "provider"
    slug, n = base, 1
    while Provider.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def provider_signup(
    *,
    email: str,
    name: str,
    kind: str,
    country: Country,
    home_place: Place,
    contact_name: str,
    password: str | None = None,
    user: AbstractBaseUser | None = None,
    phone: str = "",
    value_chains: Iterable[ValueChain] = (),
    community_run: bool = False,
) -> ProviderMember:
    """A provider signs itself up, waiting for approval: a login with the email as
    username (unless an existing ``user`` without a provider signs up), the provider
    and its owner membership (returned). Staff are emailed. Errors name the field."""
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email.strip()).lower()
    errors: dict[str, list[str]] = {}
    if home_place.country_id != country.pk:
        errors["home_place"] = [
            _("%(place)s is not in %(country)s.")
            % {"place": home_place.name, "country": country.name}
        ]
    if user is None:
        taken = user_model.objects.filter(username__iexact=email).exists() or (
            user_model.objects.filter(email__iexact=email).exists()
        )
        if taken:
            errors["email"] = [_("An account with this email already exists.")]
        try:
            validate_password(
                password or "",
                user=user_model(username=email, email=email, first_name=contact_name),
            )
        except ValidationError as exc:
            errors["password"] = exc.messages
    elif ProviderMember.objects.filter(user=user).exists():
        errors["__all__"] = [_("This account already works for a provider.")]
    provider = Provider(
        name=name.strip(),
        slug=_unique_provider_slug(name),
        kind=kind,
        country=country,
        home_place=home_place,
        community_run=community_run,
        contact_name=contact_name.strip(),
        email=email,
        phone=phone.strip(),
        status=Provider.Status.PENDING,
    )
    try:
        provider.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    if user is None:
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(
                    username=email, email=email, password=password
                )
        except IntegrityError as exc:  # a racing sign-up with the same email
            raise ValidationError(
                {"email": _("An account with this email already exists.")}
            ) from exc
    provider.save()
    provider.value_chains.set(value_chains)
    member = ProviderMember.objects.create(
        provider=provider, user=user, role=ProviderMember.Role.OWNER
    )
    _notify_after_commit(notifications.provider_signed_up, provider_id=provider.pk)
    return member


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
    for field, value in cleaned.items():
        setattr(listing, field, value)
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
    return listing


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
