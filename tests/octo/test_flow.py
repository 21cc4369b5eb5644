"""The whole OCTO flow an agency follows, for a START_TIME and an OPENING_HOURS
product: supplier, capabilities, products, calendar, availability, reserve, extend,
confirm, read, list, update, cancel. Every response is checked against the OCTO
document by the client (see conftest)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone

from octo.render import unit_type
from providers.models import Booking, ListingUnit, PriceSchedule, Slot
from tests.octo.conftest import DAY, availability_id, reserve_body

pytestmark = pytest.mark.django_db


def test_supplier_and_capabilities(world):
    client = world.agency_a.client()
    supplier = client.get("/supplier")
    assert supplier.status_code == 200
    assert supplier.json()["endpoint"] == "http://testserver/api/octo"
    assert supplier["Octo-Capabilities"] == "octo/content, octo/pricing"
    capabilities = client.get("/capabilities/").json()
    assert {c["id"] for c in capabilities} == {"octo/content", "octo/pricing"}


def test_products_map_listings_units_and_prices(world):
    """Listings become products with one DEFAULT option; units keep their codes as
    ids with types from their codes; pricing shows retail and the agency's net
    (10 % commission)."""
    response = world.agency_a.client().get("/products")
    assert response.status_code == 200
    products = {p["id"]: p for p in response.json()}
    assert set(products) == {str(world.stay.pk), str(world.tour.pk), str(world.bus.pk)}
    tour = products[str(world.tour.pk)]
    assert tour["availabilityType"] == "START_TIME"
    assert tour["timeZone"] == "America/Lima"
    assert tour["instantConfirmation"] is True
    (option,) = tour["options"]
    assert option["id"] == "DEFAULT"
    assert option["availabilityLocalStartTimes"] == ["07:30", "14:00"]
    assert option["cancellationCutoffAmount"] == 48
    units = {u["id"]: u for u in option["units"]}
    assert {k: u["type"] for k, u in units.items()} == {
        "adult": "ADULT",
        "child": "CHILD",
        "infant": "INFANT",
    }
    assert units["child"]["restrictions"]["minAge"] == 3
    assert units["infant"]["restrictions"]["paxCount"] == 0
    adult_price = units["adult"]["pricingFrom"][0]
    assert (adult_price["retail"], adult_price["net"], adult_price["currency"]) == (
        5000,
        4500,
        "PEN",
    )
    stay = products[str(world.stay.pk)]
    assert stay["availabilityType"] == "OPENING_HOURS"
    assert stay["options"][0]["availabilityLocalStartTimes"] == ["00:00"]
    bus = products[str(world.bus.pk)]
    assert bus["availabilityType"] == "START_TIME"
    assert bus["options"][0]["availabilityLocalStartTimes"] == [
        "07:30",
        "14:30",
        "18:00",
    ]


def test_content_follows_accept_language_and_capabilities(world):
    """octo/content gives titles in the request's language; without the capability
    there are neither texts nor prices."""
    path = f"/products/{world.stay.pk}"
    spanish = world.agency_a.client(language="es").get(path)
    assert spanish.json()["title"] == "Casa de familia en Amantaní"
    assert spanish["Content-Language"] == "es"
    assert spanish["Available-Languages"] == "en, es"
    english = world.agency_a.client(language="en").get(path).json()
    assert english["title"] == "Amantaní homestay"
    assert english["shortDescription"] == "A night with a family."
    plain = world.agency_a.client(caps="").get(path)
    assert plain["Octo-Capabilities"] == ""
    body = plain.json()
    assert "title" not in body and "defaultCurrency" not in body
    assert "pricingFrom" not in body["options"][0]["units"][0]


def test_unit_types_from_codes_and_ages(world):
    def make(code, **kw):
        return ListingUnit(listing=world.tour, code=code, price_minor=1, **kw)

    assert unit_type(make("senior")) == "SENIOR"
    assert unit_type(make("nino", max_age=12)) == "CHILD"
    assert unit_type(make("bebe", max_age=1)) == "INFANT"
    assert unit_type(make("mayor", min_age=65)) == "SENIOR"
    assert unit_type(make("persona")) == "ADULT"
    assert unit_type(make("lap", occupies_capacity=False)) == "OTHER"


def test_start_time_flow(world):
    """Calendar → availability → reserve (ON_HOLD, capacity held) → extend →
    confirm with contact and per-item details (CONFIRMED, capacity booked) → read →
    list → cancel (places back, full refund before the cut-off)."""
    client = world.agency_a.client()
    product = {"productId": str(world.tour.pk), "optionId": "DEFAULT"}
    calendar = client.post(
        "/availability/calendar",
        {
            **product,
            "localDateStart": DAY.isoformat(),
            "localDateEnd": (DAY + dt.timedelta(days=2)).isoformat(),
        },
    ).json()
    assert [d["localDate"] for d in calendar] == [
        (DAY + dt.timedelta(days=n)).isoformat() for n in range(3)
    ]
    assert calendar[0]["status"] == "AVAILABLE"
    assert (calendar[0]["capacity"], calendar[0]["vacancies"]) == (20, 10)

    slots = client.post(
        "/availability",
        {
            **product,
            "localDate": DAY.isoformat(),
            "units": [{"id": "adult", "quantity": 2}],
        },
    ).json()
    assert [s["id"] for s in slots] == [
        availability_id(DAY, "07:30"),
        availability_id(DAY, "14:00"),
    ]
    first = slots[0]
    assert first["localDateTimeEnd"] == f"{DAY.isoformat()}T09:30:00-05:00"
    assert first["allDay"] is False
    assert first["utcCutoffAt"] == (
        f"{(DAY - dt.timedelta(days=1)).isoformat()}T12:30:00Z"
    )
    assert first["pricing"]["retail"] == 10000 and first["pricing"]["net"] == 9000

    booking_uuid = str(uuid.uuid4())
    reserved = client.post(
        "/bookings",
        reserve_body(
            world.tour,
            first["id"],
            ["adult", "adult", "child"],
            uuid=booking_uuid,
            expirationMinutes=15,
            resellerReference="AG-1",
            notes="Vegetarian lunch",
        ),
    )
    assert reserved.status_code == 200
    hold = reserved.json()
    assert hold["uuid"] == booking_uuid
    assert hold["status"] == "ON_HOLD"
    assert hold["utcConfirmedAt"] is None and hold["cancellation"] is None
    expires = dt.datetime.fromisoformat(hold["utcExpiresAt"])
    assert (
        dt.timedelta(minutes=14) < expires - timezone.now() <= dt.timedelta(minutes=15)
    )
    assert hold["pricing"]["retail"] == 12500 and hold["pricing"]["net"] == 11250
    assert len({item["uuid"] for item in hold["unitItems"]}) == 3
    slot = Slot.objects.get(listing=world.tour, date=DAY, start_time=dt.time(7, 30))
    assert (slot.held, slot.booked) == (3, 0)

    extended = client.post(
        f"/bookings/{booking_uuid}/extend", {"expirationMinutes": 60}
    )
    assert dt.datetime.fromisoformat(extended.json()["utcExpiresAt"]) > expires

    items = hold["unitItems"]
    confirmed = client.post(
        f"/bookings/{booking_uuid}/confirm",
        {
            "contact": {
                "firstName": "Ana",
                "lastName": "Quispe",
                "emailAddress": "ana@example.org",
                "phoneNumber": "+51 951 000 111",
                "locales": ["es-PE"],
            },
            "resellerReference": "AG-1-final",
            "unitItems": [
                {
                    "uuid": items[0]["uuid"],
                    "unitId": "adult",
                    "resellerReference": "T1",
                },
                {"unitId": "adult"},
                {"unitId": "child", "contact": {"fullName": "Luz Quispe"}},
            ],
        },
    )
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "CONFIRMED"
    assert body["utcExpiresAt"] is None and body["utcConfirmedAt"] is not None
    assert body["contact"]["fullName"] == "Ana Quispe"
    assert body["resellerReference"] == "AG-1-final"
    assert (
        body["voucher"]["deliveryOptions"][0]["deliveryValue"]
        == (body["supplierReference"])
    )
    by_uuid = {i["uuid"]: i for i in body["unitItems"]}
    assert set(by_uuid) == {i["uuid"] for i in items}  # same items, same uuids
    assert by_uuid[items[0]["uuid"]]["resellerReference"] == "T1"
    child = next(i for i in body["unitItems"] if i["unitId"] == "child")
    assert child["contact"]["fullName"] == "Luz Quispe"
    slot.refresh_from_db()
    assert (slot.held, slot.booked) == (0, 3)
    booking = Booking.objects.get(uuid=booking_uuid)
    assert (booking.lead_name, booking.lead_email) == ("Ana Quispe", "ana@example.org")
    assert booking.agency == world.agency_a.agency and booking.net_minor == 11250

    read = client.get(f"/bookings/{booking_uuid}").json()
    assert read["status"] == "CONFIRMED" and read["cancellable"] is True
    listed = client.get("/bookings?resellerReference=AG-1-final").json()
    assert [b["uuid"] for b in listed] == [booking_uuid]
    by_ref = client.get(f"/bookings?supplierReference={body['supplierReference']}")
    assert [b["uuid"] for b in by_ref.json()] == [booking_uuid]
    by_day = client.get(
        f"/bookings?localDate={DAY.isoformat()}&productId={world.tour.pk}"
    ).json()
    assert [b["uuid"] for b in by_day] == [booking_uuid]

    patched = client.patch(
        f"/bookings/{booking_uuid}",
        {"notes": "Two vegetarians", "contact": {"fullName": "Ana Q."}},
    ).json()
    assert patched["notes"] == "Two vegetarians"
    assert patched["contact"]["fullName"] == "Ana Q."

    cancelled = client.post(f"/bookings/{booking_uuid}/cancel", {"reason": "Flight"})
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body["status"] == "CANCELLED" and body["cancellable"] is False
    assert body["cancellation"]["refund"] == "FULL"
    assert body["cancellation"]["utcCancelledAt"] is not None
    # The reason sent comes back, on the answer and on every read.
    assert body["cancellation"]["reason"] == "Flight"
    read = client.get(f"/bookings/{booking_uuid}").json()
    assert read["cancellation"]["reason"] == "Flight"
    slot.refresh_from_db()
    assert (slot.held, slot.booked) == (0, 0)
    again = client.post(f"/bookings/{booking_uuid}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "CANCELLED"
    assert again.json()["cancellation"]["reason"] == "Flight"


def test_opening_hours_flow(world):
    """A homestay night: an all-day availability at local midnight; infants take no
    place; confirm, then the night shows one place fewer."""
    client = world.agency_a.client()
    product = {"productId": str(world.stay.pk), "optionId": "DEFAULT"}
    (night,) = client.post(
        "/availability", {**product, "localDate": DAY.isoformat()}
    ).json()
    assert night["id"] == availability_id(DAY)
    assert night["allDay"] is True
    assert night["localDateTimeEnd"] == availability_id(DAY + dt.timedelta(days=1))
    assert (night["status"], night["vacancies"], night["capacity"]) == (
        "AVAILABLE",
        6,
        6,
    )
    # Check-in is 14:00 local; the cut-off 24 h before. The hours say so too.
    assert (
        night["utcCutoffAt"] == f"{(DAY - dt.timedelta(days=1)).isoformat()}T19:00:00Z"
    )
    assert night["openingHours"] == [{"from": "14:00", "to": "23:59"}]
    (day,) = client.post(
        "/availability/calendar",
        {**product, "localDateStart": DAY.isoformat(), "localDateEnd": DAY.isoformat()},
    ).json()
    assert day["openingHours"] == [{"from": "14:00", "to": "23:59"}]
    booking_uuid = str(uuid.uuid4())
    hold = client.post(
        "/bookings",
        reserve_body(
            world.stay, night["id"], ["adult", "adult", "infant"], uuid=booking_uuid
        ),
    ).json()
    assert hold["status"] == "ON_HOLD"
    assert hold["availability"]["vacancies"] == 4
    confirmed = client.post(
        f"/bookings/{booking_uuid}/confirm", {"contact": {"fullName": "Tom Smith"}}
    ).json()
    assert confirmed["status"] == "CONFIRMED"
    (night,) = client.post(
        "/availability", {**product, "availabilityIds": [night["id"]]}
    ).json()
    assert (night["vacancies"], night["status"]) == (4, "AVAILABLE")
    (day,) = client.post(
        "/availability/calendar",
        {**product, "localDateStart": DAY.isoformat(), "localDateEnd": DAY.isoformat()},
    ).json()
    assert (day["vacancies"], day["status"], day["available"]) == (4, "AVAILABLE", True)


def test_transport_departures_are_start_times(world):
    """The bus: one availability per departure, ending at the departure's arrival."""
    client = world.agency_a.client()
    slots = client.post(
        "/availability",
        {
            "productId": str(world.bus.pk),
            "optionId": "DEFAULT",
            "localDate": DAY.isoformat(),
        },
    ).json()
    assert [s["id"][11:16] for s in slots] == ["07:30", "14:30", "18:00"]
    hold = client.post(
        "/bookings", reserve_body(world.bus, slots[1]["id"], ["adult"])
    ).json()
    assert hold["status"] == "ON_HOLD"
    assert hold["availabilityId"] == availability_id(DAY, "14:30")


