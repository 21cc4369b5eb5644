"""Whole-itinerary holds racing on PostgreSQL: many trips competing for the last
beds of one homestay, each holding a dozen slots in one transaction."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from itineraries import services
from itineraries.models import TripBooking, TripPlan
from itineraries.selectors import (
    TripOwner,
    plan_secret_hash,
    plan_trip_parts,
    visitor_hash,
)
from providers.models import Booking, Listing, Slot
from providers.services import slot_set
from tests.itineraries.factories import future_start, make_transport_offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10
PERSONS = 3
BEDS_FOR = 3  # parties that fit in the contested night
KEY = "the-plans-secret"  # each copy of the plan opens with it


def test_concurrent_trip_holds_share_the_last_beds_without_deadlock(client, offers):
    """10 threads hold 10 copies of one solved plan at once (half with their days in
    reverse order: the holds still take slots in one global order). The contested
    homestay night has beds for 3 parties: exactly 3 trips are held, the others are
    told which step is gone, no deadlock, and every slot's counters add up."""
    make_transport_offer("puno-copacabana-bus")
    body = {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": future_start().isoformat(),
        "days": 6,
        "adults": 2,
        "children": 1,
        "nationality": "DE",
    }
    response = client.post("/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    solved = TripPlan.objects.get(pk=response.json()["id"])
    held, _local = plan_trip_parts(solved)
    # Room for everybody everywhere but on one homestay night.
    Listing.objects.update(default_capacity=THREADS * PERSONS)
    night = [spec for spec in held if spec.kind == "stay"][-1]
    slot_set(
        listing=Listing.objects.get(pk=night.listing_id),
        day=night.day,
        capacity=BEDS_FOR * PERSONS,
    )
    plans = [
        TripPlan.objects.create(
            request=solved.request,
            status=TripPlan.Status.SOLVED,
            days=solved.days if i % 2 else list(reversed(solved.days)),
            secret_hash=plan_secret_hash(KEY),
        )
        for i in range(THREADS)
    ]
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def attempt(plan: TripPlan) -> None:
        try:
            barrier.wait()
            services.trip_hold(plan=plan, owner=TripOwner(plan_secret=KEY))
            results.append("held")
        except services.TripPartsUnavailable as exc:
            assert [p["step_id"] for p in exc.parts] == [night.step_id], exc.parts
            results.append("unavailable")
        except BaseException as exc:  # a deadlock would land here
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Counter(results) == {"held": BEDS_FOR, "unavailable": THREADS - BEDS_FOR}
    trips = TripBooking.objects.filter(status=TripBooking.Status.ON_HOLD)
    assert trips.count() == BEDS_FOR
    bookings = Booking.objects.filter(trip_part__trip__in=trips)
    assert bookings.count() == BEDS_FOR * len(held)
    assert not Booking.objects.filter(trip_part__isnull=True).exists()
    for spec in held:
        slot = Slot.objects.get(
            listing_id=spec.listing_id, date=spec.day, start_time=spec.start_time
        )
        assert slot.held == BEDS_FOR * PERSONS, spec
        assert slot.held == sum(b.persons for b in bookings.filter(slot=slot))
        assert slot.booked == 0
    contested = Slot.objects.get(listing_id=night.listing_id, date=night.day)
    assert contested.free == 0


def test_one_visitor_holding_plans_at_once_gets_one(client, offers):
    """Six holds of six copies of a plan sent at once by one visitor without an API
    key: exactly one is held, the others are refused (one hold at a time), even
    though each request checked before any other had committed."""
    body = {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": future_start().isoformat(),
        "days": 6,
        "adults": 1,
        "nationality": "DE",
    }
    response = client.post("/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    solved = TripPlan.objects.get(pk=response.json()["id"])
    Listing.objects.update(default_capacity=50)
    copies = 6
    plans = [
        TripPlan.objects.create(
            request=solved.request,
            status=TripPlan.Status.SOLVED,
            days=solved.days,
            secret_hash=plan_secret_hash(KEY),
        )
        for _ in range(copies)
    ]
    visitor = visitor_hash("ip-198.51.100.77")
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(copies)

    def attempt(plan: TripPlan) -> None:
        try:
            barrier.wait()
            services.trip_hold(
                plan=plan, owner=TripOwner(plan_secret=KEY, visitor=visitor)
            )
            results.append("held")
        except services.VisitorHoldLimit:
            results.append("one at a time")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Counter(results) == {"held": 1, "one at a time": copies - 1}
    assert TripBooking.objects.filter(visitor_hash=visitor).count() == 1
