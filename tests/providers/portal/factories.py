"""Plain factory functions for the provider portal's tests."""

from __future__ import annotations

import datetime as dt
import io
import itertools

from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image

from catalogue.models import Departure, Place
from providers import services
from providers.models import (
    Booking,
    CalendarFeed,
    Listing,
    ListingPhoto,
    ListingUnit,
    PriceSchedule,
    Provider,
    ProviderMember,
    Slot,
    SyncConflict,
)

PASSWORD = "Llama-Amantani-2027"
DAY = dt.date(2027, 3, 10)  # beyond any booking cut-off
_seq = itertools.count(1)


def make_provider(
    *, status: str = Provider.Status.APPROVED, place: str = "puno", **kw
) -> Provider:
    n = next(_seq)
    home = Place.objects.select_related("country").get(slug=place)
    values = {
        "name": f"Familia {n}",
        "slug": f"portal-provider-{n}",
        "kind": Provider.Kind.FAMILY,
        "country": home.country,
        "home_place": home,
        "contact_name": "Rosa",
        "email": f"provider{n}@example.org",
        "status": status,
        **kw,
    }
    return Provider.objects.create(**values)


def make_user(*, email: str | None = None):
    email = email or f"member{next(_seq)}@example.org"
    return get_user_model().objects.create_user(
        username=email, email=email, password=PASSWORD
    )


def make_member(provider: Provider, *, email: str | None = None):
    user = make_user(email=email)
    ProviderMember.objects.create(provider=provider, user=user)
    return user


def make_listing(provider: Provider, *, kind: str = Listing.Kind.STAY, **kw) -> Listing:
    values = {
        "kind": kind,
        "place": provider.home_place,
        "title_en": f"Listing {next(_seq)}",
        "title_es": f"Oferta {next(_seq)}",
        "currency": provider.country.currency,
        "default_capacity": 6,
        "booking_cutoff_hours": 24,
        **kw,
    }
    if kind == Listing.Kind.STAY:
        values.setdefault("stay_type", Listing.StayType.HOMESTAY)
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
    return listing


def make_transport_listing(provider: Provider) -> Listing:
    listing = make_listing(provider, kind=Listing.Kind.TRANSPORT)
    departure = Departure.objects.get(leg__slug="puno-copacabana-bus", code="am")
    listing.route_leg = departure.leg
    listing.save()
    listing.departures.add(departure)
    return listing


def make_booking(
    listing: Listing,
    *,
    day: dt.date = DAY,
    start_time: dt.time | None = None,
    units: dict[str, int] | None = None,
    confirm: bool = True,
    lead_name: str = "Ana Quispe",
    lead_email: str = "ana@example.org",
    notes: str = "",
) -> Booking:
    booking = services.booking_hold(
        listing=listing,
        day=day,
        start_time=start_time,
        units=units or {"adult": 2},
        channel=Booking.Channel.WEBSITE,
        lead_name=lead_name,
        lead_email=lead_email,
        lead_phone="+51 951 000 111",
        notes=notes,
    )
    if confirm:
        booking = services.booking_confirm(booking=booking)
    return booking


def make_feed(listing: Listing, **kw) -> CalendarFeed:
    values = {"name": "Airbnb", "url": "https://example.org/cal.ics", **kw}
    return CalendarFeed.objects.create(listing=listing, **values)


def make_conflict(listing: Listing, *, day: dt.date = DAY) -> SyncConflict:
    slot = services.slot_get_or_create(listing=listing, day=day, start_time=None)
    feed = make_feed(listing)
    return SyncConflict.objects.create(slot=slot, feed=feed, sold=2, blocked=6)


def make_photo(listing: Listing) -> ListingPhoto:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return services.photo_add(
        listing=listing,
        upload=SimpleUploadedFile("p.png", image_bytes("PNG"), "image/png"),
    )


def make_price_schedule(unit: ListingUnit) -> PriceSchedule:
    return PriceSchedule.objects.create(
        unit=unit,
        starts=dt.date(2027, 7, 1),
        ends=dt.date(2027, 7, 31),
        price_minor=6000,
    )


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), mode: str = "RGB", **save
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 120, 40) if mode == "RGB" else None).save(
        out, format=fmt, **save
    )
    return out.getvalue()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def slot_state(listing: Listing) -> list[tuple]:
    return list(
        Slot.objects.filter(listing=listing)
        .order_by("pk")
        .values_list("date", "start_time", "capacity", "held", "booked", "closed")
    )
