"""Every OCTO error code, in OCTO's body shape (checked against the document by the
client): INVALID_* name the id at fault; BAD_REQUEST for malformed bodies;
UNPROCESSABLE_ENTITY for requests that cannot be met; UNAUTHORIZED (401), FORBIDDEN
(403) and the per-key limit (429)."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command

from agencies.models import Agency
from agencies.services import api_key_revoke
from providers.models import Booking, Slot
from tests.octo.conftest import (
    DAY,
    OctoClient,
    availability_id,
    extra_key,
    reserve_body,
)

pytestmark = pytest.mark.django_db


def error(response, status=400):
    assert response.status_code == status, response.content
    return response.json()


def test_invalid_product_and_option(world):
    client = world.agency_a.client()
    body = error(client.get("/products/999999"))
    assert body["error"] == "INVALID_PRODUCT_ID" and body["productId"] == "999999"
    assert error(client.get("/products/abc"))["productId"] == "abc"
    for path in ("/availability", "/availability/calendar", "/bookings"):
        body = error(client.post(path, {"productId": "0", "optionId": "DEFAULT"}))
        assert (body["error"], body["productId"]) == ("INVALID_PRODUCT_ID", "0")
        body = error(client.post(path, {"optionId": "DEFAULT"}))
        assert (body["error"], body["productId"]) == ("INVALID_PRODUCT_ID", "")
        body = error(
            client.post(path, {"productId": str(world.tour.pk), "optionId": "VIP"})
        )
        assert (body["error"], body["optionId"]) == ("INVALID_OPTION_ID", "VIP")


def test_products_of_suspended_providers_and_inactive_listings_are_unknown(world):
    world.tour.is_active = False
    world.tour.save()
    client = world.agency_a.client()
    assert error(client.get(f"/products/{world.tour.pk}"))["error"] == (
        "INVALID_PRODUCT_ID"
    )
    world.provider.status = "suspended"
    world.provider.save()
    assert client.get("/products").json() == []


def test_invalid_unit_and_availability(world):
    client = world.agency_a.client()
    avail = availability_id(DAY, "07:30")
    body = error(client.post("/bookings", reserve_body(world.tour, avail, ["senior"])))
    assert (body["error"], body["unitId"]) == ("INVALID_UNIT_ID", "senior")
    body = error(
        client.post(
            "/availability",
            {
                "productId": str(world.tour.pk),
                "optionId": "DEFAULT",
                "localDate": DAY.isoformat(),
                "units": [{"id": "pet", "quantity": 1}],
            },
        )
    )
    assert (body["error"], body["unitId"]) == ("INVALID_UNIT_ID", "pet")
    for bad in (
        availability_id(DAY, "08:00"),  # not a start time
        availability_id(DAY),  # midnight: not for a START_TIME product
        "tomorrow",
        f"{DAY.isoformat()}T07:30:00",  # no offset
    ):
        body = error(client.post("/bookings", reserve_body(world.tour, bad, ["adult"])))
        assert (body["error"], body["availabilityId"]) == (
            "INVALID_AVAILABILITY_ID",
            bad,
        )
    missing = reserve_body(world.tour, "x", ["adult"])
    del missing["availabilityId"]
    body = error(client.post("/bookings", missing))
    assert (body["error"], body["availabilityId"]) == ("INVALID_AVAILABILITY_ID", "")
    # The same instant written in UTC names the same availability.
    same = client.post(
        "/bookings",
        reserve_body(world.tour, f"{DAY.isoformat()}T12:30:00Z", ["adult"]),
    )
    assert same.json()["availabilityId"] == availability_id(DAY, "07:30")


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("a=1", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_bad_request(world, raw, content_type):
    client = world.agency_a.client()
    response = client.request("POST", "/bookings", raw=raw, content_type=content_type)
    assert response.status_code in (400, 415)
    assert response.json()["error"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "change",
    [
        {"unitItems": []},
        {"unitItems": "adult"},
        {"unitItems": [{"unitId": "adult", "uuid": "not-a-uuid"}]},
        {"uuid": "12345"},
        {"uuid": 7},
        {"expirationMinutes": 0},
        {"expirationMinutes": "30"},
        {"expirationMinutes": True},
        {"notes": 5},
        {"resellerReference": "x" * 101},
        {"contact": "Ana"},
        {"contact": {"emailAddress": "not an email"}},
        {"contact": {"fullName": "A\x00B"}},
        {"currency": "USD"},
    ],
)
def test_bad_reserve_fields_are_bad_request(world, change):
    client = world.agency_a.client()
    body = {**reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"])}
    body.update(change)
    assert error(client.post("/bookings", body))["error"] == "BAD_REQUEST"
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"localDate": "2027-02-30"},
        {"localDate": "9999-12-31"},
        {"localDateStart": "2027-01-01"},
        {"localDateStart": "2027-01-05", "localDateEnd": "2027-01-01"},
        {"localDateStart": "2027-01-01", "localDateEnd": "2029-01-01"},
        {"units": [{"id": "adult"}]},
        {"units": [{"id": "adult", "quantity": -1}]},
        {"availabilityIds": "x"},
        # Either the dates or the ids, as the document says, not both.
        {"localDate": "2027-01-05", "availabilityIds": ["2027-01-05T09:00:00-05:00"]},
        {
            "localDateStart": "2027-01-05",
            "localDateEnd": "2027-01-06",
            "availabilityIds": [],
        },
    ],
)
def test_bad_availability_requests_are_bad_request(world, change):
    client = world.agency_a.client()
    body = {"productId": str(world.tour.pk), "optionId": "DEFAULT", **change}
    assert error(client.post("/availability", body))["error"] == "BAD_REQUEST"


def test_bookings_list_needs_a_filter(world):
    client = world.agency_a.client()
    assert error(client.get("/bookings"))["error"] == "BAD_REQUEST"
    assert error(client.get("/bookings?localDate=soon"))["error"] == "BAD_REQUEST"
    assert client.get("/bookings?resellerReference=nothing").json() == []


def test_unprocessable_when_places_or_rules_do_not_allow(world):
    """More persons than places, a party over the maximum, a date inside the
    cut-off: UNPROCESSABLE_ENTITY, and nothing is held."""
    client = world.agency_a.client()
    avail = availability_id(DAY)
    body = error(
        client.post("/bookings", reserve_body(world.stay, avail, ["adult"] * 7))
    )
    assert body["error"] == "UNPROCESSABLE_ENTITY"
    world.stay.max_party = 4
    world.stay.save()
    body = error(
        client.post("/bookings", reserve_body(world.stay, avail, ["adult"] * 5))
    )
    assert body["error"] == "UNPROCESSABLE_ENTITY"
    from django.utils import timezone

    today = timezone.localdate(timezone=world.stay.place.zone)
    body = error(
        client.post(
            "/bookings", reserve_body(world.stay, availability_id(today), ["adult"])
        )
    )
    assert body["error"] == "UNPROCESSABLE_ENTITY"
    assert not Booking.objects.exists()
    assert not Slot.objects.filter(held__gt=0).exists()


def test_unknown_booking_uuid(world):
    client = world.agency_a.client()
    unknown = str(uuid.uuid4())
    for method, path in (
        ("GET", f"/bookings/{unknown}"),
        ("GET", "/bookings/not-a-uuid"),
        ("POST", f"/bookings/{unknown}/confirm"),
        ("POST", f"/bookings/{unknown}/cancel"),
        ("POST", f"/bookings/{unknown}/extend"),
        ("PATCH", f"/bookings/{unknown}"),
    ):
        body = {"contact": {}} if path.endswith("confirm") else None
        if method == "POST" or method == "PATCH":
            response = client.request(method, path, body or {})
        else:
            response = client.request(method, path)
        payload = error(response)
        assert payload["error"] == "INVALID_BOOKING_UUID"
        assert payload["uuid"] == path.split("/")[2]


def test_unauthorized_without_a_key_forbidden_with_a_bad_one(world):
    """As the OCTO document says: no key sent is 401 UNAUTHORIZED; a key sent that
    is unknown, malformed or revoked is 403 FORBIDDEN ("invalid or has been
    revoked")."""
    body = error(OctoClient(None).get("/products"), 401)
    assert body["error"] == "UNAUTHORIZED"
    for client in (
        OctoClient("tk_nothing_here"),
        OctoClient(world.agency_a.key[:-2] + "xx"),
    ):
        body = error(client.get("/products"), 403)
        assert body["error"] == "FORBIDDEN"
        assert "invalid or has been revoked" in body["errorMessage"]
    malformed = world.agency_a.client().get(
        "/products", headers={"Authorization": "Bearer a b"}
    )
    assert error(malformed, 403)["error"] == "FORBIDDEN"
    api_key_revoke(api_key=world.agency_a.api_key)
    body = error(world.agency_a.client().get("/supplier"), 403)
    assert body["error"] == "FORBIDDEN"
    assert error(world.agency_a.client().get("/capabilities"), 403)["error"] == (
        "FORBIDDEN"
    )
    # The agency's other keys still work.
    assert extra_key(world.agency_a.agency).client().get("/supplier").status_code == 200


def test_session_login_is_not_an_agency_key(world, admin_client):
    """Only API keys authenticate here, not a signed-in staff session."""
    response = admin_client.get("/api/octo/products")
    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHORIZED"


def test_forbidden_for_a_deactivated_agency(world):
    Agency.objects.filter(pk=world.agency_a.agency.pk).update(is_active=False)
    body = error(world.agency_a.client().get("/products"), 403)
    assert body["error"] == "FORBIDDEN"
    assert "suspended" in body["errorMessage"]
    # A revoked key of that agency is forbidden as any revoked key is.
    api_key_revoke(api_key=world.agency_a.api_key)
    body = error(world.agency_a.client().get("/products"), 403)
    assert body["error"] == "FORBIDDEN"
    assert "revoked" in body["errorMessage"]


def test_per_key_rate_limit(world):
    """A key limited to 3 requests a minute gets 429 on the 4th; other keys don't."""
    limited = extra_key(world.agency_a.agency, rate_per_minute=3).client()
    for _n in range(3):
        assert limited.get("/supplier").status_code == 200
    response = limited.get("/supplier")
    body = error(response, 429)
    assert body["error"] == "TOO_MANY_REQUESTS"
    assert int(response["Retry-After"]) > 0
    assert world.agency_a.client().get("/supplier").status_code == 200


def test_method_not_allowed_and_not_json(world):
    client = world.agency_a.client()
    response = client.request("PATCH", "/products", {})
    assert error(response, 405)["error"] == "BAD_REQUEST"


def test_create_agency_prints_the_key_last_and_it_works(small_catalogue, capsys):
    call_command("create_agency", "Andes Travel", "--commission-bps", "1500")
    lines = capsys.readouterr().out.strip().splitlines()
    key = lines[-1]
    assert key.startswith("tk_") and key.strip() == key and " " not in key
    agency = Agency.objects.get(name="Andes Travel")
    assert agency.commission_bps == 1500
    from tests.octo.conftest import fresh_throttle

    fresh_throttle(agency.api_keys.get())
    response = OctoClient(key).get("/supplier")
    assert response.status_code == 200
