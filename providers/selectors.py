"""Reads of providers, listings, availability and bookings.

Every function that serves a provider's own pages takes the provider and scopes by it:
the tenant boundary is here, not in the views.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from providers.models import Booking, Listing, ListingUnit, Provider, Slot

# A stay's night "starts" at check-in, for cut-offs and cancellation policies.
CHECK_IN = dt.time(14, 0)


def provider_for_user(user: AbstractBaseUser | AnonymousUser) -> Provider | None:
    """The provider a signed-in user works for (first membership), or None."""
    if not user.is_authenticated:
        return None
    return (
        Provider.objects.filter(members__user=user)
        .select_related("country", "home_place")
        .order_by("pk")
        .first()
    )


def listing_list_bookable(
    *, kind: str | None = None, place_ids: list[int] | None = None
) -> QuerySet[Listing]:
    """Listings the public may see and book: active, of an approved provider."""
    listings = (
        Listing.objects.filter(
            is_active=True, provider__status=Provider.Status.APPROVED
        )
        .select_related("provider", "place__country")
        .prefetch_related(
            Prefetch(
                "units", queryset=ListingUnit.objects.prefetch_related("schedules")
            )
        )
    )
    if kind:
        listings = listings.filter(kind=kind)
    if place_ids is not None:
        listings = listings.filter(place_id__in=place_ids)
    return listings


def listing_list_for_provider(*, provider: Provider) -> QuerySet[Listing]:
    return Listing.objects.filter(provider=provider).select_related("place")


def listing_get_for_provider(*, provider: Provider, listing_id: int) -> Listing | None:
    return listing_list_for_provider(provider=provider).filter(pk=listing_id).first()


def unit_price(unit: ListingUnit, day: dt.date) -> int:
    """The unit's price on ``day``: a seasonal price covering it, else the base."""
    for schedule in unit.schedules.all():
        if schedule.starts <= day <= schedule.ends:
            return schedule.price_minor
    return unit.price_minor


@dataclass(frozen=True)
class SlotAvailability:
    listing_id: int
    date: dt.date
    start_time: dt.time | None
    capacity: int
    held: int
    booked: int
    blocked: int
    closed: bool
    slot_id: int | None

    @property
    def free(self) -> int:
        if self.closed:
            return 0
        return max(0, self.capacity - self.held - self.booked - self.blocked)


def slot_keys(listing: Listing, day: dt.date) -> list[dt.time | None]:
    """The start times a listing offers on ``day`` (``[None]`` for a whole day)."""
    if not listing.operates_on(day):
        return []
    if listing.kind == Listing.Kind.TRANSPORT:
        departures = [d for d in listing.departures.all() if d.runs_on(day)]
        return sorted({t for d in departures for t in d.local_times()})
    if listing.start_times:
        return sorted(dt.time.fromisoformat(t) for t in listing.start_times)
    return [None]


def availability_range(
    *, listing: Listing, start: dt.date, end: dt.date
) -> list[SlotAvailability]:
    """Availability of every slot from ``start`` to ``end`` inclusive: stored slots,
    and the listing's default capacity where the provider set nothing."""
    stored = {
        (s.date, s.start_time): s
        for s in Slot.objects.filter(listing=listing, date__gte=start, date__lte=end)
    }
    result: list[SlotAvailability] = []
    day = start
    while day <= end:
        for start_time in slot_keys(listing, day):
            slot = stored.get((day, start_time))
            result.append(
                SlotAvailability(
                    listing_id=listing.pk,
                    date=day,
                    start_time=start_time,
                    capacity=slot.capacity if slot else listing.default_capacity,
                    held=slot.held if slot else 0,
                    booked=slot.booked if slot else 0,
                    blocked=slot.blocked if slot else 0,
                    closed=slot.closed if slot else False,
                    slot_id=slot.pk if slot else None,
                )
            )
        day += dt.timedelta(days=1)
    return result


def slot_starts_at(
    *, listing: Listing, day: dt.date, start_time: dt.time | None
) -> dt.datetime:
    """When a slot begins, as an aware datetime in the listing's place zone."""
    local = start_time or listing.opens or CHECK_IN
    return dt.datetime.combine(day, local, tzinfo=listing.place.zone)


def booking_list_for_provider(
    *,
    provider: Provider,
    status: str | None = None,
    day: dt.date | None = None,
) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(provider=provider).select_related(
        "listing", "slot"
    )
    if status:
        bookings = bookings.filter(status=status)
    if day:
        bookings = bookings.filter(slot__date=day)
    return bookings.order_by("slot__date", "slot__start_time", "created_at")


def booking_get_for_provider(
    *, provider: Provider, booking_uuid: str
) -> Booking | None:
    return (
        booking_list_for_provider(provider=provider).filter(uuid=booking_uuid).first()
    )


def manifest_for_day(*, provider: Provider, day: dt.date) -> list[Booking]:
    """Who comes on ``day``: confirmed, pending and already redeemed bookings."""
    active = (*Booking.HOLDING, *Booking.BOOKED)
    return list(
        booking_list_for_provider(provider=provider, day=day).filter(status__in=active)
    )
