"""The calendar feeds page: sync status, the export address, adding a feed."""

from __future__ import annotations

import datetime as dt

import pytest

from providers.models import CalendarFeed, Provider
from tests.providers.portal import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(small_catalogue):
    provider = f.make_provider()
    listing = f.make_listing(provider)
    return listing, f.logged_in(f.make_member(provider))


def test_feeds_page_shows_sync_status_and_export_url(setup):
    """Each feed shows its last success, last error and next run in the provider's
    local time with its offset; the listing's export address is shown in full."""
    listing, client = setup
    f.make_feed(
        listing,
        name="Booking.com",
        last_success_at=dt.datetime(2027, 1, 2, 3, 4, tzinfo=dt.UTC),
        last_error="Timed out after 20 s",
        next_run_at=dt.datetime(2027, 1, 2, 4, 0, tzinfo=dt.UTC),
    )
    html = client.get(f"/provider/listings/{listing.pk}/feeds/").content.decode()
    assert "Booking.com" in html
    assert listing.provider.country.timezone == "America/Lima"
    assert "2027-01-01 22:04 (-0500)" in html and "2027-01-01 23:00 (-0500)" in html
    assert "Timed out after 20 s" in html
    assert f"http://testserver/providers/ical/{listing.ical_token}.ics" in html


def test_adding_a_feed_calls_the_sync_service(setup, settings):
    """The form creates the feed through providers.sync.services."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    listing, client = setup
    response = client.post(
        f"/provider/listings/{listing.pk}/feeds/",
        {"name": "Airbnb", "url": "http://127.0.0.1:8765/cal.ics", "blocks_units": ""},
    )
    assert response.status_code == 302
    feed = CalendarFeed.objects.get(listing=listing)
    assert (feed.name, feed.url, feed.blocks_units) == (
        "Airbnb",
        "http://127.0.0.1:8765/cal.ics",
        None,
    )


@pytest.mark.parametrize(
    "url", ["ftp://example.org/cal.ics", "http://10.0.0.7/cal.ics", "not a url"]
)
def test_refused_feed_addresses_are_field_errors(setup, url):
    """Addresses the sync service refuses (scheme, private network) show on ``url``."""
    listing, client = setup
    response = client.post(
        f"/provider/listings/{listing.pk}/feeds/", {"name": "X", "url": url}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["url"]
    assert not CalendarFeed.objects.exists()


def test_provider_can_rotate_the_export_address(setup):
    """Rotating gives a new secret URL; the old one stops working."""
    listing, client = setup
    old = listing.ical_token
    assert client.get(f"/providers/ical/{old}.ics").status_code == 200
    response = client.post(
        f"/provider/listings/{listing.pk}/feeds/", {"action": "rotate"}
    )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.ical_token != old
    assert client.get(f"/providers/ical/{old}.ics").status_code == 404
    page = client.get(f"/provider/listings/{listing.pk}/feeds/").content.decode()
    assert listing.ical_token in page


@pytest.mark.parametrize("status", [Provider.Status.PENDING, Provider.Status.SUSPENDED])
def test_a_provider_not_approved_gets_a_form_error(small_catalogue, settings, status):
    """A provider waiting for approval (or suspended) sees why calendars cannot be
    added yet, and posting the form answers with that error, not a 500."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    provider = f.make_provider(status=status)
    listing = f.make_listing(provider)
    client = f.logged_in(f.make_member(provider))
    page = client.get(f"/provider/listings/{listing.pk}/feeds/")
    assert "once our staff have approved" in page.content.decode()
    response = client.post(
        f"/provider/listings/{listing.pk}/feeds/",
        {"name": "Airbnb", "url": "http://127.0.0.1:8765/cal.ics"},
    )
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert any("once our staff have approved" in str(e) for e in errors)
    assert "once our staff have approved" in response.content.decode()
    assert not CalendarFeed.objects.exists()


def test_the_approval_error_is_translated(small_catalogue, settings):
    """In Spanish the same error reads in Spanish."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    provider = f.make_provider(status=Provider.Status.PENDING)
    listing = f.make_listing(provider)
    client = f.logged_in(f.make_member(provider))
    response = client.post(
        f"/provider/listings/{listing.pk}/feeds/",
        {"name": "Airbnb", "url": "http://127.0.0.1:8765/cal.ics"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert "Podrá conectar calendarios cuando" in response.content.decode()
