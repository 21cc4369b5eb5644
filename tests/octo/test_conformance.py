"""Every scenario a standard OCTO supplier conformance run plays, in order, on one
supplier: each answer is validated against the OCTO document by ``OctoClient`` and
checked for the fields its capability requires. (The scenarios of the reseller's
run: supplier; products one/all/invalid; calendar and availability for START_TIME
and OPENING_HOURS by date, range and ids, with invalid product/option and a bad
request; reserve with invalid product/option/availability/unit and missing units;
extend; confirm with unit changes; update date/units/contact/product; cancel a hold
and a booking; get; list by supplier and reseller reference.)"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.octo.conftest import DAY, availability_id, reserve_body

pytestmark = pytest.mark.django_db

WEEK = [DAY + dt.timedelta(days=i) for i in range(7)]
PRICING = {"original", "retail", "net", "currency", "currencyPrecision"}


def error_of(response) -> str:
    assert response.status_code in (400, 401, 403, 404), response.status_code
    return response.json()["error"]


def test_supplier_and_products(world):
    client = world.agency_a.client()
    supplier = client.get("/supplier")
    assert supplier.status_code == 200
    assert supplier.json()["endpoint"].endswith("/api/octo")
    products = client.get("/products").json()
    by_id = {p["id"]: p for p in products}
    assert {str(world.tour.pk), str(world.stay.pk)} <= set(by_id)
    assert by_id[str(world.tour.pk)]["availabilityType"] == "START_TIME"
    assert by_id[str(world.stay.pk)]["availabilityType"] == "OPENING_HOURS"
    for product in products:  # octo/content and octo/pricing fields
        assert product["options"] and product["options"][0]["units"]
        assert "description" in product and "durationMinutesFrom" in product
        assert all("pricingFrom" in u for u in product["options"][0]["units"])
    one = client.get(f"/products/{world.tour.pk}")
    assert one.status_code == 200 and one.json()["id"] == str(world.tour.pk)
    assert error_of(client.get("/products/999999")) == "INVALID_PRODUCT_ID"


@pytest.mark.parametrize("kind", ["tour", "stay"])
def test_calendar_by_range_and_its_errors(world, kind):
    client = world.agency_a.client()
    listing = getattr(world, kind)
    body = {
        "productId": str(listing.pk),
        "optionId": "DEFAULT",
        "localDateStart": WEEK[0].isoformat(),
        "localDateEnd": WEEK[-1].isoformat(),
        "units": [{"id": "adult", "quantity": 2}],
    }
    days = client.post("/availability/calendar", body).json()
    assert [d["localDate"] for d in days] == [d.isoformat() for d in WEEK]
    assert all(d["status"] == "AVAILABLE" and d["vacancies"] > 0 for d in days)
    assert all(set(d["pricingFrom"]) >= PRICING for d in days)
    bad = client.post("/availability/calendar", {**body, "productId": "999999"})
    assert error_of(bad) == "INVALID_PRODUCT_ID"
    bad = client.post("/availability/calendar", {**body, "optionId": "VIP"})
    assert error_of(bad) == "INVALID_OPTION_ID"
    no_dates = {k: v for k, v in body.items() if not k.startswith("localDate")}
    assert error_of(client.post("/availability/calendar", no_dates)) == "BAD_REQUEST"


@pytest.mark.parametrize("kind", ["tour", "stay"])
def test_availability_by_date_range_and_ids(world, kind):
    client = world.agency_a.client()
    listing = getattr(world, kind)
    base = {"productId": str(listing.pk), "optionId": "DEFAULT"}
    one_day = client.post("/availability", {**base, "localDate": DAY.isoformat()})
    slots = one_day.json()
    if kind == "tour":
        assert [s["id"] for s in slots] == [
            availability_id(DAY, "07:30"),
            availability_id(DAY, "14:00"),
        ]
        assert not any(s["allDay"] for s in slots)
    else:
        assert [s["id"] for s in slots] == [availability_id(DAY)]
        assert slots[0]["allDay"] and slots[0]["openingHours"]
    ranged = client.post(
        "/availability",
        {
            **base,
            "localDateStart": WEEK[0].isoformat(),
            "localDateEnd": WEEK[2].isoformat(),
        },
    ).json()
    assert len(ranged) == 3 * len(slots)
    by_ids = client.post(
        "/availability", {**base, "availabilityIds": [slots[0]["id"]]}
    ).json()
    assert [s["id"] for s in by_ids] == [slots[0]["id"]]
    assert (
        error_of(
            client.post(
                "/availability",
                {**base, "productId": "999999", "localDate": DAY.isoformat()},
            )
        )
        == "INVALID_PRODUCT_ID"
    )
    assert (
        error_of(
            client.post(
                "/availability",
                {**base, "optionId": "VIP", "localDate": DAY.isoformat()},
            )
        )
        == "INVALID_OPTION_ID"
    )
    both = {**base, "localDate": DAY.isoformat(), "availabilityIds": [slots[0]["id"]]}
    assert error_of(client.post("/availability", both)) == "BAD_REQUEST"


def test_reserve_and_its_errors(world):
    client = world.agency_a.client()
    avail = availability_id(DAY, "07:30")
    good = reserve_body(world.tour, avail, ["adult", "adult"])
    for change, code in (
        ({"productId": "999999"}, "INVALID_PRODUCT_ID"),
        ({"optionId": "VIP"}, "INVALID_OPTION_ID"),
        ({"availabilityId": availability_id(DAY, "09:00")}, "INVALID_AVAILABILITY_ID"),
        ({"unitItems": [{"unitId": "ghost"}]}, "INVALID_UNIT_ID"),
    ):
        assert error_of(client.post("/bookings", {**good, **change})) == code, change
    missing = {k: v for k, v in good.items() if k != "unitItems"}
    assert error_of(client.post("/bookings", missing)) == "BAD_REQUEST"
    empty = {**good, "unitItems": []}
    assert error_of(client.post("/bookings", empty)) == "BAD_REQUEST"
    held = client.post("/bookings", good).json()
    assert held["status"] == "ON_HOLD" and held["utcExpiresAt"]
    assert len(held["unitItems"]) == 2 and set(held["pricing"]) >= PRICING


def test_extend_confirm_update_cancel_get_and_list(world):
    client = world.agency_a.client()
    booking_uuid = str(uuid.uuid4())
    held = client.post(
        "/bookings",
        reserve_body(
            world.tour,
            availability_id(DAY, "07:30"),
            ["adult", "adult"],
            uuid=booking_uuid,
            resellerReference="CONF-1",
            expirationMinutes=10,
        ),
    ).json()
    path = f"/bookings/{booking_uuid}"
    extended = client.post(f"{path}/extend", {"expirationMinutes": 60}).json()
    assert extended["utcExpiresAt"] > held["utcExpiresAt"]
    # Confirm with other units (one more adult).
    confirmed = client.post(
        f"{path}/confirm",
        {
            "contact": {"fullName": "Ana Quispe", "emailAddress": "ana@example.org"},
            "unitItems": [{"unitId": "adult"}] * 3,
        },
    ).json()
    assert confirmed["status"] == "CONFIRMED" and len(confirmed["unitItems"]) == 3
    # Update date, units, contact, then product.
    moved = client.patch(path, {"availabilityId": availability_id(WEEK[1], "14:00")})
    assert moved.json()["availabilityId"] == availability_id(WEEK[1], "14:00")
    fewer = client.patch(path, {"unitItems": [{"unitId": "adult"}]}).json()
    assert len(fewer["unitItems"]) == 1
    renamed = client.patch(path, {"contact": {"fullName": "Ana Q. Mamani"}}).json()
    assert renamed["contact"]["fullName"] == "Ana Q. Mamani"
    product = client.patch(
        path,
        {"productId": str(world.stay.pk), "availabilityId": availability_id(WEEK[1])},
    ).json()
    assert product["productId"] == str(world.stay.pk)
    assert product["status"] == "CONFIRMED"
    # Get; list by supplier and by reseller reference.
    got = client.get(path).json()
    assert got["uuid"] == booking_uuid
    by_supplier = client.get(
        f"/bookings?supplierReference={got['supplierReference']}"
    ).json()
    assert [b["uuid"] for b in by_supplier] == [booking_uuid]
    by_reseller = client.get("/bookings?resellerReference=CONF-1").json()
    assert [b["uuid"] for b in by_reseller] == [booking_uuid]
    # Cancel the booking, and a hold.
    cancelled = client.post(f"{path}/cancel", {"reason": "Conformance run"}).json()
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancellation"]["reason"] == "Conformance run"
    hold = client.post(
        "/bookings",
        reserve_body(world.tour, availability_id(DAY, "14:00"), ["adult"]),
    ).json()
    gone = client.post(f"/bookings/{hold['uuid']}/cancel", {}).json()
    assert gone["status"] == "CANCELLED"
