"""Fixtures of the provider portal's tests: two providers with data of every kind."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from providers.models import Booking, Listing, OctoConnection, Provider
from tests.providers.portal import factories as f


@dataclass
class Tenant:
    provider: Provider
    user: object
    listing: Listing
    transport: Listing
    booking: Booking
    pending: Booking
    photo: object
    feed: object
    octo: OctoConnection


def _tenant(place: str) -> Tenant:
    provider = f.make_provider(place=place)
    user = f.make_member(provider)
    listing = f.make_listing(provider)
    on_request = f.make_listing(
        provider, kind=Listing.Kind.ACTIVITY, confirmation="on_request"
    )
    return Tenant(
        provider=provider,
        user=user,
        listing=listing,
        transport=f.make_transport_listing(provider) if place == "puno" else listing,
        booking=f.make_booking(listing, lead_name=f"Lead of {place}"),
        pending=f.make_booking(on_request, lead_name=f"Asker of {place}"),
        photo=f.make_photo(listing),
        feed=f.make_feed(listing),
        octo=OctoConnection.objects.create(
            provider=provider,
            name=f"System of {place}",
            base_url="https://93.184.216.34/octo",
            api_key=f"key-of-{place}",
            products=[
                {"id": "p1", "name": f"Product of {place}", "options": ["DEFAULT"]}
            ],
        ),
    )


@pytest.fixture
def tenant_a(small_catalogue) -> Tenant:
    return _tenant("puno")


@pytest.fixture
def tenant_b(small_catalogue) -> Tenant:
    return _tenant("copacabana")
