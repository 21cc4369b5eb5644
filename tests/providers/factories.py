"""Plain factory functions for provider-side test data."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from catalogue.models import Country, Place
from providers.models import Listing, ListingUnit, Provider, ProviderMember

_seq = itertools.count(1)


def make_provider(*, status: str = Provider.Status.APPROVED, place: str = "puno", **kw):
    n = next(_seq)
    home = Place.objects.get(slug=place)
    values = {
        "name": f"Provider {n}",
        "slug": f"provider-{n}",
        "kind": Provider.Kind.FAMILY,
        "country": home.country,
        "home_place": home,
        "contact_name": "Rosa",
        "email": f"p{n}@example.org",
        "status": status,
        **kw,
    }
    return Provider.objects.create(**values)


def make_member(provider: Provider, *, email: str | None = None):
    email = email or f"user{next(_seq)}@example.org"
    user = get_user_model().objects.create_user(
        username=email, email=email, password="x"
    )
    ProviderMember.objects.create(provider=provider, user=user)
    return user


def make_listing(provider: Provider, *, kind: str = Listing.Kind.STAY, **kw) -> Listing:
    values = {
        "kind": kind,
        "place": provider.home_place,
        "title_en": f"Listing {next(_seq)}",
        "title_es": "Oferta",
        "currency": Country.objects.get(pk=provider.country_id).currency,
        "default_capacity": 6,
        "booking_cutoff_hours": 24,
        **kw,
    }
    listing = Listing.objects.create(provider=provider, **values)
    ListingUnit.objects.create(
        listing=listing,
        code="adult",
        name_en="Adult",
        name_es="Adulto",
        price_minor=5000,
    )
    ListingUnit.objects.create(
        listing=listing,
        code="child",
        name_en="Child",
        name_es="Niño",
        min_age=3,
        max_age=11,
        price_minor=2500,
    )
    ListingUnit.objects.create(
        listing=listing,
        code="infant",
        name_en="Infant",
        name_es="Bebé",
        max_age=2,
        price_minor=0,
        occupies_capacity=False,
    )
    return listing
