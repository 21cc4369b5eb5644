"""Sandbox keys (tk_test_…): the same products and availability, bookings that
live apart — no real places taken, no provider told, on no manifest, marked as
tests — and webhooks that still fire."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from agencies.models import Agency, WebhookDelivery
from agencies.services import agency_create
from agencies.webhooks import webhook_register
from outbox.models import Message
from providers.models import Booking, Slot
from providers.selectors import booking_list_for_provider, manifest_for_day
from tests.octo.conftest import (
    DAY,
    AgencyKey,
    OctoClient,
    availability_id,
    fresh_throttle,
    reserve_body,
)

pytestmark = pytest.mark.django_db


def sandbox_agency(name: str = "Sandbox Travel") -> AgencyKey:
    agency, new = agency_create(name=name, commission_bps=1000, sandbox=True)
    fresh_throttle(new.api_key)
    return AgencyKey(agency=agency, api_key=new.api_key, key=new.key)


def test_create_agency_sandbox_prints_a_test_key(world):
    out = StringIO()
    call_command("create_agency", "Try Travel", "--sandbox", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Sandbox agency Try Travel")
    key = lines[-1]
    assert key.startswith("tk_test_")
    assert Agency.objects.get(name="Try Travel").is_sandbox
    supplier = OctoClient(key).get("/supplier")
    assert supplier.status_code == 200
    # A live key never looks like a test key.
    call_command("create_agency", "Live Travel", stdout=(live := StringIO()))
    assert not live.getvalue().splitlines()[-1].startswith("tk_test_")


def test_a_test_key_must_say_so_and_a_live_key_must_not(world):
    sandbox = sandbox_agency()
    unmarked = "tk_" + sandbox.key.removeprefix("tk_test_")
    assert OctoClient(unmarked).get("/supplier").status_code == 403
    marked = "tk_test_" + world.agency_a.key.removeprefix("tk_")
    assert OctoClient(marked).get("/supplier").status_code == 403
    assert OctoClient(sandbox.key).get("/supplier").status_code == 200


def test_sandbox_bookings_take_no_places_and_reach_no_provider(world, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    sandbox = sandbox_agency()
    webhook_register(agency=sandbox.agency, url="http://127.0.0.1:9/hooks")
    client = sandbox.client()
    avail = availability_id(DAY, "07:30")
    # The same products and availability as a live agency sees.
    assert (
        client.get("/products").json()
        == world.agency_a.client().get("/products").json()
    )
    held = client.post("/bookings", reserve_body(world.tour, avail, ["adult"] * 2))
    assert held.status_code == 200, held.json()
    assert held.json()["testMode"] is True
    booking_uuid = held.json()["uuid"]
    slot = Slot.objects.get(listing=world.tour, date=DAY, start_time=dt.time(7, 30))
    assert (slot.held, slot.booked) == (0, 0)
    confirmed = client.post(
        f"/bookings/{booking_uuid}/confirm", {"contact": {"fullName": "Ana Test"}}
    ).json()
    assert confirmed["status"] == "CONFIRMED" and confirmed["testMode"] is True
    moved = client.patch(
        f"/bookings/{booking_uuid}", {"availabilityId": availability_id(DAY, "14:00")}
    ).json()
    assert moved["availabilityId"] == availability_id(DAY, "14:00")
    cancelled = client.post(f"/bookings/{booking_uuid}/cancel", {}).json()
    assert cancelled["status"] == "CANCELLED"
    for slot in Slot.objects.filter(listing=world.tour):
        assert (slot.held, slot.booked) == (0, 0), slot
    booking = Booking.objects.get(uuid=booking_uuid)
    assert booking.test_mode
    # No provider e-mail, no manifest or portal line; the webhooks did fire.
    assert not Message.objects.exists()
    assert booking_list_for_provider(provider=world.provider).count() == 0
    assert manifest_for_day(provider=world.provider, day=DAY) == []
    events = [
        d.payload["data"]["status"] for d in WebhookDelivery.objects.order_by("pk")
    ]
    assert events == ["ON_HOLD", "CONFIRMED", "CONFIRMED", "CANCELLED"]

    # A live booking of the same product still takes places and tells the provider.
    live = world.agency_a.client()
    live_hold = live.post("/bookings", reserve_body(world.tour, avail, ["adult"]))
    live.post(
        f"/bookings/{live_hold.json()['uuid']}/confirm", {"contact": {"fullName": "A"}}
    )
    slot = Slot.objects.get(listing=world.tour, date=DAY, start_time=dt.time(7, 30))
    assert slot.booked == 1
    assert live_hold.json()["testMode"] is False
    assert Message.objects.count() == 1
    assert booking_list_for_provider(provider=world.provider).count() == 1


def test_a_sandbox_booking_still_needs_free_places(world):
    full = Slot.objects.create(
        listing=world.tour, date=DAY, start_time=dt.time(7, 30), capacity=1
    )
    response = (
        sandbox_agency()
        .client()
        .post(
            "/bookings",
            reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"] * 2),
        )
    )
    assert response.json()["error"] == "UNPROCESSABLE_ENTITY"
    full.refresh_from_db()
    assert (full.held, full.booked) == (0, 0)
