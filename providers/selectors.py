"""Reads of providers, listings, availability and bookings.

Every function that serves a provider's own pages takes the provider and scopes by it:
the tenant boundary is here, not in the views.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from catalogue.models import minor_to_decimal
from providers.models import (
    Booking,
    CalendarFeed,
    Listing,
    ListingPhoto,
    ListingUnit,
    OctoConnection,
    PriceSchedule,
    Provider,
    Slot,
    SyncConflict,
)
from tourism.localcache import VersionedLocalCache

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
        .select_related("provider", "place__country", "end_place__country")
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


# Listings with their provider, place (and zone), units and seasonal prices and
# departures, cached in each process: every OCTO availability, reserve and booking
# request, and every booking email, reads one, and they change rarely.
# ``providers.apps`` invalidates the cache whenever one of these rows is saved or
# deleted.
listing_cache: VersionedLocalCache[Listing] = VersionedLocalCache(
    "listings", ttl=60.0, maxsize=2048
)


def listings_with_offer() -> QuerySet[Listing]:
    """Listings with what pricing and booking them reads: provider, place (and its
    country and zone), where it ends, units with their seasonal prices, departures."""
    units = ListingUnit.objects.prefetch_related("schedules")
    return Listing.objects.select_related(
        "provider", "place__country", "end_place__country"
    ).prefetch_related(Prefetch("units", queryset=units), "departures")


def _listing_load(listing_id: int) -> Listing | None:
    return (
        listings_with_offer().prefetch_related("photos").filter(pk=listing_id).first()
    )


def listing_get_cached(listing_id: int) -> Listing | None:
    """Listing ``listing_id`` (bookable or not) with its provider, place, units,
    prices, departures and photos loaded; shared by the process's requests:
    read-only."""
    return listing_cache.get(listing_id, lambda: _listing_load(listing_id))


def listing_list_for_provider(*, provider: Provider) -> QuerySet[Listing]:
    return Listing.objects.filter(provider=provider).select_related(
        "place", "end_place"
    )


def listing_get_for_provider(*, provider: Provider, listing_id: int) -> Listing | None:
    return listing_list_for_provider(provider=provider).filter(pk=listing_id).first()


def unit_price(unit: ListingUnit, day: dt.date) -> int:
    """The unit's price on ``day``: a seasonal price covering it, else the base."""
    # The prefetched list when there is one (``.all()`` would copy the queryset, on
    # every day of every calendar).
    prefetched = getattr(unit, "_prefetched_objects_cache", {}).get("schedules")
    for schedule in unit.schedules.all() if prefetched is None else prefetched:
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
    # Plain tuples, not model instances: a 30-day calendar reads up to 60 rows on
    # every availability request.
    rows = Slot.objects.filter(
        listing=listing, date__gte=start, date__lte=end
    ).values_list(
        "date", "start_time", "capacity", "held", "booked", "blocked", "closed", "pk"
    )
    stored = {(row[0], row[1]): row[2:] for row in rows}
    unset = (listing.default_capacity, 0, 0, 0, False, None)
    result: list[SlotAvailability] = []
    day = start
    while day <= end:
        for start_time in slot_keys(listing, day):
            capacity, held, booked, blocked, closed, slot_id = stored.get(
                (day, start_time), unset
            )
            result.append(
                SlotAvailability(
                    listing_id=listing.pk,
                    date=day,
                    start_time=start_time,
                    capacity=capacity,
                    held=held,
                    booked=booked,
                    blocked=blocked,
                    closed=closed,
                    slot_id=slot_id,
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


def booking_cutoff_at(
    *, listing: Listing, day: dt.date, start_time: dt.time | None
) -> dt.datetime:
    """When bookings for a slot close (its start less the listing's booking
    cut-off): a hold never runs past it, so it cannot be confirmed after it."""
    starts = slot_starts_at(listing=listing, day=day, start_time=start_time)
    return starts - dt.timedelta(hours=listing.booking_cutoff_hours)


def booking_list_for_provider(
    *,
    provider: Provider,
    status: str | None = None,
    day: dt.date | None = None,
) -> QuerySet[Booking]:
    # Test bookings (sandbox keys) never reach the provider.
    bookings = Booking.objects.filter(
        provider=provider, test_mode=False
    ).select_related("listing", "slot", "agency")
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
    """Who comes on ``day``: confirmed, redeemed and no-show bookings, and on-request
    ones waiting for the provider's answer. Unpaid holds (a traveller still at the
    checkout) are not on the manifest."""
    active = (Booking.Status.PENDING, *Booking.BOOKED)
    return list(
        booking_list_for_provider(provider=provider, day=day).filter(status__in=active)
    )


# --- Provider portal --------------------------------------------------------------


def format_minor(minor: int, currency: str) -> str:
    """``1550, "PEN"`` → ``"15.50 PEN"``."""
    return f"{minor_to_decimal(minor, currency)} {currency}"


@dataclass(frozen=True)
class UnitLine:
    code: str
    quantity: int
    unit: ListingUnit | None

    @property
    def name(self) -> str:
        """The unit's name in the active language (its code if it was removed)."""
        return self.unit.name if self.unit else self.code


@dataclass(frozen=True)
class BookingRow:
    """A booking with what its pages and emails show: unit names and the total."""

    booking: Booking
    units: tuple[UnitLine, ...]
    total: str
    refund: str | None = None


def booking_rows(*, bookings: Iterable[Booking]) -> list[BookingRow]:
    bookings = list(bookings)
    prefetch_related_objects(bookings, "listing__units")
    rows = []
    for booking in bookings:
        by_code = {unit.code: unit for unit in booking.listing.units.all()}
        units = tuple(
            UnitLine(code=code, quantity=quantity, unit=by_code.get(code))
            for code, quantity in (booking.units or {}).items()
        )
        rows.append(
            BookingRow(
                booking=booking,
                units=units,
                total=format_minor(booking.total_minor, booking.currency),
                refund=(
                    None
                    if booking.refund_minor is None
                    else format_minor(booking.refund_minor, booking.currency)
                ),
            )
        )
    return rows


def provider_today(*, provider: Provider) -> dt.date:
    """Today's date where the provider lives."""
    return timezone.localdate(timezone=provider.home_place.zone)


@dataclass(frozen=True)
class ProviderDashboard:
    today: dt.date
    today_count: int
    upcoming_count: int
    waiting: list[BookingRow]
    conflicts: list[SyncConflict]
    feed_errors: list[CalendarFeed]
    listings: list[Listing]


def dashboard_for_provider(*, provider: Provider, today: dt.date) -> ProviderDashboard:
    """What a provider should see first: who comes, what needs an answer, what broke."""
    bookings = Booking.objects.filter(provider=provider, test_mode=False)
    waiting = booking_list_for_provider(
        provider=provider, status=Booking.Status.PENDING
    )
    return ProviderDashboard(
        today=today,
        today_count=bookings.filter(
            slot__date=today,
            status__in=(Booking.Status.PENDING, *Booking.BOOKED),
        ).count(),
        upcoming_count=bookings.filter(
            slot__date__gt=today,
            status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
        ).count(),
        waiting=booking_rows(bookings=waiting),
        conflicts=list(
            SyncConflict.objects.filter(
                slot__listing__provider=provider, resolved_at__isnull=True
            ).select_related("slot__listing", "feed")
        ),
        feed_errors=list(
            CalendarFeed.objects.filter(listing__provider=provider)
            .exclude(last_error="")
            .select_related("listing")
        ),
        listings=list(
            listing_list_for_provider(provider=provider).order_by("kind", "title_en")
        ),
    )


def unit_list_for_listing(*, listing: Listing) -> QuerySet[ListingUnit]:
    return ListingUnit.objects.filter(listing=listing).order_by("pk")


def price_schedule_list_for_listing(*, listing: Listing) -> QuerySet[PriceSchedule]:
    return (
        PriceSchedule.objects.filter(unit__listing=listing)
        .select_related("unit")
        .order_by("unit_id", "starts")
    )


def photo_list_for_listing(*, listing: Listing) -> QuerySet[ListingPhoto]:
    return ListingPhoto.objects.filter(listing=listing)


def photo_get_for_listing(*, listing: Listing, photo_id: int) -> ListingPhoto | None:
    return photo_list_for_listing(listing=listing).filter(pk=photo_id).first()


def feed_list_for_listing(*, listing: Listing) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(listing=listing).order_by("pk")


# More slots than this in a month (frequent departures, many start times): the
# calendar shows one week at a time so each page stays small.
CALENDAR_MAX_SLOTS = 160
CALENDAR_WEEKS = ((1, 7), (8, 14), (15, 21), (22, 28), (29, 31))


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    slots: list[SlotAvailability]


@dataclass(frozen=True)
class CalendarMonth:
    month: dt.date  # the first day
    days: list[CalendarDay]
    previous_month: dt.date
    next_month: dt.date
    weeks: tuple[int, ...]  # empty when the whole month fits on one page
    week: int | None


def calendar_month(
    *, listing: Listing, month: dt.date, week: int | None = None
) -> CalendarMonth:
    """Every day of ``month`` with its slots (none on days the listing is not offered);
    split by week when the month has more than CALENDAR_MAX_SLOTS slots."""
    first = month.replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    last = next_month - dt.timedelta(days=1)
    slots = availability_range(listing=listing, start=first, end=last)
    weeks: tuple[int, ...] = ()
    if len(slots) > CALENDAR_MAX_SLOTS:
        weeks = tuple(
            n for n, (start, _end) in enumerate(CALENDAR_WEEKS, 1) if start <= last.day
        )
        week = week if week in weeks else 1
        start_day, end_day = CALENDAR_WEEKS[week - 1]
        first_shown = first.replace(day=start_day)
        last_shown = first.replace(day=min(end_day, last.day))
    else:
        week = None
        first_shown, last_shown = first, last
    by_day: dict[dt.date, list[SlotAvailability]] = {}
    for slot in slots:
        by_day.setdefault(slot.date, []).append(slot)
    days = []
    day = first_shown
    while day <= last_shown:
        days.append(CalendarDay(date=day, slots=by_day.get(day, [])))
        day += dt.timedelta(days=1)
    return CalendarMonth(
        month=first,
        days=days,
        previous_month=(first - dt.timedelta(days=1)).replace(day=1),
        next_month=next_month,
        weeks=weeks,
        week=week,
    )


def manifest_rows(*, provider: Provider, day: dt.date) -> list[BookingRow]:
    """The day's manifest with unit names and totals, for the printable page."""
    return booking_rows(bookings=manifest_for_day(provider=provider, day=day))


def octo_connection_list_for_provider(
    *, provider: Provider
) -> QuerySet[OctoConnection]:
    return OctoConnection.objects.filter(provider=provider).order_by("name")


def octo_connection_get_for_provider(
    *, provider: Provider, connection_id: int
) -> OctoConnection | None:
    return (
        octo_connection_list_for_provider(provider=provider)
        .filter(pk=connection_id)
        .first()
    )