def test_statuses_limited_sold_out_closed(world):
    """LIMITED below half the capacity left, SOLD_OUT at none, CLOSED when the
    provider closes the day or the cut-off has passed; units larger than what is
    left show SOLD_OUT for that party."""
    from providers.services import slot_set

    client = world.agency_a.client()
    product = {"productId": str(world.stay.pk), "optionId": "DEFAULT"}

    def status(day, units=None):
        body = {**product, "localDate": day.isoformat()}
        if units:
            body["units"] = units
        (item,) = client.post("/availability", body).json()
        return item["status"], item["available"], item["vacancies"]

    assert status(DAY) == ("AVAILABLE", True, 6)
    client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"] * 3)
    )
    assert status(DAY) == ("AVAILABLE", True, 3)  # exactly half left
    assert status(DAY, [{"id": "adult", "quantity": 4}]) == ("SOLD_OUT", False, 3)
    client.post("/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"]))
    assert status(DAY) == ("LIMITED", True, 2)
    client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"] * 2)
    )
    assert status(DAY) == ("SOLD_OUT", False, 0)
    other = DAY + dt.timedelta(days=1)
    slot_set(listing=world.stay, day=other, closed=True)
    assert status(other) == ("CLOSED", False, 0)
    today = timezone.localdate(timezone=world.stay.place.zone)
    assert status(today)[0] == "CLOSED"  # inside the 24 h cut-off
    (calendar_day,) = client.post(
        "/availability/calendar",
        {
            **product,
            "localDateStart": other.isoformat(),
            "localDateEnd": other.isoformat(),
        },
    ).json()
    assert calendar_day["status"] == "CLOSED" and calendar_day["available"] is False


