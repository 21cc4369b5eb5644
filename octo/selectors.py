"""Reads for the OCTO supplier API: products, availability and an agency's bookings.

- A product is an active listing of an approved provider, with one option
  (``DEFAULT``). Listings with start times (activities, guides with start times,
  transport departures) are ``START_TIME`` products; stays and all-day listings are
  ``OPENING_HOURS`` products.
- An availability id is the slot's local start as ISO 8601 with the zone's offset,
  e.g. ``2026-12-08T07:30:00-05:00``; all-day slots start at local midnight.
- Statuses follow the OCTO definitions: ``CLOSED`` (closed by the provider, or past
  the booking cut-off), ``SOLD_OUT`` (no place left, or not enough for the requested
  units), ``LIMITED`` (less than 50 % of the capacity remaining), else ``AVAILABLE``.
  Every listing has a capacity, so ``FREESALE`` is never given.
- Bookings are always read through the agency: another agency's booking does not
  exist for it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from agencies.models import Agency
from providers.models import Booking, Listing, ListingUnit, Provider, Slot
from providers.selectors import (
    SlotAvailability,
    availability_range,
    listing_get_cached,
    listing_list_bookable,
    slot_keys,
    slot_starts_at,
)

OPTION_ID = "DEFAULT"
# Dates the API accepts (anything else is a BAD_REQUEST, not an overflow).
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)

AVAILABLE = "AVAILABLE"
LIMITED = "LIMITED"
SOLD_OUT = "SOLD_OUT"
CLOSED = "CLOSED"


def product_list(*, after_id: int | None = None) -> QuerySet[Listing]:
    """Every bookable listing, by id (``after_id``: the keyset cursor)."""
    listings = (
        listing_list_bookable().prefetch_related("departures", "photos").order_by("pk")
    )
    if after_id is not None:
        listings = listings.filter(pk__gt=after_id)
    return listings


def is_bookable(listing: Listing) -> bool:
    """What ``listing_list_bookable`` selects: active, of an approved provider."""
    return listing.is_active and listing.provider.status == Provider.Status.APPROVED


def product_get(product_id: str) -> Listing | None:
    """The bookable listing ``product_id`` names (its id as a string), else None."""
    if not product_id.isascii() or not product_id.isdigit() or len(product_id) > 18:
        return None
    listing = listing_get_cached(int(product_id))
    return listing if listing is not None and is_bookable(listing) else None


def is_start_time(listing: Listing) -> bool:
    return listing.is_timed


def local_start_times(listing: Listing) -> list[dt.time]:
    """Every start time the listing may offer (``[00:00]`` for all-day listings)."""
    if listing.kind == Listing.Kind.TRANSPORT:
        times = {t for d in listing.departures.all() for t in d.local_times()}
    else:
        times = {dt.time.fromisoformat(t) for t in listing.start_times or []}
    return sorted(times) or [dt.time(0, 0)]


def availability_id(listing: Listing, day: dt.date, start_time: dt.time | None) -> str:
    local = dt.datetime.combine(day, start_time or dt.time(0), tzinfo=_zone(listing))
    return local.isoformat()


def parse_availability_id(
    listing: Listing, value: object
) -> tuple[dt.date, dt.time | None] | None:
    """The (date, start time) an availability id names, if the listing offers it."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    local = moment.astimezone(_zone(listing))
    day = local.date()
    if not MIN_DATE <= day <= MAX_DATE:
        return None
    keys = slot_keys(listing, day)
    if local.time() in keys:
        return day, local.time()
    if None in keys and local.time() == dt.time(0):
        return day, None
    return None


@dataclass(frozen=True)
class OctoAvailability:
    listing: Listing
    date: dt.date
    start_time: dt.time | None
    starts: dt.datetime  # local, aware
    ends: dt.datetime  # local, aware
    cutoff: dt.datetime  # aware
    capacity: int
    vacancies: int
    status: str

    @property
    def id(self) -> str:
        return self.starts.isoformat()

    @property
    def all_day(self) -> bool:
        return self.start_time is None

    @property
    def available(self) -> bool:
        return self.status in (AVAILABLE, LIMITED)


