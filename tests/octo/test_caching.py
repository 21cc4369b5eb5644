"""The OCTO API reads listings and API keys from per-process caches
(``tourism.localcache``): a change saved by a provider, by staff or by an agency's
own key management reaches the very next request."""

from __future__ import annotations

import pytest

from agencies.selectors import api_key_cache
from agencies.services import api_key_revoke
from catalogue.models import Departure
from providers.models import ListingUnit, PriceSchedule, Provider
from providers.selectors import listing_cache
from tests.octo.conftest import DAY, availability_id, reserve_body

pytestmark = pytest.mark.django_db


def adult_price(client, listing) -> int:
    response = client.post(
        "/availability",
        {
            "productId": str(listing.pk),
            "optionId": "DEFAULT",
            "localDate": DAY.isoformat(),
        },
    )
    assert response.status_code == 200, response.content
    item = response.json()[0]
    return next(p["retail"] for p in item["unitPricing"] if p["unitId"] == "adult")


def test_a_price_change_reaches_the_next_request(world):
    client = world.agency_a.client()
    assert adult_price(client, world.tour) == 5000
    unit = ListingUnit.objects.get(listing=world.tour, code="adult")
    unit.price_minor = 6500
    unit.save()
    assert adult_price(client, world.tour) == 6500
    PriceSchedule.objects.create(unit=unit, starts=DAY, ends=DAY, price_minor=7000)
    assert adult_price(client, world.tour) == 7000
    # And what a reservation is charged, not only what is shown.
    held = client.post(
        "/bookings", reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"])
    )
    assert held.json()["pricing"]["retail"] == 7000


def test_a_suspended_provider_or_a_withdrawn_listing_is_unknown_at_once(world):
    client = world.agency_a.client()
    assert client.get(f"/products/{world.tour.pk}").status_code == 200
    world.provider.status = Provider.Status.SUSPENDED
    world.provider.save()
    response = client.get(f"/products/{world.tour.pk}")
    assert response.json()["error"] == "INVALID_PRODUCT_ID"
    world.provider.status = Provider.Status.APPROVED
    world.provider.save()
    assert client.get(f"/products/{world.stay.pk}").status_code == 200
    world.stay.is_active = False
    world.stay.save()
    response = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"])
    )
    assert response.json()["error"] == "INVALID_PRODUCT_ID"


def test_a_departure_taken_off_a_listing_is_gone_at_once(world):
    client = world.agency_a.client()
    avail = availability_id(DAY, "14:30")
    body = {
        "productId": str(world.bus.pk),
        "optionId": "DEFAULT",
        "localDate": DAY.isoformat(),
    }
    starts = [i["id"] for i in client.post("/availability", body).json()]
    assert avail in starts
    world.bus.departures.remove(
        *Departure.objects.filter(
            leg__slug="puno-copacabana-bus", departure_time="14:30"
        )
    )
    starts = [i["id"] for i in client.post("/availability", body).json()]
    assert avail not in starts and starts
    response = client.post("/bookings", reserve_body(world.bus, avail, ["adult"]))
    assert response.json()["error"] == "INVALID_AVAILABILITY_ID"


def test_a_key_revoked_after_use_is_refused_at_once(world):
    client = world.agency_a.client()
    assert client.get("/supplier").status_code == 200
    api_key_revoke(api_key=world.agency_a.api_key)
    assert client.get("/supplier").status_code == 403


def test_an_agency_deactivated_after_use_is_forbidden_at_once(world):
    client = world.agency_a.client()
    assert client.get("/supplier").status_code == 200
    agency = world.agency_a.agency
    agency.is_active = False
    agency.save()
    assert client.get("/supplier").json()["error"] == "FORBIDDEN"
    agency.is_active = True
    agency.save()
    assert client.get("/supplier").status_code == 200


def test_saving_a_listing_changes_the_shared_token(world):
    """What tells the other processes: the token in the shared cache changes."""
    before = listing_cache.version()
    world.tour.title_en = "Weaving workshop (new)"
    world.tour.save()
    assert listing_cache.version() != before
    key_token = api_key_cache.version()
    api_key_revoke(api_key=world.agency_b.api_key)
    assert api_key_cache.version() != key_token
