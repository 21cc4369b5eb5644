"""Writes of the OCTO supplier API: reserve, extend, confirm, update and cancel an
agency's booking. Capacity always moves through ``providers.services`` (one
conditional UPDATE per hold, never an oversell); this module adds OCTO's rules:

- the client's booking ``uuid`` is an idempotency key: the same agency sending the
  same body again gets the same booking (no second hold); the uuid with another
  body, or a uuid already used by someone else, is refused;
- a hold past its expiry is expired when it is read or acted on (its places go back
  at once), not only by the periodic sweep;
- an agency acts only on its own bookings (the views look them up by agency).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from agencies.selectors import agency_hold_max_minutes
from octo import errors
from octo.errors import OctoError
from octo.selectors import booking_cancellable
from providers.models import Booking, Listing
from providers.selectors import booking_cutoff_at
from providers.services import booking_cancel, booking_confirm, booking_hold
from providers.services import bookings as booking_services
from providers.services.bookings import booking_change
from tourism.exceptions import BookingExpired, BookingStateError, BookingUnavailable


def request_hash(body: Any) -> str:
    """SHA-256 of the body as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def hold_minutes(requested: int | None, agency: Agency | None = None) -> int:
    """The client's ``expirationMinutes``, the default when absent, capped by the
    agency's contract (``agency_hold_max_minutes``; HOLD_MAX_MINUTES without one)."""
    cap = (
        agency_hold_max_minutes(agency)
        if agency is not None
        else settings.HOLD_MAX_MINUTES
    )
    if requested is None:
        return min(settings.HOLD_DEFAULT_MINUTES, cap)
    return max(1, min(requested, cap))


def booking_expire_if_due(
    *, booking: Booking, now: dt.datetime | None = None
) -> Booking:
    """Expire one hold past its expiry now (as the sweep would), releasing its places;
    other bookings are returned unchanged."""
    now = now or timezone.now()
    if not (
        booking.status == Booking.Status.ON_HOLD
        and booking.expires_at is not None
        and booking.expires_at <= now
    ):
        return booking
    return booking_services.booking_expire_hold(booking=booking, now=now)


def lead_fields(contact: dict[str, Any]) -> dict[str, str]:
    """The booking's lead traveller (what the provider's manifest shows)."""
    name = contact.get("fullName") or " ".join(
        part for part in (contact.get("firstName"), contact.get("lastName")) if part
    )
    return {
        "lead_name": (name or "")[:160],
        "lead_email": (contact.get("emailAddress") or "")[:254],
        "lead_phone": (contact.get("phoneNumber") or "")[:40],
    }


def unit_items_with_uuids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The unit items as sent, each with a uuid (made for those sent without)."""
    return [{**item, "uuid": item.get("uuid") or str(uuid.uuid4())} for item in items]


@dataclass(frozen=True)
class Reservation:
    listing: Listing
    day: dt.date
    start_time: dt.time | None
    unit_items: list[dict[str, Any]]
    booking_uuid: uuid.UUID | None
    expiration_minutes: int | None
    notes: str
    reseller_reference: str
    contact: dict[str, Any]
    request_hash: str


def _replay(existing: Booking, agency: Agency, body_hash: str) -> Booking:
    if existing.agency_id != agency.pk or existing.request_hash != body_hash:
        raise errors.invalid(
            errors.INVALID_BOOKING_UUID,
            existing.uuid,
            _("This uuid is already used by another booking request."),
        )
    return booking_expire_if_due(booking=existing)


def booking_reserve(
    *, agency: Agency, reservation: Reservation, now: dt.datetime | None = None
) -> Booking:
    """Hold the places of an OCTO reservation (status ON_HOLD), or return the booking
    an identical earlier request made."""
    r = reservation
    units = Counter(item["unitId"] for item in r.unit_items)
    # A repeated uuid is found when its hold fails (the insert of a second booking
    # with it, or earlier when the places are gone by now): new reservations, the
    # usual case, need no lookup first.
    try:
        return booking_hold(
            listing=r.listing,
            day=r.day,
            start_time=r.start_time,
            units=dict(units),
            channel=Booking.Channel.AGENCY,
            hold_minutes=hold_minutes(r.expiration_minutes, agency),
            notes=r.notes,
            reseller_reference=r.reseller_reference,
            agency=agency,
            booking_uuid=r.booking_uuid,
            contact=r.contact,
            unit_items=unit_items_with_uuids(r.unit_items),
            request_hash=r.request_hash,
            now=now,
            **lead_fields(r.contact),
        )
    except IntegrityError:
        # The uuid is taken (a repeat, or the same uuid raced in from another
        # request): this hold was rolled back with the insert; answer as a replay.
        existing = _existing(r)
        if existing is None:
            raise
        return _replay(existing, agency, r.request_hash)
    except BookingUnavailable as exc:
        if (existing := _existing(r)) is not None:
            return _replay(existing, agency, r.request_hash)
        if exc.field == "listing":
            raise errors.invalid(
                errors.INVALID_PRODUCT_ID, r.listing.pk, exc.message
            ) from exc
        raise errors.unprocessable(exc.message) from exc
    except ValidationError as exc:
        if (existing := _existing(r)) is not None:
            return _replay(existing, agency, r.request_hash)
        raise errors.unprocessable(" ".join(exc.messages)) from exc


def _existing(reservation: Reservation) -> Booking | None:
    """The booking already made with the reservation's uuid, if any."""
    if reservation.booking_uuid is None:
        return None
    return (
        Booking.objects.select_related("slot")
        .filter(uuid=reservation.booking_uuid)
        .first()
    )


