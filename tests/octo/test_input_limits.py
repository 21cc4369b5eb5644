"""``/api/octo/`` input limits, answered BAD_REQUEST in OCTO's shape (each answer is
checked against the OCTO document by the client): JSON nested too deep, lone
surrogates in any string, bodies over the size limit (413), e-mail addresses that
are not real addresses; unknown paths answer OCTO JSON too."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from providers.models import Booking
from tests.octo.conftest import DAY, availability_id, reserve_body

pytestmark = pytest.mark.django_db


def deep_text(depth: int) -> str:
    return '{"k":' * depth + "1" + "}" * depth


def bad_request(response, status: int = 400) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == "BAD_REQUEST"
    return body["errorMessage"]


@pytest.fixture
def held(world) -> tuple:
    """Agency A's client and its booking on hold on the tour."""
    client = world.agency_a.client()
    body = reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"])
    response = client.post("/bookings", body)
    assert response.status_code == 200, response.content
    return client, response.json()["uuid"]


def _every_body_endpoint(uuid: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/availability"),
        ("POST", "/availability/calendar"),
        ("POST", "/bookings"),
        ("PATCH", f"/bookings/{uuid}"),
        ("POST", f"/bookings/{uuid}/confirm"),
        ("POST", f"/bookings/{uuid}/extend"),
        ("POST", f"/bookings/{uuid}/cancel"),
    ]


@pytest.mark.parametrize("depth", [33, 1000, 50_000])
def test_deep_nesting_is_bad_request_on_every_endpoint(held, depth):
    client, booking_uuid = held
    for method, path in _every_body_endpoint(booking_uuid):
        response = client.request(method, path, {}, raw=deep_text(depth))
        assert "deeper than 32 levels" in bad_request(response), path
    assert Booking.objects.get().status == Booking.Status.ON_HOLD  # untouched


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"notes": "late \ud800"}, "notes"),
        ({"resellerReference": "\udfff"}, "resellerReference"),
        ({"contact": {"fullName": "Ana \ud83d"}}, "contact.fullName"),
        (
            {"contact": {"emailAddress": "ana\udc00@example.org"}},
            "contact.emailAddress",
        ),
        (
            {"unitItems": [{"unitId": "adult", "contact": {"notes": "\ud800"}}]},
            "unitItems[0].contact.notes",
        ),
    ],
)
def test_lone_surrogates_are_bad_request(world, change, where):
    client = world.agency_a.client()
    body = {**reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"])}
    body.update(change)
    # json.dumps writes the lone surrogate as the escape "\udxxx", as a client would.
    response = client.request("POST", "/bookings", {}, raw=json.dumps(body))
    message = bad_request(response)
    assert message.startswith(where) and "lone surrogate" in message
    assert not Booking.objects.exists()


def test_lone_surrogates_are_refused_when_updating_and_confirming(held):
    client, booking_uuid = held
    for method, path, body in (
        ("PATCH", f"/bookings/{booking_uuid}", {"notes": "\ud800"}),
        (
            "POST",
            f"/bookings/{booking_uuid}/confirm",
            {"contact": {"fullName": "Ana", "lastName": "\udbff"}},
        ),
        ("POST", f"/bookings/{booking_uuid}/cancel", {"reason": "\ud800"}),
    ):
        response = client.request(method, path, {}, raw=json.dumps(body))
        assert "lone surrogate" in bad_request(response)
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.ON_HOLD and booking.notes == ""


@pytest.mark.parametrize(
    "email",
    [
        "@",
        "ana@",
        "@example.org",
        "ana@example",
        "ana example@example.org",
        "ana@exa mple.org",
        "ana@@example.org",
        "ana@example..org",
        "ana@-example.org",
        "a" * 250 + "@example.org",
    ],
)
def test_email_addresses_must_be_real_addresses(world, email):
    client = world.agency_a.client()
    body = reserve_body(
        world.tour,
        availability_id(DAY, "07:30"),
        ["adult"],
        contact={"fullName": "Ana", "emailAddress": email},
    )
    assert "emailAddress" in bad_request(client.post("/bookings", body))
    item = {"unitId": "adult", "contact": {"emailAddress": email}}
    body = {**body, "contact": {}, "unitItems": [item]}
    assert "unitItems[0].contact.emailAddress" in bad_request(
        client.post("/bookings", body)
    )
    assert not Booking.objects.exists()


def test_emails_are_checked_on_confirm_and_update_too(held):
    client, booking_uuid = held
    for method, path in (
        ("POST", f"/bookings/{booking_uuid}/confirm"),
        ("PATCH", f"/bookings/{booking_uuid}"),
    ):
        body = {"contact": {"fullName": "Ana", "emailAddress": "ana@"}}
        assert "emailAddress" in bad_request(client.request(method, path, body))
    assert Booking.objects.get().status == Booking.Status.ON_HOLD


def test_a_real_address_is_kept_and_answered(held):
    client, booking_uuid = held
    email = "ana.quispe+titicaca@correo.example.pe"
    response = client.post(
        f"/bookings/{booking_uuid}/confirm",
        {"contact": {"fullName": "Ana Quispe", "emailAddress": email}},
    )
    assert response.status_code == 200, response.content
    assert response.json()["contact"]["emailAddress"] == email


def test_body_over_the_limit_is_413_in_octos_shape(world, settings):
    settings.API_MAX_BODY_BYTES = 5_000
    client = world.agency_a.client()
    body = reserve_body(
        world.tour, availability_id(DAY, "07:30"), ["adult"], notes="x" * 5_000
    )
    message = bad_request(client.post("/bookings", body), status=413)
    assert "5000 bytes" in message
    assert not Booking.objects.exists()


def test_body_over_djangos_own_limit_is_413_in_octos_shape(world):
    client = world.agency_a.client()
    raw = json.dumps({"notes": "x" * 3_000_000})
    response = client.request("POST", "/bookings", {}, raw=raw)
    assert "1000000 bytes" in bad_request(response, status=413)


@pytest.mark.parametrize("path", ["/api/octo/nope", "/api/octo/bookings/x/y/z"])
def test_unknown_octo_paths_answer_octo_json(world, path):
    response = Client().get(
        path, headers={"Authorization": f"Bearer {world.agency_a.key}"}
    )
    assert response.status_code == 404
    assert response.json() == {"error": "BAD_REQUEST", "errorMessage": "Not found."}