def test_calendar_prices_follow_seasonal_prices_day_by_day(world):
    """A seasonal price on one day shows on that day only, for the unit and for the
    requested party, retail and net (agency A: 10 % commission)."""
    adult = ListingUnit.objects.get(listing=world.stay, code="adult")
    PriceSchedule.objects.create(unit=adult, starts=DAY, ends=DAY, price_minor=7000)
    entries = (
        world.agency_a.client()
        .post(
            "/availability/calendar",
            {
                "productId": str(world.stay.pk),
                "optionId": "DEFAULT",
                "localDateStart": (DAY - dt.timedelta(days=1)).isoformat(),
                "localDateEnd": (DAY + dt.timedelta(days=1)).isoformat(),
                "units": [{"id": "adult", "quantity": 2}],
            },
        )
        .json()
    )
    adult_prices = [
        next(p for p in e["unitPricingFrom"] if p["unitId"] == "adult") for e in entries
    ]
    assert [p["retail"] for p in adult_prices] == [5000, 7000, 5000]
    assert [e["pricingFrom"]["retail"] for e in entries] == [10000, 14000, 10000]
    assert [e["pricingFrom"]["net"] for e in entries] == [9000, 12600, 9000]


def test_opt_in_pagination(world):
    """Without limit: the plain array. With ?limit: pages and a Link to the next."""
    client = world.agency_a.client()
    assert "Link" not in client.get("/products")
    first = client.get("/products?limit=2")
    assert len(first.json()) == 2
    link = first["Link"]
    assert link.endswith('>; rel="next"')
    next_url = link[1 : link.index(">")].removeprefix("http://testserver/api/octo")
    second = client.get(next_url)
    assert len(second.json()) == 1 and "Link" not in second
    ids = [p["id"] for p in first.json() + second.json()]
    assert ids == sorted(ids, key=int) and len(set(ids)) == 3
    for _n in range(3):
        client.post(
            "/bookings",
            reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"]),
        )
    page = client.get(f"/bookings?localDate={DAY.isoformat()}&limit=2")
    assert len(page.json()) == 2 and "Link" in page
    bad = client.get("/bookings?localDate=2027-01-01&limit=0")
    assert bad.status_code == 400 and bad.json()["error"] == "BAD_REQUEST"
    bad_cursor = client.get("/products?limit=2&cursor=%%%")
    assert bad_cursor.json()["error"] == "BAD_REQUEST"


def test_the_document_check_has_teeth(world):
    """The validation every test relies on refuses a product without its id and an
    availability with an unknown status."""
    from openapi_core.validation.response.exceptions import InvalidData

    from tests.octo.conftest import validate

    client = world.agency_a.client()
    good = client.get(f"/products/{world.tour.pk}")
    broken = good.json()
    del broken["id"]
    good.content = json.dumps(broken).encode()
    with pytest.raises(InvalidData):
        validate("GET", f"/api/octo/products/{world.tour.pk}", None, good)
    slots = client.post(
        "/availability",
        {
            "productId": str(world.tour.pk),
            "optionId": "DEFAULT",
            "localDate": DAY.isoformat(),
        },
    )
    wrong = slots.json()
    wrong[0]["status"] = "OPEN"
    slots.content = json.dumps(wrong).encode()
    with pytest.raises(InvalidData):
        validate("POST", "/api/octo/availability", {}, slots)
