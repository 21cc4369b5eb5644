"""Races through the HTTP API on real PostgreSQL: threads with their own database
connections reserving at the same moment."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection

from providers.models import Booking, Slot
from tests.octo.conftest import DAY, availability_id, reserve_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(n: int, attempt) -> list:
    results: list = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results.append(attempt(i))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_thirty_reserves_on_ten_places(world):
    """Exactly 10 ON_HOLD, the other 20 UNPROCESSABLE_ENTITY; the slot row holds 10
    and matches the bookings."""
    avail = availability_id(DAY, "07:30")

    def attempt(i: int):
        response = world.agency_a.client().post(
            "/bookings",
            reserve_body(world.tour, avail, ["adult"], uuid=str(uuid.uuid4())),
        )
        body = response.json()
        return response.status_code, body.get("status") or body.get("error")

    results = Counter(race(30, attempt))
    assert results == {(200, "ON_HOLD"): 10, (400, "UNPROCESSABLE_ENTITY"): 20}
    (slot,) = Slot.objects.filter(listing=world.tour)
    assert (slot.capacity, slot.held, slot.booked) == (10, 10, 0)
    assert Booking.objects.filter(slot=slot, status="on_hold").count() == 10


def test_the_same_uuid_raced_makes_one_booking(world):
    """Ten identical retries at once: one booking, one hold, every answer is it."""
    booking_uuid = str(uuid.uuid4())
    body = reserve_body(
        world.stay, availability_id(DAY), ["adult", "adult"], uuid=booking_uuid
    )

    def attempt(i: int):
        response = world.agency_a.client().post("/bookings", body)
        return response.status_code, response.json().get("uuid")

    assert Counter(race(10, attempt)) == {(200, booking_uuid): 10}
    assert Booking.objects.count() == 1
    assert Slot.objects.get(listing=world.stay).held == 2


def test_confirms_and_a_cancel_raced_on_one_hold(world):
    """Ten confirms and one cancel of the same hold at once. The cancel always
    succeeds (a hold, or a booking confirmed 40 days ahead, can be cancelled); each
    confirm either confirmed it before the cancel or is refused after it. The 2
    places move from held to booked at most once and are released once: the slot
    ends empty."""
    held = (
        world.agency_a.client()
        .post(
            "/bookings",
            reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"] * 2),
        )
        .json()
    )
    path = f"/bookings/{held['uuid']}"
    contact = {"contact": {"fullName": "Ana Quispe", "emailAddress": "a@b.pe"}}

    def attempt(i: int):
        client = world.agency_a.client()
        if i == 0:
            response = client.post(f"{path}/cancel")
        else:
            response = client.post(f"{path}/confirm", contact)
        body = response.json()
        return i == 0, response.status_code, body.get("status") or body.get("error")

    results = Counter(race(11, attempt))
    assert results[(True, 200, "CANCELLED")] == 1
    confirms = {k: n for k, n in results.items() if not k[0]}
    assert set(confirms) <= {
        (False, 200, "CONFIRMED"),
        (False, 400, "UNPROCESSABLE_ENTITY"),
    }
    assert sum(confirms.values()) == 10
    booking = Booking.objects.get(uuid=held["uuid"])
    assert booking.status == Booking.Status.CANCELLED
    (slot,) = Slot.objects.filter(listing=world.tour)
    assert (slot.held, slot.booked) == (0, 0)


def test_ten_confirms_raced_on_one_hold(world):
    """Ten confirms of the same hold at once: all answer CONFIRMED, the places move
    from held to booked once, and the status changes once."""
    held = (
        world.agency_a.client()
        .post(
            "/bookings",
            reserve_body(world.tour, availability_id(DAY, "14:00"), ["adult"] * 2),
        )
        .json()
    )
    contact = {"contact": {"fullName": "Ana Quispe", "emailAddress": "a@b.pe"}}

    def attempt(i: int):
        response = world.agency_a.client().post(
            f"/bookings/{held['uuid']}/confirm", contact
        )
        return response.status_code, response.json().get("status")

    assert Counter(race(10, attempt)) == {(200, "CONFIRMED"): 10}
    (slot,) = Slot.objects.filter(listing=world.tour)
    assert (slot.held, slot.booked) == (0, 2)
    booking = Booking.objects.get(uuid=held["uuid"])
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.contact["fullName"] == "Ana Quispe"


def test_ten_bookings_raced_onto_the_last_places_of_another_time(world):
    """Ten holds of 1 at 07:30 move at once to 14:00, where 3 places are left: 3
    moves win, 7 are refused and keep their 07:30 place; no count goes wrong."""
    from providers.services.availability import slot_get_or_create

    early = availability_id(DAY, "07:30")
    holds = [
        world.agency_a.client()
        .post("/bookings", reserve_body(world.tour, early, ["adult"]))
        .json()["uuid"]
        for _ in range(10)
    ]
    later = slot_get_or_create(listing=world.tour, day=DAY, start_time=dt.time(14))
    later.blocked = 7  # 3 of its 10 places left
    later.save()

    def attempt(i: int):
        response = world.agency_a.client().patch(
            f"/bookings/{holds[i]}", {"availabilityId": availability_id(DAY, "14:00")}
        )
        body = response.json()
        return body.get("availabilityId") or body.get("error")

    results = Counter(race(10, attempt))
    assert results == {availability_id(DAY, "14:00"): 3, "UNPROCESSABLE_ENTITY": 7}
    first = Slot.objects.get(listing=world.tour, date=DAY, start_time=dt.time(7, 30))
    later.refresh_from_db()
    assert (first.held, later.held) == (7, 3)
    assert Booking.objects.filter(slot=later, status="on_hold").count() == 3
    assert Booking.objects.filter(slot=first, status="on_hold").count() == 7
