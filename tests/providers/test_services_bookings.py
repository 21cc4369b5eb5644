"""Holds and bookings never oversell, follow their states, and price correctly."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TestCase

from providers import selectors, services
from providers.models import Booking, Listing, PriceSchedule, Provider, Slot
from tests.providers.factories import make_listing, make_provider
from tourism.exceptions import BookingExpired, BookingStateError, BookingUnavailable

pytestmark = pytest.mark.django_db

DAY = dt.date(2027, 3, 10)
NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def listing(small_catalogue):
    return make_listing(make_provider())


def _hold(listing, units, *, day=DAY, start_time=None, now=NOW, **kw):
    return services.booking_hold(
        listing=listing,
        day=day,
        start_time=start_time,
        units=units,
        channel=Booking.Channel.WEBSITE,
        now=now,
        **kw,
    )


def test_hold_takes_places_and_prices_units(listing):
    """2 adults + 1 child + 1 infant: 3 places, infants free and not counted."""
    booking = _hold(listing, {"adult": 2, "child": 1, "infant": 1})
    assert (booking.persons, booking.total_minor, booking.currency) == (3, 12500, "PEN")
    assert booking.status == Booking.Status.ON_HOLD
    assert booking.expires_at == NOW + dt.timedelta(minutes=30)
    slot = Slot.objects.get(listing=listing, date=DAY)
    assert (slot.capacity, slot.held, slot.booked, slot.free) == (6, 3, 0, 3)


def test_hold_beyond_capacity_is_refused_naming_units(listing):
    """The seventh person does not fit; the error says how many places are left."""
    _hold(listing, {"adult": 5})
    with pytest.raises(BookingUnavailable) as exc:
        _hold(listing, {"adult": 2})
    assert exc.value.field == "units" and "1" in exc.value.message
    assert Slot.objects.get(listing=listing, date=DAY).held == 5


def test_closed_and_blocked_days_are_refused(listing):
    """A closed day takes nobody; external blocks reduce what is free."""
    services.slot_set(listing=listing, day=DAY, closed=True)
    with pytest.raises(BookingUnavailable):
        _hold(listing, {"adult": 1})
    other = DAY + dt.timedelta(days=1)
    slot = services.slot_get_or_create(listing=listing, day=other, start_time=None)
    Slot.objects.filter(pk=slot.pk).update(blocked=5)
    _hold(listing, {"adult": 1}, day=other)
    with pytest.raises(BookingUnavailable):
        _hold(listing, {"adult": 1}, day=other)


def test_booking_cutoff(listing):
    """Bookings close 24 h before check-in (14:00 local)."""
    late = dt.datetime(2027, 3, 9, 19, 30, tzinfo=dt.UTC)  # 14:30 in Puno, day before
    with pytest.raises(BookingUnavailable, match="24"):
        _hold(listing, {"adult": 1}, now=late)


def test_unknown_unit_and_party_limits(listing):
    """Unknown units, negative quantities and party limits are refused by field."""
    with pytest.raises(ValidationError) as exc:
        _hold(listing, {"senior": 1})
    assert "units" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _hold(listing, {"adult": -1})
    with pytest.raises(ValidationError):
        _hold(listing, {"infant": 2})  # nobody who takes a place
    Listing.objects.filter(pk=listing.pk).update(min_party=2, max_party=4)
    listing.refresh_from_db()
    with pytest.raises(ValidationError, match="at least 2"):
        _hold(listing, {"adult": 1})
    with pytest.raises(ValidationError, match="at most 4"):
        _hold(listing, {"adult": 5})


def test_seasonal_price_applies_inside_its_dates(listing):
    """A Candelaria price schedule overrides the base price on its dates only."""
    adult = listing.units.get(code="adult")
    PriceSchedule.objects.create(unit=adult, starts=DAY, ends=DAY, price_minor=9000)
    assert _hold(listing, {"adult": 1}).total_minor == 9000
    assert (
        _hold(listing, {"adult": 1}, day=DAY + dt.timedelta(days=1)).total_minor == 5000
    )


def test_activity_only_on_its_days_and_start_times(small_catalogue):
    """An activity at 09:00 on Mondays cannot be held on Tuesday or at 10:00."""
    listing = make_listing(
        make_provider(),
        kind=Listing.Kind.ACTIVITY,
        start_times=["09:00"],
        days=["mon"],
        duration_min=120,
    )
    monday = dt.date(2027, 3, 8)
    booking = _hold(listing, {"adult": 2}, day=monday, start_time=dt.time(9, 0))
    assert booking.slot.start_time == dt.time(9, 0)
    with pytest.raises(BookingUnavailable):
        _hold(listing, {"adult": 1}, day=monday, start_time=dt.time(10, 0))
    with pytest.raises(BookingUnavailable):
        _hold(
            listing,
            {"adult": 1},
            day=monday + dt.timedelta(days=1),
            start_time=dt.time(9, 0),
        )


def test_pending_provider_is_not_bookable(small_catalogue):
    """Listings of providers waiting for approval are neither listed nor bookable."""
    provider = make_provider(status=Provider.Status.PENDING)
    listing = make_listing(provider)
    assert listing not in selectors.listing_list_bookable()
    with pytest.raises(BookingUnavailable):
        _hold(listing, {"adult": 1})
    services.provider_approve(provider=provider)
    listing.provider.refresh_from_db()
    assert listing in selectors.listing_list_bookable()
    assert _hold(listing, {"adult": 1}).status == Booking.Status.ON_HOLD


def test_confirm_moves_held_to_booked(listing):
    """Confirming an instant listing books the places; confirming twice is harmless."""
    booking = services.booking_confirm(booking=_hold(listing, {"adult": 2}), now=NOW)
    assert booking.status == Booking.Status.CONFIRMED and booking.expires_at is None
    services.booking_confirm(booking=booking, now=NOW)
    slot = Slot.objects.get(listing=listing, date=DAY)
    assert (slot.held, slot.booked) == (0, 2)


def test_on_request_waits_for_the_provider(listing):
    """On-request: PENDING keeps the places held until accept (booked) or decline."""
    Listing.objects.filter(pk=listing.pk).update(confirmation="on_request")
    listing.refresh_from_db()
    first = services.booking_confirm(booking=_hold(listing, {"adult": 2}), now=NOW)
    assert first.status == Booking.Status.PENDING
    services.booking_accept(booking=first)
    second = services.booking_confirm(booking=_hold(listing, {"adult": 1}), now=NOW)
    services.booking_decline(booking=second)
    slot = Slot.objects.get(listing=listing, date=DAY)
    assert (slot.held, slot.booked) == (0, 2)
    with pytest.raises(BookingStateError):
        services.booking_accept(booking=second)


def test_expired_hold_cannot_be_confirmed(listing):
    """After expires_at the hold is released and confirming is refused."""
    booking = _hold(listing, {"adult": 3}, hold_minutes=10)
    with pytest.raises(BookingExpired):
        services.booking_confirm(booking=booking, now=NOW + dt.timedelta(minutes=11))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert Slot.objects.get(listing=listing, date=DAY).held == 0


def test_sweep_releases_expired_holds_only(listing):
    """The periodic sweep expires due holds and leaves fresh ones."""
    _hold(listing, {"adult": 1}, hold_minutes=5)
    _hold(listing, {"adult": 2}, hold_minutes=60)
    assert services.booking_expire_holds(now=NOW + dt.timedelta(minutes=6)) == 1
    assert Slot.objects.get(listing=listing, date=DAY).held == 2
    assert services.booking_expire_holds(now=NOW + dt.timedelta(minutes=6)) == 0


def test_cancellation_refund_follows_the_policy(listing):
    """Full refund before the cut-off; the listing's percentage after it."""
    Listing.objects.filter(pk=listing.pk).update(
        cancellation_cutoff_hours=48, cancellation_refund_percent=50
    )
    listing.refresh_from_db()
    early = services.booking_confirm(booking=_hold(listing, {"adult": 2}), now=NOW)
    early = services.booking_cancel(booking=early, now=NOW)
    assert early.refund_minor == 10000
    late = services.booking_confirm(booking=_hold(listing, {"adult": 2}), now=NOW)
    late = services.booking_cancel(
        booking=late, now=dt.datetime(2027, 3, 9, tzinfo=dt.UTC)
    )
    assert late.refund_minor == 5000
    assert Slot.objects.get(listing=listing, date=DAY).booked == 0
    with pytest.raises(BookingStateError):
        services.booking_mark_attendance(booking=late, showed_up=True)


