"""Holds and bookings: quotes, holds, confirmation, provider answers, cancellation.

Never oversell: a hold is one conditional UPDATE on the slot row
(``capacity >= held + booked + blocked + persons``), correct on SQLite and PostgreSQL
alike, with the database constraint ``held + booked <= capacity`` behind it. Moving
persons between ``held`` and ``booked`` is also conditional, and every booking state
change first locks the booking row so two requests cannot both act on it.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from providers import notifications, signals
from providers.models import (
    CANCEL_REASON_MAX,
    Booking,
    Listing,
    Provider,
    Slot,
)
from providers.selectors import slot_keys, slot_starts_at, unit_price
from providers.services.availability import slot_get_or_create
from tourism.exceptions import BookingExpired, BookingStateError, BookingUnavailable

log = logging.getLogger(__name__)

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

# Booking references: no 0/O, 1/I/L, so they can be read out on a phone.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def split_exactly(total: int, weights: list[int]) -> list[int]:
    """``total`` in whole minor units shared in proportion to ``weights``, the
    parts summing to ``total`` exactly (largest remainder: each part is rounded
    down, the units left go to the largest fractions, the earlier first)."""
    if not weights:
        return []
    weight = sum(weights)
    if weight <= 0:
        weights, weight = [1] * len(weights), len(weights)
    parts = [total * w // weight for w in weights]
    left = total - sum(parts)
    order = sorted(
        range(len(weights)), key=lambda i: (-(total * weights[i] % weight), i)
    )
    for i in order[:left]:
        parts[i] += 1
    return parts


def agency_net(total_minor: int, agency: Agency | None) -> int | None:
    """The agency's net price: retail minus its commission, rounded down (the
    commission is never under-counted against the provider)."""
    if agency is None:
        return None
    return total_minor - -(-total_minor * agency.commission_bps // 10_000)


def _status_changed(booking: Booking, old: str | None) -> None:
    """Tell listeners now, inside the transaction that changes the booking, so what
    they write (webhook deliveries) commits or rolls back with the change."""
    signals.booking_status_changed.send(
        sender=Booking,
        booking_id=booking.pk,
        agency_id=booking.agency_id,
        old=old,
        new=booking.status,
    )


def _take_hold(
    *,
    listing: Listing,
    day: dt.date,
    start_time: dt.time | None,
    persons: int,
    slot_id: int | None = None,
) -> Slot | None:
    """Add ``persons`` to the slot's ``held`` if they fit, in one conditional
    ``UPDATE … RETURNING``: the slot as updated (its counters current), else None —
    when they do not fit, the slot is closed, or (looked up by listing, day and start
    time rather than ``slot_id``) its row does not exist yet."""
    database = router.db_for_write(Slot)
    connection = connections[database]
    if not connection.features.can_return_rows_from_bulk_insert:
        return _take_hold_without_returning(slot_id, listing, day, start_time, persons)
    quote = connection.ops.quote_name
    table = quote(Slot._meta.db_table)
    if slot_id is not None:
        where, params = f"{quote('id')} = %s", [slot_id]
    else:
        where = f"{quote('listing_id')} = %s AND {quote('date')} = %s AND "
        params = [listing.pk, connection.ops.adapt_datefield_value(day)]
        if start_time is None:
            where += f"{quote('start_time')} IS NULL"
        else:
            where += f"{quote('start_time')} = %s"
            params.append(connection.ops.adapt_timefield_value(start_time))
    held, booked, blocked = quote("held"), quote("booked"), quote("blocked")
    sql = (
        f"UPDATE {table} SET {held} = {held} + %s, {quote('updated_at')} = %s "
        f"WHERE {where} AND {quote('closed')} = %s "
        f"AND {quote('capacity')} >= {held} + {booked} + {blocked} + %s "
        "RETURNING *"
    )
    updated = list(
        Slot.objects.raw(
            sql,
            [
                persons,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                *params,
                False,
                persons,
            ],
            using=database,
        )
    )
    return updated[0] if updated else None


def _take_hold_without_returning(
    slot_id: int | None,
    listing: Listing,
    day: dt.date,
    start_time: dt.time | None,
    persons: int,
) -> Slot | None:
    """``_take_hold`` for databases without ``RETURNING`` (SQLite before 3.35): the
    same conditional UPDATE, then the row read again."""
    rows = (
        Slot.objects.filter(pk=slot_id)
        if slot_id is not None
        else Slot.objects.filter(listing=listing, date=day, start_time=start_time)
    )
    taken = rows.filter(
        closed=False, capacity__gte=F("held") + F("booked") + F("blocked") + persons
    ).update(held=F("held") + persons, updated_at=timezone.now())
    return rows.first() if taken else None


def _release(
    slot_id: int, *, held: int = 0, booked: int = 0, test: bool = False
) -> None:
    if test:
        return  # a test booking took no places
    updated = Slot.objects.filter(
        pk=slot_id, held__gte=held, booked__gte=booked
    ).update(
        held=F("held") - held, booked=F("booked") - booked, updated_at=timezone.now()
    )
    if not updated:  # would mean our own bookkeeping is wrong: never hide it
        raise BookingStateError(_("Slot counters do not match the booking."))


def _held_to_booked(booking: Booking) -> None:
    """One conditional UPDATE: the persons move from held to booked together (and in
    the booking's slot, when it was loaded)."""
    if booking.test_mode:
        return  # a test booking took no places
    updated = Slot.objects.filter(pk=booking.slot_id, held__gte=booking.persons).update(
        held=F("held") - booking.persons,
        booked=F("booked") + booking.persons,
        updated_at=timezone.now(),
    )
    if not updated:
        raise BookingStateError(_("Slot counters do not match the booking."))
    if Booking.slot.is_cached(booking):
        booking.slot.held = max(0, booking.slot.held - booking.persons)
        booking.slot.booked += booking.persons


def hold_length(hold_minutes: int | None) -> int:
    """The hold's length in minutes: the default when none is asked, else checked
    against the allowed range (ValidationError naming ``hold_minutes``)."""
    if hold_minutes is None:
        return settings.HOLD_DEFAULT_MINUTES
    if not 1 <= hold_minutes <= settings.HOLD_MAX_MINUTES:
        raise ValidationError(
            {
                "hold_minutes": _("Hold between 1 and %(max)s minutes.")
                % {"max": settings.HOLD_MAX_MINUTES}
            }
        )
    return hold_minutes


def _bookable_start(
    listing: Listing, day: dt.date, start_time: dt.time | None, now: dt.datetime
) -> dt.datetime:
    """When the slot starts; BookingUnavailable if it cannot be booked now (listing
    not bookable, not offered then, past its booking cut-off)."""
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
    return starts


def _take_places(
    listing: Listing,
    day: dt.date,
    start_time: dt.time | None,
    persons: int,
    *,
    test: bool = False,
) -> Slot:
    """Add ``persons`` to the slot's ``held`` (the row made if the provider set
    nothing for it); BookingUnavailable when they do not fit. A test booking (a
    sandbox key) takes nothing: the places only have to be free now."""
    where = {"listing": listing, "day": day, "start_time": start_time}
    if test:
        slot = slot_get_or_create(**where)
        if slot.closed or slot.free < persons:
            raise _no_room(0 if slot.closed else slot.free, persons)
        return slot
    slot = _take_hold(**where, persons=persons)
    if slot is None:  # full, closed, or no row yet (the provider set nothing)
        existing = slot_get_or_create(**where)
        slot = _take_hold(**where, persons=persons, slot_id=existing.pk)
        if slot is None:
            existing.refresh_from_db()
            raise _no_room(existing.free, persons)
    return slot


def _no_room(free: int, persons: int) -> BookingUnavailable:
    return BookingUnavailable(
        _("Only %(free)s places left for %(persons)s persons.")
        % {"free": free, "persons": persons},
        field="units",
    )


def booking_hold(
    *,
    listing: Listing,
    day: dt.date,
    start_time: dt.time | None,
    units: dict[str, int],
    channel: str,
    hold_minutes: int | None = None,
    lead_name: str = "",
    lead_email: str = "",
    lead_phone: str = "",
    notes: str = "",
    reseller_reference: str = "",
    agency: Agency | None = None,
    booking_uuid: uuid.UUID | None = None,
    contact: dict | None = None,
    unit_items: list | None = None,
    request_hash: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """Hold places on one slot until ``expires_at``; BookingUnavailable if they do not
    fit (sold out, closed, blocked, past the booking cut-off, not offered that day).

    Agency bookings also record the agency (its net price follows from its
    commission), the client's ``booking_uuid``, and the OCTO contact and unit items as
    sent. Runs in the caller's transaction when there is one, so several holds can be
    taken all or nothing (take them in a fixed slot order to avoid deadlocks)."""
    now = now or timezone.now()
    hold_minutes = hold_length(hold_minutes)
    starts = _bookable_start(listing, day, start_time, now)
    quote = price_quote(listing=listing, day=day, units=units)
    test = agency is not None and agency.is_sandbox
    with transaction.atomic():
        slot = _take_places(listing, day, start_time, quote.persons, test=test)
        booking = Booking.objects.create(
            test_mode=test,
            uuid=booking_uuid or uuid.uuid4(),
            supplier_reference=_new_reference(),
            agency=agency,
            net_minor=agency_net(quote.total_minor, agency),
            contact=contact or {},
            unit_items=unit_items or [],
            request_hash=request_hash,
            provider_id=listing.provider_id,
            listing=listing,
            slot=slot,
            status=Booking.Status.ON_HOLD,
            channel=channel,
            units={code: qty for code, qty, _price in quote.lines},
            unit_prices={code: price for code, _qty, price in quote.lines},
            persons=quote.persons,
            total_minor=quote.total_minor,
            currency=quote.currency,
            lead_name=lead_name,
            lead_email=lead_email,
            lead_phone=lead_phone,
            notes=notes,
            reseller_reference=reseller_reference,
            # A hold never runs past the slot's booking cut-off (OCTO's
            # utcCutoffAt): it cannot be confirmed after it.
            expires_at=min(
                now + dt.timedelta(minutes=hold_minutes),
                starts - dt.timedelta(hours=listing.booking_cutoff_hours),
            ),
        )
        _status_changed(booking, None)
        return booking


def _locked(booking: Booking) -> Booking:
    """The booking's row, read again and locked until the transaction ends. The
    listing, slot and agency the caller already loaded are carried over rather than
    read again (the slot's counters as the caller read them)."""
    query = Booking.objects.select_for_update(of=("self",))
    if not Booking.listing.is_cached(booking):
        # of=("self",): lock the booking row only, not the joined listing row.
        query = query.select_related("listing")
    locked = query.get(pk=booking.pk)
    for relation in (Booking.listing, Booking.slot, Booking.agency):
        if relation.is_cached(booking):
            relation.field.set_cached_value(
                locked, relation.field.get_cached_value(booking)
            )
    return locked


def booking_change(
    *,
    booking: Booking,
    listing: Listing,
    day: dt.date,
    start_time: dt.time | None,
    units: dict[str, int],
    unit_items: list | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Move a live booking (on hold, pending or confirmed) to another slot, another
    product of the same provider, or other units, keeping its status: the new places
    are taken and the old ones released in one transaction, all or nothing — when
    they do not fit (BookingUnavailable) nothing changes. A change is an explicit
    re-pricing: the new units are priced as on the new date today. The agency's
    webhooks get the change (status unchanged); the provider is told by e-mail
    unless the booking is only on hold."""
    now = now or timezone.now()
    if listing.provider_id != booking.provider_id:
        raise BookingUnavailable(
            _("A booking can move only to another product of the same provider."),
            field="listing",
        )
    starts = _bookable_start(listing, day, start_time, now)
    quote = price_quote(listing=listing, day=day, units=units)
    with transaction.atomic():
        locked = _locked(booking)
        live = (
            Booking.Status.ON_HOLD,
            Booking.Status.PENDING,
            Booking.Status.CONFIRMED,
        )
        if locked.status not in live:
            raise BookingStateError(
                _("A %(status)s booking cannot be changed.")
                % {"status": locked.get_status_display()}
            )
        if locked.status == Booking.Status.ON_HOLD and (
            locked.expires_at is not None and locked.expires_at <= now
        ):
            raise BookingExpired(
                _("The hold expired at %(at)s.") % {"at": locked.expires_at.isoformat()}
            )
        # Release first, so that a change on the same slot counts its own places;
        # a failure below rolls the release back with everything else.
        booked = locked.status == Booking.Status.CONFIRMED
        _release(
            locked.slot_id,
            held=0 if booked else locked.persons,
            booked=locked.persons if booked else 0,
            test=locked.test_mode,
        )
        locked.slot = _take_places(
            listing, day, start_time, quote.persons, test=locked.test_mode
        )
        locked.listing = listing
        locked.units = {code: qty for code, qty, _price in quote.lines}
        locked.unit_prices = {code: price for code, _qty, price in quote.lines}
        locked.persons = quote.persons
        if booked:
            _held_to_booked(locked)  # the new places, taken as held above
        locked.total_minor = quote.total_minor
        locked.currency = quote.currency
        locked.net_minor = agency_net(quote.total_minor, locked.agency)
        if unit_items is not None:
            locked.unit_items = unit_items
        if locked.status == Booking.Status.ON_HOLD and locked.expires_at is not None:
            locked.expires_at = min(
                locked.expires_at,
                starts - dt.timedelta(hours=listing.booking_cutoff_hours),
            )
        locked.save()
        _status_changed(locked, locked.status)
        if locked.status != Booking.Status.ON_HOLD and not locked.test_mode:
            notifications.booking_notice_queue(
                "booking_changed",
                booking_id=locked.pk,
                key=f"booking:{locked.pk}:changed:{locked.updated_at.isoformat()}",
            )
    return locked


def _expire(booking: Booking, now: dt.datetime) -> None:
    _release(booking.slot_id, held=booking.persons, test=booking.test_mode)
    old = booking.status
    booking.status = Booking.Status.EXPIRED
    booking.cancelled_at = now
    booking.save(update_fields=["updated_at", "status", "cancelled_at"])
    _status_changed(booking, old)


def booking_expire_hold(
    *, booking: Booking, now: dt.datetime | None = None, only_if_due: bool = True
) -> Booking:
    """Release an ON_HOLD booking's places and mark it EXPIRED, under a row lock (what
    the sweep does for one booking). ``only_if_due``: only once its hold has run out;
    False: now (a whole-itinerary hold expiring as one). Other states are left alone."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(booking)
        due = locked.expires_at is not None and locked.expires_at <= now
        if locked.status == Booking.Status.ON_HOLD and (due or not only_if_due):
            _expire(locked, now)
    booking.refresh_from_db()
    return booking


def booking_confirm(
    *,
    booking: Booking,
    now: dt.datetime | None = None,
    changes: dict[str, object] | None = None,
) -> Booking:
    """Confirm a hold: instant listings become CONFIRMED, on-request ones PENDING until
    the provider answers. An expired hold is released (committed) and refused.
    ``changes`` (field → value, e.g. the traveller's contact) are saved with the
    confirmation, in the same UPDATE.

    The usual case, a hold still running, is decided by one conditional UPDATE of the
    booking row (which takes its lock and checks its status and expiry after any
    wait); only otherwise is the row read again under lock to say why not."""
    now = now or timezone.now()
    with transaction.atomic():
        confirmed = _confirm_running_hold(booking, now, changes or {})
        if confirmed is not None:
            return confirmed
        booking = _locked(booking)
        if booking.status in (Booking.Status.CONFIRMED, Booking.Status.PENDING):
            return booking  # confirming twice is harmless
        if booking.status != Booking.Status.ON_HOLD:
            raise BookingStateError(
                _("A %(status)s booking cannot be confirmed.")
                % {"status": booking.get_status_display()}
            )
        if booking.expires_at is None or booking.expires_at > now:
            # Extended between the UPDATE and the lock: confirm it now (locked).
            confirmed = _confirm_running_hold(booking, now, changes or {})
            if confirmed is None:  # cannot happen: the row is locked by us
                raise BookingStateError(_("The booking changed meanwhile; try again."))
            return confirmed
        expired_at = booking.expires_at
        _expire(booking, now)
    # Raised after the commit, so the release of the expired hold is kept.
    raise BookingExpired(
        _("The hold expired at %(at)s.") % {"at": expired_at.isoformat()}
    )


def _confirm_running_hold(
    booking: Booking, now: dt.datetime, changes: dict[str, object]
) -> Booking | None:
    """Confirm ``booking`` if its row is still ON_HOLD and not expired (one UPDATE,
    then the slot's places move to booked for instant listings); None otherwise,
    with nothing changed."""
    instant = booking.listing.confirmation != Listing.Confirmation.ON_REQUEST
    fields: dict[str, object] = {
        **changes,
        "status": Booking.Status.CONFIRMED if instant else Booking.Status.PENDING,
        "expires_at": None,
        "updated_at": now,
    }
    if instant:
        fields["confirmed_at"] = now
    won = (
        Booking.objects.filter(pk=booking.pk, status=Booking.Status.ON_HOLD)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .update(**fields)
    )
    if not won:
        return None
    if instant:
        _held_to_booked(booking)  # a mismatch raises: the UPDATE is rolled back too
    for name, value in fields.items():
        setattr(booking, name, value)
    _status_changed(booking, Booking.Status.ON_HOLD)
    _notify("booking_confirmed" if instant else "booking_needs_answer", booking)
    return booking


@transaction.atomic
def booking_accept(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """The provider accepts an on-request booking."""
    booking = _locked(booking)
    if booking.status != Booking.Status.PENDING:
        raise BookingStateError(_("Only bookings waiting for you can be accepted."))
    _held_to_booked(booking)
    old = booking.status
    booking.status = Booking.Status.CONFIRMED
    booking.confirmed_at = now or timezone.now()
    booking.save(update_fields=["updated_at", "status", "confirmed_at"])
    _status_changed(booking, old)
    _notify("booking_accepted", booking)
    return booking


@transaction.atomic
def booking_decline(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """The provider declines an on-request booking: its places are released."""
    booking = _locked(booking)
    if booking.status != Booking.Status.PENDING:
        raise BookingStateError(_("Only bookings waiting for you can be declined."))
    _release(booking.slot_id, held=booking.persons, test=booking.test_mode)
    old = booking.status
    booking.status = Booking.Status.DECLINED
    booking.cancelled_at = now or timezone.now()
    booking.save(update_fields=["updated_at", "status", "cancelled_at"])
    _status_changed(booking, old)
    _notify("booking_declined", booking)
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
def booking_cancel(
    *, booking: Booking, now: dt.datetime | None = None, reason: str = ""
) -> Booking:
    """Cancel under the listing's policy and release the places; ``reason`` (the
    OCTO cancel's, up to ``CANCEL_REASON_MAX`` characters) is kept and shown."""
    now = now or timezone.now()
    booking = _locked(booking)
    if booking.status in Booking.HOLDING:
        _release(booking.slot_id, held=booking.persons, test=booking.test_mode)
        booking.refund_minor = booking.total_minor
    elif booking.status == Booking.Status.CONFIRMED:
        _release(booking.slot_id, booked=booking.persons, test=booking.test_mode)
        booking.refund_minor = cancellation_refund(booking=booking, now=now)
    elif booking.status == Booking.Status.CANCELLED:
        return booking
    else:
        raise BookingStateError(
            _("A %(status)s booking cannot be cancelled.")
            % {"status": booking.get_status_display()}
        )
    if booking.status != Booking.Status.ON_HOLD:  # the provider saw it: tell them
        _notify("booking_cancelled", booking)
    old = booking.status
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = reason[:CANCEL_REASON_MAX]
    booking.save(
        update_fields=[
            "updated_at",
            "status",
            "cancelled_at",
            "refund_minor",
            "cancel_reason",
        ]
    )
    _status_changed(booking, old)
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
    old = booking.status
    booking.status = Booking.Status.REDEEMED if showed_up else Booking.Status.NO_SHOW
    booking.redeemed_at = (now or timezone.now()) if showed_up else None
    booking.save(update_fields=["updated_at", "status", "redeemed_at"])
    _status_changed(booking, old)
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


def _notify(notice: str, booking: Booking) -> None:
    """Queue booking email ``notice`` in the outbox, in the current transaction: it
    is sent (once) if and only if the change commits. Test bookings (sandbox keys)
    reach no one."""
    if booking.test_mode:
        return
    notifications.booking_notice_queue(notice, booking_id=booking.pk)
