"""Availability: slots per night or start time, set by providers."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from providers.models import (
    Listing,
    Slot,
)

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
    if capacity is not None and listing.feeds.exists():
        # Whole-day blocks from feeds follow the new capacity.
        from providers.sync.services import listing_blocks_recompute

        listing_blocks_recompute(listing=listing, dates=[day])
    slot.refresh_from_db()
    return slot