def _zone(listing: Listing) -> dt.tzinfo:
    return listing.place.zone


def _duration_minutes(listing: Listing, day: dt.date, start_time: dt.time) -> int:
    if listing.kind == Listing.Kind.TRANSPORT:
        for departure in listing.departures.all():
            if departure.runs_on(day) and start_time in departure.local_times():
                return departure.duration_min
    return listing.duration_min or 0


def _status(
    slot: SlotAvailability, cutoff: dt.datetime, now: dt.datetime, persons: int
) -> tuple[str, int]:
    """(OCTO status, vacancies) of one slot for a party of ``persons`` (0: any)."""
    if slot.closed or now >= cutoff:
        return CLOSED, 0
    free = slot.free
    if free == 0 or free < persons:
        return SOLD_OUT, free
    if free * 2 < slot.capacity:
        return LIMITED, free
    return AVAILABLE, free


def _availability(
    listing: Listing, slot: SlotAvailability, now: dt.datetime, persons: int
) -> OctoAvailability:
    zone = _zone(listing)
    if slot.start_time is None:
        starts = dt.datetime.combine(slot.date, dt.time(0), tzinfo=zone)
        ends = dt.datetime.combine(
            slot.date + dt.timedelta(days=1), dt.time(0), tzinfo=zone
        )
    else:
        starts = dt.datetime.combine(slot.date, slot.start_time, tzinfo=zone)
        ends = starts + dt.timedelta(
            minutes=_duration_minutes(listing, slot.date, slot.start_time)
        )
    begins = slot_starts_at(listing=listing, day=slot.date, start_time=slot.start_time)
    cutoff = begins - dt.timedelta(hours=listing.booking_cutoff_hours)
    status, vacancies = _status(slot, cutoff, now, persons)
    return OctoAvailability(
        listing=listing,
        date=slot.date,
        start_time=slot.start_time,
        starts=starts,
        ends=ends,
        cutoff=cutoff,
        capacity=slot.capacity,
        vacancies=vacancies,
        status=status,
    )


def availability_list(
    *,
    listing: Listing,
    start: dt.date,
    end: dt.date,
    persons: int = 0,
    now: dt.datetime | None = None,
) -> list[OctoAvailability]:
    """Every slot from ``start`` to ``end`` (inclusive) with its OCTO status."""
    now = now or timezone.now()
    return [
        _availability(listing, slot, now, persons)
        for slot in availability_range(listing=listing, start=start, end=end)
    ]


def availability_of_slot(
    *, listing: Listing, slot: Slot, now: dt.datetime | None = None
) -> OctoAvailability:
    """The availability a booking's slot has now."""
    return _availability(
        listing,
        SlotAvailability(
            listing_id=listing.pk,
            date=slot.date,
            start_time=slot.start_time,
            capacity=slot.capacity,
            held=slot.held,
            booked=slot.booked,
            blocked=slot.blocked,
            closed=slot.closed,
            slot_id=slot.pk,
        ),
        now or timezone.now(),
        0,
    )


@dataclass(frozen=True)
class OctoDay:
    date: dt.date
    status: str
    vacancies: int
    capacity: int

    @property
    def available(self) -> bool:
        return self.status in (AVAILABLE, LIMITED)