def _expired_error(booking: Booking) -> OctoError:
    return errors.invalid(
        errors.INVALID_BOOKING_UUID,
        booking.uuid,
        _("The booking's hold expired; reserve again."),
    )


def _hold_until(booking: Booking, now: dt.datetime, minutes: int) -> dt.datetime:
    """A hold's new expiry: ``minutes`` from now, but never past the availability's
    booking cut-off (``utcCutoffAt``); refused once the cut-off has passed."""
    cutoff = booking_cutoff_at(
        listing=booking.listing,
        day=booking.slot.date,
        start_time=booking.slot.start_time,
    )
    if now >= cutoff:
        raise errors.unprocessable(
            _(
                "Bookings for this availability closed at %(at)s (its cut-off); the "
                "hold can no longer be extended or confirmed."
            )
            % {"at": cutoff.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
    return min(now + dt.timedelta(minutes=minutes), cutoff)


def booking_extend(
    *, booking: Booking, expiration_minutes: int | None, now: dt.datetime | None = None
) -> Booking:
    """Hold an ON_HOLD booking longer: it now expires ``expirationMinutes`` from now."""
    now = now or timezone.now()
    booking = booking_expire_if_due(booking=booking, now=now)
    if booking.status == Booking.Status.EXPIRED:
        raise _expired_error(booking)
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != Booking.Status.ON_HOLD:
            raise errors.unprocessable(
                _("Only a booking on hold can be extended; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        locked.expires_at = _hold_until(
            locked, now, hold_minutes(expiration_minutes, locked.agency)
        )
        locked.save(update_fields=["expires_at", "updated_at"])
    booking.refresh_from_db()
    return booking


def _merge_unit_items(
    booking: Booking, sent: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Per-item contacts and references for the same units: items are matched by
    uuid, others take the uuids of the booking's remaining items of their unit."""
    if sent is None:
        return booking.unit_items
    if Counter(i["unitId"] for i in sent) != Counter(booking.units):
        raise errors.unprocessable(
            _(
                "The unit items must be the same units as reserved (%(units)s); to "
                "change them, cancel and reserve again."
            )
            % {"units": ", ".join(f"{n} × {c}" for c, n in booking.units.items())}
        )
    free: dict[str, list[str]] = {}
    known = {i.get("uuid") for i in booking.unit_items}
    sent_uuids = {i.get("uuid") for i in sent if i.get("uuid")}
    for item in booking.unit_items:
        if item.get("uuid") not in sent_uuids:
            free.setdefault(item["unitId"], []).append(item["uuid"])
    merged = []
    for item in sent:
        if item.get("uuid") and item["uuid"] in known:
            merged.append(dict(item))
        else:
            pool = free.get(item["unitId"]) or []
            merged.append({**item, "uuid": pool.pop(0) if pool else str(uuid.uuid4())})
    return merged


def _items_for(booking: Booking, sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New unit items: the booking's uuids where sent, new ones otherwise."""
    known = {i.get("uuid") for i in booking.unit_items}
    return [
        dict(item)
        if item.get("uuid") in known
        else {**item, "uuid": item.get("uuid") or str(uuid.uuid4())}
        for item in sent
    ]


def _change(booking: Booking, **change: Any) -> Booking:
    """``booking_change`` with its refusals as OCTO errors."""
    try:
        return booking_change(booking=booking, **change)
    except BookingExpired as exc:
        raise _expired_error(booking) from exc
    except BookingUnavailable as exc:
        raise errors.unprocessable(exc.message) from exc
    except (BookingStateError, ValidationError) as exc:
        message = getattr(exc, "message", None) or " ".join(exc.messages)
        raise errors.unprocessable(message) from exc


def booking_confirm_octo(
    *,
    booking: Booking,
    contact: dict[str, Any],
    reseller_reference: str | None,
    unit_items: list[dict[str, Any]] | None,
    now: dt.datetime | None = None,
) -> Booking:
    """Confirm a hold with the traveller's contact: CONFIRMED for instant listings,
    PENDING for on-request ones until the provider answers. An expired hold is
    released and refused (INVALID_BOOKING_UUID, as OCTO says)."""
    now = now or timezone.now()
    booking = booking_expire_if_due(booking=booking, now=now)
    if booking.status in (Booking.Status.CONFIRMED, Booking.Status.PENDING):
        return booking  # confirming twice is harmless
    if booking.status == Booking.Status.EXPIRED:
        raise _expired_error(booking)
    if booking.status != Booking.Status.ON_HOLD:
        raise errors.unprocessable(
            _("A %(status)s booking cannot be confirmed.")
            % {"status": booking.get_status_display()}
        )
    _hold_until(booking, now, 0)  # refused once the availability's cut-off passed
    if unit_items is not None:
        units = dict(Counter(i["unitId"] for i in unit_items))
        if units != booking.units:
            # Other units on confirm: the hold takes them first (all or nothing).
            booking = _change(
                booking,
                listing=booking.listing,
                day=booking.slot.date,
                start_time=booking.slot.start_time,
                units=units,
                unit_items=_items_for(booking, unit_items),
                now=now,
            )
    items = _merge_unit_items(booking, unit_items)
    changes: dict[str, Any] = {
        "contact": contact,
        "unit_items": items,
        **lead_fields(contact),
    }
    if reseller_reference is not None:
        changes["reseller_reference"] = reseller_reference
    try:
        return booking_confirm(booking=booking, now=now, changes=changes)
    except BookingExpired as exc:
        raise _expired_error(booking) from exc
    except BookingStateError as exc:
        raise errors.unprocessable(exc.message) from exc


def booking_update(
    *,
    booking: Booking,
    changes: dict[str, Any],
    now: dt.datetime | None = None,
) -> Booking:
    """PATCH, while the booking can still be cancelled: another product of the
    same provider, availability or units (the places move all or nothing, see
    ``booking_change``), the reseller reference, notes, contact, per-item details
    and (on hold) the expiry."""
    now = now or timezone.now()
    booking = booking_expire_if_due(booking=booking, now=now)
    if booking.status == Booking.Status.EXPIRED:
        raise _expired_error(booking)
    if not booking_cancellable(booking=booking, now=now):
        raise errors.unprocessable(
            _("This booking can no longer be changed (see its cancellable field).")
        )
    sent_items = changes.get("unitItems")
    sent_units = (
        dict(Counter(i["unitId"] for i in sent_items))
        if sent_items is not None
        else None
    )
    if "move" in changes or (sent_units is not None and sent_units != booking.units):
        listing, (day, start_time) = changes.get(
            "move", (booking.listing, (booking.slot.date, booking.slot.start_time))
        )
        booking = _change(
            booking,
            listing=listing,
            day=day,
            start_time=start_time,
            units=sent_units if sent_units is not None else dict(booking.units),
            unit_items=(
                _items_for(booking, sent_items) if sent_items is not None else None
            ),
            now=now,
        )
        changes = {k: v for k, v in changes.items() if k not in ("move", "unitItems")}
    fields: dict[str, Any] = {}
    if "resellerReference" in changes:
        fields["reseller_reference"] = changes["resellerReference"]
    if "notes" in changes:
        fields["notes"] = changes["notes"] or ""
    if "contact" in changes:
        fields["contact"] = changes["contact"]
        fields.update(lead_fields(changes["contact"]))
    if "unitItems" in changes:
        fields["unit_items"] = _merge_unit_items(booking, changes["unitItems"])
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != booking.status:
            raise errors.unprocessable(_("The booking changed meanwhile; try again."))
        if "expirationMinutes" in changes:
            if locked.status != Booking.Status.ON_HOLD:
                raise errors.unprocessable(
                    _("Only a booking on hold has an expiry to change.")
                )
            fields["expires_at"] = _hold_until(
                locked, now, hold_minutes(changes["expirationMinutes"], locked.agency)
            )
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
    booking.refresh_from_db()
    return booking


def booking_cancel_octo(
    *, booking: Booking, now: dt.datetime | None = None, reason: str = ""
) -> Booking:
    """Cancel while ``cancellable`` (the refund follows the listing's policy) and
    keep the agency's ``reason``; cancelling a cancelled booking again returns it
    unchanged."""
    now = now or timezone.now()
    booking = booking_expire_if_due(booking=booking, now=now)
    if booking.status == Booking.Status.CANCELLED:
        return booking
    if booking.status == Booking.Status.EXPIRED:
        raise _expired_error(booking)
    if not booking_cancellable(booking=booking, now=now):
        raise errors.unprocessable(
            _(
                "This booking can no longer be cancelled: confirmed bookings can be "
                "cancelled until %(hours)s hours before the start."
            )
            % {"hours": booking.listing.cancellation_cutoff_hours}
        )
    try:
        booking_cancel(booking=booking, now=now, reason=reason)
    except BookingStateError as exc:
        raise errors.unprocessable(exc.message) from exc
    booking.refresh_from_db()
    return booking
