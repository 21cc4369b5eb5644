"""Whole-itinerary holds over HTTP: hold every bookable part of a solved plan (stays
per night, experiences, a provider's bus seats) all or nothing with one expiry, then
confirm or cancel them together; expiry, ownership, double holds, bad input.

The route, the offers (one of them confirmed on request, one a provider's seats on
the Puno → Copacabana bus) and one solved 6-day plan for two adults and a child are
made once for the module (in a transaction rolled back at its end); each test runs
in a savepoint inside it, so every test starts from the same free capacity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, TestCase, override_settings
from django.utils import timezone

from agencies.services import agency_create
from itineraries import services
from itineraries.models import TripBooking, TripBookingPart, TripPlan
from itineraries.selectors import plan_secret_hash, plan_trip_parts
from providers.models import Booking, Listing, Slot
from providers.services import booking_expire_holds, booking_hold
from tests.itineraries.conftest import seed_route
from tests.itineraries.factories import (
    future_start,
    make_route_offers,
    make_transport_offer,
)

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"
TRIPS = "/api/v1/trip-bookings/"
BODY = {
    "origin": "cusco",
    "destination": "la-paz",
    "days": 6,
    "adults": 2,
    "children": 1,
    "nationality": "CL",
    "interests": {"textiles": 5, "lake": 3},
}
PERSONS = 3
ON_REQUEST_TITLE = "Weaving afternoon with the Quispe family"
LEAD = {"name": "Ana Mamani", "email": "ana@example.org", "phone": "+51 951 000 111"}


# The secret of each plan made over the API here, by plan id (POST shows it once).
SECRETS: dict[str, str] = {}


def post(client: Client, path: str, body: Any = None, **headers):
    """POST JSON; to /plans/{id}/… with that plan's secret (X-Plan-Secret), unless
    the test sends its own."""
    if path.startswith(PLANS) and "HTTP_X_PLAN_SECRET" not in headers:
        plan_id = path[len(PLANS) :].split("/", 1)[0]
        if plan_id in SECRETS:
            headers["HTTP_X_PLAN_SECRET"] = SECRETS[plan_id]
    response = client.post(path, body or {}, content_type="application/json", **headers)
    made = response.status_code in (201, 202)
    if path == PLANS and made and "secret" in response.json():
        SECRETS[response.json()["id"]] = response.json()["secret"]
    if path.endswith("/replan") and made:
        # A re-plan keeps its plan's secret.
        SECRETS[response.json()["id"]] = headers.get("HTTP_X_PLAN_SECRET", "")
    return response


@pytest.fixture(scope="module")
def world(module_transaction, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Route, offers and the solved plan (see tests/itineraries/test_plan_read.py for
    why the request settings are set by hand here)."""
    from tourism.celery_app import app

    seed_route()
    offers = make_route_offers()
    bus = make_transport_offer("puno-copacabana-bus")
    Listing.objects.filter(title_en=ON_REQUEST_TITLE).update(
        confirmation=Listing.Confirmation.ON_REQUEST
    )
    # The on-request experience is a must-see: the trip has a part that waits.
    on_request = Listing.objects.get(title_en=ON_REQUEST_TITLE).pk
    body = {**BODY, "start_date": future_start().isoformat(), "include": [on_request]}
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with (
            override_settings(
                SECURE_SSL_REDIRECT=False, STATIC_ROOT=tmp_path_factory.mktemp("s")
            ),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            response = post(Client(), PLANS, body)
    finally:
        app.conf.task_always_eager = eager
    assert response.status_code == 202, response.content
    plan = TripPlan.objects.get(pk=response.json()["id"])
    assert plan.status == TripPlan.Status.SOLVED, plan.explanation
    assert SECRETS[str(plan.pk)]
    yield {"offers": offers, "bus": bus, "plan": plan}


@pytest.fixture
def plan(world) -> TripPlan:
    return world["plan"]


def hold_path(plan: TripPlan, action: str = "hold") -> str:
    return f"{PLANS}{plan.pk}/{action}"


def parts_of(plan: TripPlan):
    held, local = plan_trip_parts(plan)
    return held, local


def held_on(listing_id: int, day: dt.date, start_time: dt.time | None) -> int:
    slot = Slot.objects.filter(
        listing_id=listing_id, date=day, start_time=start_time
    ).first()
    return slot.held if slot else 0


def counters(plan: TripPlan) -> dict[tuple, tuple[int, int]]:
    """(held, booked) of every slot the plan books, by (listing, date, time)."""
    result = {}
    for spec in parts_of(plan)[0]:
        slot = Slot.objects.filter(
            listing_id=spec.listing_id, date=spec.day, start_time=spec.start_time
        ).first()
        key = (spec.listing_id, spec.day, spec.start_time)
        result[key] = (slot.held, slot.booked) if slot else (0, 0)
    return result


def agency_headers(name: str) -> tuple[Any, dict[str, str]]:
    agency, new_key = agency_create(name=name)
    return agency, {"HTTP_AUTHORIZATION": f"Bearer {new_key.key}"}


def anonymous_hold(client: Client, plan: TripPlan, **body) -> dict[str, Any]:
    response = post(client, hold_path(plan), body)
    assert response.status_code == 201, response.content
    return response.json()


# --- Holding ------------------------------------------------------------------------


def test_plan_parts_held_and_paid_locally(plan, world):
    """Every stay night, experience and the provider's bus seats are held parts, in
    the global slot order; the bus paid on board is a pay-locally part."""
    held, local = parts_of(plan)
    steps = {s["id"]: s for d in plan.days for s in d["steps"]}
    kinds = {spec.kind for spec in held}
    assert kinds == {"stay", "activity", "transport"}, held
    stays = [s for s in steps.values() if s["kind"] == "stay" and s["listing"]]
    assert {spec.step_id for spec in held if spec.kind == "stay"} == {
        s["id"] for s in stays
    }
    assert world["bus"].pk in {spec.listing_id for spec in held}
    keys = [spec.slot_order for spec in held]
    assert keys == sorted(keys)
    assert local and all(spec.listing_id is None for spec in local)
    assert any(spec.kind == "transport" and spec.departure_id for spec in local)


def test_hold_takes_every_part_with_one_expiry(client, plan, world):
    """201: every part ON_HOLD until one expires_at (without an API key: the
    visitors' maximum, 20 minutes, below the default 30), the party (2 adults, 1
    child) on every slot, local times with their offsets, and a one-time manage
    token whose SHA-256 is what is stored, valid until 14 days after the trip."""
    before = timezone.now()
    data = anonymous_hold(client, plan, lead=LEAD)
    held, local = parts_of(plan)
    trip = TripBooking.objects.get(pk=data["id"])
    assert data["status"] == trip.status == TripBooking.Status.ON_HOLD
    assert data["plan"] == str(plan.pk)
    expires = dt.datetime.fromisoformat(data["expires_at"])
    assert dt.timedelta(minutes=19) < expires - before <= dt.timedelta(minutes=21)
    assert {p["step_id"] for p in data["parts"]} == {spec.step_id for spec in held}
    bookings = Booking.objects.filter(trip_part__trip=trip)
    assert bookings.count() == len(held)
    assert {b.expires_at for b in bookings} == {trip.expires_at}
    assert {b.status for b in bookings} == {Booking.Status.ON_HOLD}
    assert {b.channel for b in bookings} == {Booking.Channel.WEBSITE}
    assert {b.lead_name for b in bookings} == {LEAD["name"]}
    for spec in held:
        assert held_on(spec.listing_id, spec.day, spec.start_time) == PERSONS, spec
    for part in data["parts"]:
        assert part["status"] == "on_hold"
        assert part["persons"] == PERSONS
        assert part["units"] == {"adult": 2, "child": 1}
        assert part["provider"]
        start = dt.datetime.fromisoformat(part["start"])
        offset = Listing.objects.get(pk=part["listing"]).place.zone.utcoffset(
            start.replace(tzinfo=None)
        )
        assert start.utcoffset() == offset, part
        assert start.date().isoformat() == part["date"]
    bus = next(p for p in data["parts"] if p["listing"] == world["bus"].pk)
    assert bus["kind"] == "transport" and bus["start"].endswith("-05:00")
    assert [p["step_id"] for p in data["pay_locally"]] == [s.step_id for s in local]
    assert all(p["note"] for p in data["pay_locally"])
    token = data["manage_token"]
    assert trip.manage_token_hash == hashlib.sha256(token.encode()).hexdigest()
    last_day = dt.date.fromisoformat(plan.days[-1]["date"])
    assert trip.manage_token_expires_at == dt.datetime.combine(
        last_day + dt.timedelta(days=15), dt.time.min, tzinfo=dt.UTC
    )
    assert trip.agency is None and trip.user is None
    # Read back with the token: the same trip, and no token shown again.
    again = client.get(f"{TRIPS}{trip.pk}/", HTTP_X_MANAGE_TOKEN=token)
    assert again.status_code == 200, again.content
    assert "manage_token" not in again.json()
    assert again.json()["parts"] == data["parts"]


def test_hold_minutes_sets_the_one_expiry(client, plan):
    data = anonymous_hold(client, plan, hold_minutes=15)
    trip = TripBooking.objects.get(pk=data["id"])
    assert (
        dt.timedelta(minutes=14)
        < trip.expires_at - trip.created_at
        <= dt.timedelta(minutes=15)
    )
    assert set(
        Booking.objects.filter(trip_part__trip=trip).values_list(
            "expires_at", flat=True
        )
    ) == {trip.expires_at}


def test_a_part_sold_out_after_solving_holds_nothing(client, plan):
    """Someone books the last beds of one homestay night after the plan was solved:
    409 naming that step (id, title, listing, date), nothing held on any other slot,
    and a re-plan dropping that step can be held."""
    held, _local = parts_of(plan)
    night = [spec for spec in held if spec.kind == "stay"][1]
    listing = Listing.objects.get(pk=night.listing_id)
    booking_hold(
        listing=listing,
        day=night.day,
        start_time=None,
        units={"adult": listing.default_capacity - 1},
        channel=Booking.Channel.WEBSITE,
    )
    before = counters(plan)
    response = post(client, hold_path(plan), {"lead": LEAD})
    assert response.status_code == 409, response.content
    error = response.json()
    assert set(error) >= {"detail", "errors", "unavailable", "replan"}
    assert night.step_id in error["detail"]
    assert listing.title_en in error["detail"]
    assert night.day.isoformat() in error["detail"]
    assert list(error["errors"]) == ["steps"]
    assert error["unavailable"] == [
        {
            "step_id": night.step_id,
            "kind": "stay",
            "title": listing.title_en,
            "listing": listing.pk,
            "date": night.day.isoformat(),
            "start_time": None,
            "reason": error["unavailable"][0]["reason"],
        }
    ]
    assert "1 places left for 3 persons" in error["unavailable"][0]["reason"]
    assert error["replan"]["body"] == {"drop": [night.step_id]}
    assert counters(plan) == before
    assert not TripBooking.objects.filter(plan=plan).exists()
    assert not Booking.objects.filter(trip_part__isnull=False).exists()
    # Re-plan without that step (as the answer suggests) and hold the new plan.
    with TestCase.captureOnCommitCallbacks(execute=True):
        replanned = post(client, error["replan"]["url"], error["replan"]["body"])
    assert replanned.status_code == 202, replanned.content
    new = TripPlan.objects.get(pk=replanned.json()["id"])
    assert new.status == TripPlan.Status.SOLVED, new.explanation
    data = anonymous_hold(client, new)
    assert listing.pk not in {p["listing"] for p in data["parts"]}


def test_a_part_refused_under_lock_rolls_back_the_parts_already_held(client, plan):
    """The free places look fine (the check without locks passes) but the last part
    in slot order is refused when it is held: the holds already taken on the
    earlier parts are rolled back with it."""
    held, _local = parts_of(plan)
    last = held[-1]
    Listing.objects.filter(pk=last.listing_id).update(booking_cutoff_hours=100_000)
    before = counters(plan)
    response = post(client, hold_path(plan), {"lead": LEAD})
    assert response.status_code == 409, response.content
    (part,) = response.json()["unavailable"]
    assert part["step_id"] == last.step_id
    assert "100000 hours" in part["reason"]
    assert counters(plan) == before
    assert not TripBooking.objects.filter(plan=plan).exists()
    assert not Booking.objects.exists()


def test_every_part_at_fault_is_named(client, plan):
    """Two parts gone (a closed activity and a full night): both listed, in slot
    order, nothing held."""
    held, _local = parts_of(plan)
    activity = next(spec for spec in held if spec.kind == "activity")
    night = next(spec for spec in held if spec.kind == "stay")
    Slot.objects.create(
        listing_id=activity.listing_id,
        date=activity.day,
        start_time=activity.start_time,
        capacity=10,
        closed=True,
    )
    Slot.objects.create(
        listing_id=night.listing_id, date=night.day, capacity=8, blocked=7
    )
    response = post(client, hold_path(plan))
    assert response.status_code == 409, response.content
    named = [p["step_id"] for p in response.json()["unavailable"]]
    assert sorted(named) == sorted([activity.step_id, night.step_id])
    assert "1 more part" in response.json()["detail"]
    assert not Booking.objects.exists()


# --- Confirming and cancelling ------------------------------------------------------


def test_confirm_confirms_every_part_and_on_request_ones_wait(client, plan):
    """200: instant parts CONFIRMED (their places move from held to booked), the
    on-request experience PENDING (still held, listed in "pending"); the trip is
    confirmed and the lead traveller is on every part. Confirming again is
    harmless."""
    token = anonymous_hold(client, plan)["manage_token"]
    response = post(
        client, hold_path(plan, "confirm"), {"lead": LEAD}, HTTP_X_MANAGE_TOKEN=token
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "confirmed"
    assert data["expires_at"] is None and data["confirmed_at"]
    assert data["lead"] == LEAD
    by_status: dict[str, list] = {}
    for part in data["parts"]:
        by_status.setdefault(part["status"], []).append(part)
    assert set(by_status) == {"confirmed", "pending"}
    pending = by_status["pending"]
    assert [p["title"] for p in pending] == [ON_REQUEST_TITLE]
    assert pending[0]["confirmation"] == "on_request"
    assert data["pending"] == [pending[0]["step_id"]]
    for part in by_status["confirmed"]:
        booking = Booking.objects.get(supplier_reference=part["reference"])
        assert (booking.slot.held, booking.slot.booked) == (0, PERSONS)
        assert booking.lead_email == LEAD["email"]
    booking = Booking.objects.get(supplier_reference=pending[0]["reference"])
    assert (booking.slot.held, booking.slot.booked) == (PERSONS, 0)
    again = post(
        client, hold_path(plan, "confirm"), {"lead": LEAD}, HTTP_X_MANAGE_TOKEN=token
    )
    assert again.status_code == 200, again.content
    assert again.json()["parts"] == data["parts"]


def test_cancel_a_confirmed_trip_refunds_each_part_under_its_policy(client, plan):
    """Every part cancelled and its places released; a part whose provider keeps
    half after its (60-day) cut-off refunds half, the others (the pending
    on-request one too) in full."""
    held, _local = parts_of(plan)
    instant = set(
        Listing.objects.filter(confirmation=Listing.Confirmation.INSTANT).values_list(
            "pk", flat=True
        )
    )
    strict = next(
        spec for spec in held if spec.kind == "activity" and spec.listing_id in instant
    )
    Listing.objects.filter(pk=strict.listing_id).update(
        cancellation_cutoff_hours=60 * 24, cancellation_refund_percent=50
    )
    token = anonymous_hold(client, plan, lead=LEAD)["manage_token"]
    confirmed = post(client, hold_path(plan, "confirm"), HTTP_X_MANAGE_TOKEN=token)
    assert confirmed.status_code == 200, confirmed.content
    response = post(client, hold_path(plan, "cancel"), HTTP_X_MANAGE_TOKEN=token)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "cancelled" and data["cancelled_at"]
    assert {p["status"] for p in data["parts"]} == {"cancelled"}
    for part in data["parts"]:
        if part["step_id"] == strict.step_id:
            assert float(part["refund"]["amount"]) == float(part["price"]["amount"]) / 2
        else:
            assert part["refund"] == part["price"], part
    assert data["totals"]["held"] == []
    assert data["totals"]["refund"]
    assert set(counters(plan).values()) == {(0, 0)}
    # Cancelling twice changes nothing.
    twice = post(client, hold_path(plan, "cancel"), HTTP_X_MANAGE_TOKEN=token)
    assert twice.status_code == 200 and twice.json() == data


def test_cancel_a_hold_releases_everything_in_full(client, plan):
    token = anonymous_hold(client, plan)["manage_token"]
    response = post(client, hold_path(plan, "cancel"), HTTP_X_MANAGE_TOKEN=token)
    assert response.status_code == 200, response.content
    parts = response.json()["parts"]
    assert {p["status"] for p in parts} == {"cancelled"}
    assert all(p["refund"] == p["price"] for p in parts)
    assert set(counters(plan).values()) == {(0, 0)}
    # The plan can be held again once its trip booking is cancelled.
    assert post(client, hold_path(plan)).status_code == 201


# --- Expiry -------------------------------------------------------------------------


def test_the_sweep_expires_the_trip_and_releases_every_part(client, plan):
    data = anonymous_hold(client, plan, hold_minutes=5)
    trip = TripBooking.objects.get(pk=data["id"])
    assert (
        services.trip_expire_holds(now=trip.expires_at - dt.timedelta(seconds=1)) == 0
    )
    assert services.trip_expire_holds(now=trip.expires_at) == 1
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.EXPIRED
    assert set(
        Booking.objects.filter(trip_part__trip=trip).values_list("status", flat=True)
    ) == {Booking.Status.EXPIRED}
    assert set(counters(plan).values()) == {(0, 0)}
    assert services.trip_expire_holds(now=trip.expires_at) == 0


def test_the_beat_runs_the_trip_sweep(client, plan, settings):
    """The periodic task on the beat schedule expires trips past their hold."""
    from itineraries.tasks import trip_expire_holds_task

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert trip_expire_holds_task.name in scheduled
    data = anonymous_hold(client, plan)
    past = timezone.now() - dt.timedelta(seconds=1)
    TripBooking.objects.filter(pk=data["id"]).update(expires_at=past)
    Booking.objects.filter(trip_part__trip_id=data["id"]).update(expires_at=past)
    assert trip_expire_holds_task.delay().get() == 1
    assert TripBooking.objects.get(pk=data["id"]).status == "expired"
    assert set(counters(plan).values()) == {(0, 0)}


def test_the_providers_sweep_then_a_read_expire_the_trip(client, plan):
    """The providers' periodic sweep releases the parts; reading the trip booking
    shows it expired (its status follows its parts lazily)."""
    data = anonymous_hold(client, plan)
    trip = TripBooking.objects.get(pk=data["id"])
    later = trip.expires_at + dt.timedelta(minutes=1)
    assert booking_expire_holds(now=later) == len(data["parts"])
    assert set(counters(plan).values()) == {(0, 0)}
    read = client.get(f"{TRIPS}{trip.pk}/", HTTP_X_MANAGE_TOKEN=data["manage_token"])
    assert read.status_code == 200, read.content
    assert read.json()["status"] == "expired"
    assert {p["status"] for p in read.json()["parts"]} == {"expired"}


def test_a_hold_past_its_expiry_is_released_on_read_and_refused_on_confirm(
    client, plan
):
    data = anonymous_hold(client, plan, lead=LEAD)
    trip = TripBooking.objects.get(pk=data["id"])
    past = timezone.now() - dt.timedelta(minutes=1)
    TripBooking.objects.filter(pk=trip.pk).update(expires_at=past)
    Booking.objects.filter(trip_part__trip=trip).update(expires_at=past)
    token = {"HTTP_X_MANAGE_TOKEN": data["manage_token"]}
    response = post(client, hold_path(plan, "confirm"), **token)
    assert response.status_code == 409, response.content
    assert "expired" in response.json()["detail"]
    assert list(response.json()["errors"]) == ["id"]
    assert set(counters(plan).values()) == {(0, 0)}
    read = client.get(f"{TRIPS}{trip.pk}/", **token).json()
    assert read["status"] == "expired"
    assert {p["status"] for p in read["parts"]} == {"expired"}
    assert post(client, hold_path(plan, "cancel"), **token).status_code == 409
    # An expired trip does not block holding the plan again.
    assert post(client, hold_path(plan)).status_code == 201


def test_a_part_cancelled_by_its_provider_ends_the_hold(client, plan):
    """All or nothing at confirm too: one part gone → nothing confirmed, the rest
    released, 409 naming the part."""
    from providers.services import booking_cancel

    data = anonymous_hold(client, plan, lead=LEAD)
    gone = TripBookingPart.objects.filter(trip_id=data["id"]).first()
    booking_cancel(booking=gone.booking)
    response = post(
        client,
        hold_path(plan, "confirm"),
        HTTP_X_MANAGE_TOKEN=data["manage_token"],
    )
    assert response.status_code == 409, response.content
    assert gone.step_id in response.json()["detail"]
    assert [p["step_id"] for p in response.json()["unavailable"]] == [gone.step_id]
    assert set(counters(plan).values()) == {(0, 0)}
    assert TripBooking.objects.get(pk=data["id"]).status == "expired"


# --- One hold per plan --------------------------------------------------------------


def test_a_second_hold_of_the_same_plan_is_refused(client, plan):
    """The plan's trip booking is on hold (or confirmed): holding again is refused
    with 409; its owner is told which trip booking to confirm or cancel. Nothing
    more is held."""
    _agency, headers = agency_headers("Andes Tours")
    first = post(client, hold_path(plan), **headers)
    assert first.status_code == 201, first.content
    before = counters(plan)
    again = post(client, hold_path(plan), **headers)
    assert again.status_code == 409, again.content
    assert first.json()["id"] in again.json()["detail"]
    assert list(again.json()["errors"]) == ["id"]
    stranger = post(client, hold_path(plan))
    assert stranger.status_code == 409
    assert first.json()["id"] not in stranger.json()["detail"]
    assert counters(plan) == before
    assert TripBooking.objects.filter(plan=plan).count() == 1


# --- Ownership ----------------------------------------------------------------------


def test_agency_trip_bookings_are_theirs_alone(client, plan):
    """Agency A's trip booking: agency B, an anonymous visitor, a signed-in user
    all get 404 on read, confirm and cancel, and nothing changes."""
    agency_a, a = agency_headers("Agency A")
    _agency_b, b = agency_headers("Agency B")
    held = post(client, hold_path(plan), {"reseller_reference": "A-77"}, **a)
    assert held.status_code == 201, held.content
    data = held.json()
    assert "manage_token" not in data
    trip = TripBooking.objects.get(pk=data["id"])
    assert trip.agency == agency_a and trip.reseller_reference == "A-77"
    booking = Booking.objects.filter(trip_part__trip=trip).first()
    assert booking.agency == agency_a and booking.channel == Booking.Channel.AGENCY
    user = get_user_model().objects.create_user("eve", "eve@example.org", "x")
    signed_in = Client()
    signed_in.force_login(user)
    before = counters(plan)
    for who, extra in ((client, b), (client, {}), (signed_in, {})):
        assert who.get(f"{TRIPS}{trip.pk}/", **extra).status_code == 404
        body = {"lead": LEAD, "trip_booking": str(trip.pk)}
        for action in ("confirm", "cancel"):
            response = post(who, hold_path(plan, action), body, **extra)
            assert response.status_code == 404, (action, response.content)
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.ON_HOLD and not trip.lead_name
    assert counters(plan) == before
    assert client.get(f"{TRIPS}{trip.pk}/", **a).json()["status"] == "on_hold"
    confirmed = post(client, hold_path(plan, "confirm"), {"lead": LEAD}, **a)
    assert confirmed.status_code == 200, confirmed.content


def test_anonymous_trip_bookings_need_their_token(client, plan):
    data = anonymous_hold(client, plan)
    _agency, a = agency_headers("Agency C")
    trip_path = f"{TRIPS}{data['id']}/"
    wrong = {"HTTP_X_MANAGE_TOKEN": "not-the-token"}
    for extra in ({}, a, wrong):
        assert client.get(trip_path, **extra).status_code == 404
        assert post(client, hold_path(plan, "cancel"), **extra).status_code == 404
    # Never in the body (bodies get logged, replayed, cached): 400 naming it.
    in_body = post(
        client, hold_path(plan, "cancel"), {"manage_token": data["manage_token"]}
    )
    assert in_body.status_code == 400, in_body.content
    assert list(in_body.json()["errors"]) == ["manage_token"]
    assert "X-Manage-Token header" in in_body.json()["errors"]["manage_token"][0]
    assert TripBooking.objects.get(pk=data["id"]).status == "on_hold"
    ok = client.get(trip_path, HTTP_X_MANAGE_TOKEN=data["manage_token"])
    assert ok.status_code == 200


def test_signed_in_traveller_owns_their_hold(client, plan):
    users = get_user_model().objects
    rosa = Client()
    rosa.force_login(users.create_user("rosa", "rosa@example.org", "x"))
    held = post(rosa, hold_path(plan), {"lead": LEAD})
    assert held.status_code == 201, held.content
    assert "manage_token" not in held.json()
    other = Client()
    other.force_login(users.create_user("juan", "juan@example.org", "x"))
    assert other.get(f"{TRIPS}{held.json()['id']}/").status_code == 404
    assert post(other, hold_path(plan, "confirm")).status_code == 404
    assert rosa.get(f"{TRIPS}{held.json()['id']}/").status_code == 200
    assert post(rosa, hold_path(plan, "confirm")).json()["status"] == "confirmed"


def test_a_plan_made_by_an_agency_is_held_by_that_agency_only(client, plan):
    agency_a, a = agency_headers("Agency D")
    _agency_b, b = agency_headers("Agency E")
    TripPlan.objects.filter(pk=plan.pk).update(agency=agency_a)
    assert post(client, hold_path(plan), **b).status_code == 404
    assert post(client, hold_path(plan)).status_code == 404
    assert post(client, hold_path(plan), **a).status_code == 201


def test_an_agency_plans_and_holds_with_its_api_key(client, plan):
    """A plan made with an agency's API key is that agency's (no user): it holds it,
    another agency cannot."""
    agency, a = agency_headers("Agency F")
    _agency_g, g = agency_headers("Agency G")
    # The on-request experience is a must-see: the trip has a part that waits.
    on_request = Listing.objects.get(title_en=ON_REQUEST_TITLE).pk
    body = {**BODY, "start_date": future_start().isoformat(), "include": [on_request]}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post(client, PLANS, body, **a)
    assert response.status_code == 202, response.content
    made = TripPlan.objects.get(pk=response.json()["id"])
    assert made.agency == agency and made.user is None
    assert made.status == TripPlan.Status.SOLVED, made.explanation
    assert post(client, hold_path(made), **g).status_code == 404
    held = post(client, hold_path(made), **a)
    assert held.status_code == 201, held.content
    assert TripBooking.objects.get(pk=held.json()["id"]).agency == agency


def test_unknown_trip_booking_and_plan_are_404(client):
    assert client.get(f"{TRIPS}{uuid.uuid4()}/").status_code == 404
    response = post(client, f"{PLANS}{uuid.uuid4()}/hold")
    assert response.status_code == 404
    assert response.json()["errors"] == {"id": ["No such plan."]}


# --- Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, -5, 21, 24 * 60, 24 * 60 + 1, "soon"])
def test_hold_minutes_out_of_range_is_400_naming_it(client, plan, minutes):
    """Without an API key a hold lasts 1 to 20 minutes: a longer one (the 24 hours
    that let anyone lock the inventory) is refused, naming the field and the
    limit, not shortened behind the client's back."""
    response = post(client, hold_path(plan), {"hold_minutes": minutes})
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["hold_minutes"]
    if isinstance(minutes, int):
        assert (
            "between 1 and 20 minutes" in response.json()["errors"]["hold_minutes"][0]
        )
    assert not TripBooking.objects.exists()
    assert not Booking.objects.exists()


def test_bad_lead_is_400_naming_the_field(client, plan):
    bad_hold = post(client, hold_path(plan), {"lead": {"name": "A", "email": "no"}})
    assert bad_hold.status_code == 400, bad_hold.content
    assert bad_hold.json()["errors"]["lead"] == ["email: Enter a valid email address."]
    token = anonymous_hold(client, plan)["manage_token"]
    confirm = hold_path(plan, "confirm")
    token = {"HTTP_X_MANAGE_TOKEN": token}
    bad = post(client, confirm, {"lead": {"name": "Ana", "email": "ana@"}}, **token)
    assert bad.status_code == 400, bad.content
    assert bad.json()["errors"]["lead"] == ["email: Enter a valid email address."]
    phone = post(
        client, confirm, {"lead": {"name": "Ana", "phone": "call me"}}, **token
    )
    assert phone.status_code == 400
    assert phone.json()["errors"]["lead"][0].startswith("phone: ")
    missing = post(client, confirm, **token)
    assert missing.status_code == 400, missing.content
    assert missing.json()["errors"]["lead"][0].startswith("name: ")
    trip = TripBooking.objects.get()
    assert trip.status == TripBooking.Status.ON_HOLD
    assert not Booking.objects.filter(status=Booking.Status.CONFIRMED).exists()


@pytest.mark.parametrize("status", [TripPlan.Status.QUEUED, TripPlan.Status.INFEASIBLE])
def test_a_plan_not_solved_cannot_be_held(client, plan, status):
    unsolved = TripPlan.objects.create(
        request=plan.request, status=status, secret_hash=plan_secret_hash("its-key")
    )
    response = post(client, hold_path(unsolved), HTTP_X_PLAN_SECRET="its-key")
    assert response.status_code == 409, response.content
    assert "Only a solved plan can be held" in response.json()["detail"]
    assert list(response.json()["errors"]) == ["id"]