def availability_calendar(
    *,
    listing: Listing,
    start: dt.date,
    end: dt.date,
    persons: int = 0,
    now: dt.datetime | None = None,
) -> list[OctoDay]:
    """One entry per day: ``CLOSED`` on days without an open slot; otherwise
    ``SOLD_OUT`` when no slot has room, ``LIMITED`` when less than half of the open
    slots' capacity remains, else ``AVAILABLE``. ``vacancies`` is the most any one
    slot has left, ``capacity`` the day's total."""
    by_day: dict[dt.date, list[OctoAvailability]] = {}
    for item in availability_list(
        listing=listing, start=start, end=end, persons=persons, now=now
    ):
        by_day.setdefault(item.date, []).append(item)
    days = []
    day = start
    while day <= end:
        items = by_day.get(day, [])
        open_items = [i for i in items if i.status != CLOSED]
        bookable = [i for i in open_items if i.available]
        capacity = sum(i.capacity for i in items)
        if not open_items:
            status = CLOSED
        elif not bookable:
            status = SOLD_OUT
        elif sum(i.vacancies for i in open_items) * 2 < sum(
            i.capacity for i in open_items
        ):
            status = LIMITED
        else:
            status = AVAILABLE
        days.append(
            OctoDay(
                date=day,
                status=status,
                vacancies=max((i.vacancies for i in bookable), default=0),
                capacity=capacity,
            )
        )
        day += dt.timedelta(days=1)
    return days


# --- Bookings -----------------------------------------------------------------------


def _bookings() -> QuerySet[Booking]:
    return Booking.objects.select_related(
        "listing__place__country", "listing__provider", "slot", "agency"
    ).prefetch_related(
        Prefetch(
            "listing__units",
            queryset=ListingUnit.objects.prefetch_related("schedules"),
        ),
        "listing__departures",
    )


def booking_get_for_agency(
    *, agency: Agency, booking_uuid: uuid.UUID
) -> Booking | None:
    """The agency's own booking ``booking_uuid``; None for anyone else's. One query:
    the listing comes from the process's cache (read-only), the agency is the one
    asking."""
    booking = (
        Booking.objects.select_related("slot")
        .filter(agency=agency, uuid=booking_uuid)
        .first()
    )
    return booking_with_listing(booking, agency=agency) if booking else None


def booking_with_listing(booking: Booking, *, agency: Agency) -> Booking:
    """The booking with what its OCTO object shows: the listing from the process's
    cache (read-only), the agency (its own), and its slot."""
    if booking.agency_id != agency.pk:  # callers look bookings up by agency
        raise ValueError(f"booking {booking.pk} is not agency {agency.pk}'s")
    if not Booking.listing.is_cached(booking):
        booking.listing = listing_get_cached(booking.listing_id) or booking.listing
    if not Booking.agency.is_cached(booking):
        booking.agency = agency
    return booking


def booking_list_for_agency(
    *,
    agency: Agency,
    reseller_reference: str | None = None,
    supplier_reference: str | None = None,
    local_date_start: dt.date | None = None,
    local_date_end: dt.date | None = None,
    listing_id: int | None = None,
    after_id: int | None = None,
) -> QuerySet[Booking]:
    """The agency's bookings matching every filter given, by id."""
    bookings = _bookings().filter(agency=agency).order_by("pk")
    if reseller_reference is not None:
        bookings = bookings.filter(reseller_reference=reseller_reference)
    if supplier_reference is not None:
        bookings = bookings.filter(supplier_reference=supplier_reference)
    if local_date_start is not None:
        bookings = bookings.filter(slot__date__gte=local_date_start)
    if local_date_end is not None:
        bookings = bookings.filter(slot__date__lte=local_date_end)
    if listing_id is not None:
        bookings = bookings.filter(listing_id=listing_id)
    if after_id is not None:
        bookings = bookings.filter(pk__gt=after_id)
    return bookings


def booking_cancellable(*, booking: Booking, now: dt.datetime | None = None) -> bool:
    """Holds and bookings waiting for the provider can be cancelled until the start;
    confirmed ones until the listing's free-cancellation cut-off (the option's
    ``cancellationCutoff``)."""
    now = now or timezone.now()
    if booking.status == Booking.Status.ON_HOLD and (
        booking.expires_at is not None and booking.expires_at <= now
    ):
        return False
    starts = slot_starts_at(
        listing=booking.listing,
        day=booking.slot.date,
        start_time=booking.slot.start_time,
    )
    if booking.status in Booking.HOLDING:
        return now < starts
    if booking.status == Booking.Status.CONFIRMED:
        cutoff = dt.timedelta(hours=booking.listing.cancellation_cutoff_hours)
        return now < starts - cutoff
    return False