def test_capacity_cannot_drop_below_sold(listing):
    """Setting capacity under held + booked is refused naming 'capacity'."""
    services.booking_confirm(booking=_hold(listing, {"adult": 4}), now=NOW)
    with pytest.raises(ValidationError) as exc:
        services.slot_set(listing=listing, day=DAY, capacity=3)
    assert "capacity" in exc.value.message_dict
    assert services.slot_set(listing=listing, day=DAY, capacity=4).capacity == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_never_oversell(small_catalogue):
    """30 threads racing for 5 places on PostgreSQL: exactly 5 holds, consistent row."""
    listing = make_listing(make_provider(), default_capacity=5)
    results: list[str] = []
    barrier = threading.Barrier(30)

    def attempt() -> None:
        try:
            barrier.wait()
            _hold(listing, {"adult": 1})
            results.append("held")
        except BookingUnavailable:
            results.append("unavailable")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("held") == 5 and results.count("unavailable") == 25
    slot = Slot.objects.get(listing=listing, date=DAY)
    assert slot.held == 5 == Booking.objects.filter(slot=slot).count()


def test_a_booking_email_is_sent_once(listing, mailoutbox):
    """A repeated notice (the same change queued twice, a task delivered twice: a
    worker stopped after sending, before acknowledging) emails the provider once:
    one outbox row per key, claimed by one conditional UPDATE."""
    from outbox.models import Message
    from outbox.services import message_deliver
    from providers.notifications import booking_notice_queue

    booking = _hold(listing, {"adult": 2})
    with TestCase.captureOnCommitCallbacks(execute=False):
        booking_notice_queue("booking_confirmed", booking_id=booking.pk)
        booking_notice_queue("booking_confirmed", booking_id=booking.pk)
    key = f"booking:{booking.pk}:booking_confirmed"
    assert Message.objects.filter(key=key).count() == 1
    assert message_deliver(key=key) == "sent"
    assert message_deliver(key=key) == "skipped"
    assert len(mailoutbox) == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        booking_notice_queue("booking_cancelled", booking_id=booking.pk)
    assert len(mailoutbox) == 2


def test_emails_go_to_the_bookings_provider_after_the_listing_moved(
    listing, mailoutbox
):
    """Staff moved the listing to another provider: the older booking's emails (with
    the traveller's details) still go to the provider it was booked with."""
    from providers.notifications import send_booking_notice

    booking = _hold(listing, {"adult": 2}, lead_name="Ana Quispe")
    first = listing.provider
    listing.provider = make_provider()
    listing.save()
    send_booking_notice("booking_confirmed", booking_id=booking.pk)
    (mail,) = mailoutbox
    assert mail.to == [first.email]


def test_holds_without_returning_rows(listing, monkeypatch):
    """A database without UPDATE … RETURNING (SQLite before 3.35) takes the same
    conditional UPDATE and reads the row again."""
    monkeypatch.setattr(
        type(connection.features), "can_return_rows_from_bulk_insert", False
    )
    first = _hold(listing, {"adult": 4})
    assert (first.slot.held, first.slot.capacity) == (4, 6)
    second = _hold(listing, {"adult": 2})
    assert second.slot.held == 6
    with pytest.raises(BookingUnavailable):
        _hold(listing, {"adult": 1})
    slot = Slot.objects.get(listing=listing, date=DAY)
    assert (slot.held, slot.booked) == (6, 0)
