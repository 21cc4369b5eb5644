"""The tenant boundary: a provider can never read or change another provider's
listings, availability, photos, bookings or feeds."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.urls import URLPattern

from providers.models import (
    Booking,
    CalendarFeed,
    Listing,
    ListingPhoto,
    ListingUnit,
    OctoConnection,
    OctoProductLink,
    PriceSchedule,
    Slot,
)
from providers.portal import urls as portal_urls
from tests.providers.portal import factories as f
from tests.providers.portal.test_listings import listing_post, prices_data, units_data

pytestmark = pytest.mark.django_db

# Every portal URL that names an object, with the POST data that would change it if
# the boundary were missing. ``{x}`` placeholders are provider B's objects, except
# ``{a_listing}`` (A's own listing, combined with B's photo).
CASES = [
    ("listing-edit", "/provider/listings/{listing}/", "listing_form"),
    ("listing-edit", "/provider/listings/{transport}/", "listing_form"),
    ("listing-photos", "/provider/listings/{listing}/photos/", "photo"),
    ("photo-delete", "/provider/listings/{listing}/photos/{photo}/delete/", None),
    ("photo-delete", "/provider/listings/{a_listing}/photos/{photo}/delete/", None),
    ("calendar", "/provider/listings/{listing}/calendar/?month=2027-03", "slot"),
    ("calendar", "/provider/listings/{transport}/calendar/", "slot"),
    ("feeds", "/provider/listings/{listing}/feeds/", "feed"),
    ("feeds", "/provider/listings/{listing}/feeds/", "rotate"),
    ("booking-detail", "/provider/bookings/{booking}/", None),
    ("booking-action", "/provider/bookings/{pending}/accept/", None),
    ("booking-action", "/provider/bookings/{pending}/decline/", None),
    ("booking-action", "/provider/bookings/{booking}/redeemed/", None),
    ("booking-action", "/provider/bookings/{booking}/no-show/", None),
    ("booking-action", "/provider/bookings/{booking}/accept/", None),
    ("octo-detail", "/provider/octo/{octo}/", "octo_link"),
    ("octo-detail", "/provider/octo/{octo}/", "octo_sync"),
]


def _post_data(kind: str | None) -> dict:
    if kind == "listing_form":
        return listing_post("stay", title_en="Hijacked")
    if kind == "photo":
        image = f.image_bytes("PNG")
        return {"image": SimpleUploadedFile("x.png", image, "image/png")}
    if kind == "slot":
        return {"date": "2027-03-10", "capacity": "0", "action": "save"}
    if kind == "octo_link":
        return {"listing": "1", "product": "p1|DEFAULT"}
    if kind == "rotate":
        return {"action": "rotate"}
    if kind == "octo_sync":
        return {"action": "sync"}
    if kind == "feed":
        return {"url": "https://evil.example/cal.ics", "name": "Evil"}
    return {"next": "/provider/"}


def everything() -> dict[str, list]:
    """All rows a provider owns, to prove nothing changed."""
    return {
        "listings": [
            model_to_dict(x, exclude=["departures"]) for x in Listing.objects.all()
        ],
        "units": list(ListingUnit.objects.values()),
        "prices": list(PriceSchedule.objects.values()),
        "slots": list(Slot.objects.values()),
        "bookings": list(Booking.objects.values()),
        "photos": list(ListingPhoto.objects.values()),
        "feeds": list(CalendarFeed.objects.values()),
        "octo": list(OctoConnection.objects.values()),
        "octo_links": list(OctoProductLink.objects.values()),
    }


def test_every_object_url_of_the_portal_is_covered():
    """Each URL pattern with an object id appears in CASES (new pages get tested)."""
    with_ids = {
        p.name
        for p in portal_urls.urlpatterns
        if isinstance(p, URLPattern) and "<" in str(p.pattern)
    }
    assert with_ids == {name for name, _url, _data in CASES}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("name", "template", "data"), CASES)
def test_other_providers_objects_are_404_and_unchanged(
    tenant_a, tenant_b, method, name, template, data, mailoutbox
):
    """Logged in as A, every page and endpoint given B's ids answers 404 with none of
    B's data, and nothing in the database changes."""
    url = template.format(
        listing=tenant_b.listing.pk,
        transport=tenant_b.transport.pk,
        photo=tenant_b.photo.pk,
        booking=tenant_b.booking.uuid,
        pending=tenant_b.pending.uuid,
        a_listing=tenant_a.listing.pk,
        octo=tenant_b.octo.pk,
    )
    client = f.logged_in(tenant_a.user)
    before = everything()
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, _post_data(data))
    assert response.status_code == 404
    body = response.content.decode()
    assert tenant_b.listing.title_en not in body
    assert tenant_b.booking.lead_name not in body
    assert str(tenant_b.booking.uuid) not in body
    assert tenant_b.octo.name not in body
    assert everything() == before
    assert not mailoutbox


def test_lists_show_only_the_own_provider(tenant_a, tenant_b):
    """Dashboard, bookings and manifest never mention B's listings or bookings."""
    client = f.logged_in(tenant_a.user)
    for url in (
        "/provider/",
        "/provider/bookings/",
        "/provider/bookings/?status=pending",
        "/provider/manifest/?date=2027-03-10",
    ):
        body = client.get(url).content.decode()
        assert tenant_b.listing.title_en not in body, url
        assert tenant_b.booking.lead_name not in body, url
        assert str(tenant_b.booking.uuid) not in body, url
    bookings = client.get("/provider/bookings/").content.decode()
    assert str(tenant_a.booking.uuid) in bookings


def test_hidden_ids_of_other_providers_units_are_refused(tenant_a, tenant_b):
    """Posting B's unit or price ids in A's own listing editor changes nothing of B."""
    b_unit = tenant_b.listing.units.order_by("pk").first()
    b_schedule = f.make_price_schedule(b_unit)
    before = everything()
    client = f.logged_in(tenant_a.user)
    a_units = list(tenant_a.listing.units.order_by("pk"))
    data = listing_post("stay")
    data.update(
        units_data(
            [
                {
                    "id": str(b_unit.pk),
                    "code": "adult",
                    "name_en": "Stolen",
                    "name_es": "Robado",
                    "price": "1.00",
                },
                {
                    "id": str(a_units[1].pk),
                    "code": "child",
                    "name_en": "Child",
                    "name_es": "Niño",
                    "price": "1.00",
                    "DELETE": "on",
                },
            ],
            initial=2,
        )
    )
    data.update(
        prices_data(
            [
                {
                    "id": str(b_schedule.pk),
                    "unit": str(a_units[0].pk),
                    "starts": "2027-01-01",
                    "ends": "2027-01-31",
                    "price": "1",
                    "DELETE": "on",
                }
            ],
            initial=1,
        )
    )
    response = client.post(f"/provider/listings/{tenant_a.listing.pk}/", data)
    assert response.status_code == 200
    assert everything() == before
    b_unit.refresh_from_db()
    assert b_unit.name_en == "Adult"
    assert PriceSchedule.objects.filter(pk=b_schedule.pk).exists()
