"""Calendar feeds and OCTO connections of providers, and IPv6 addresses that carry a
forbidden IPv4 address (NAT64, 6to4, Teredo, IPv4-mapped, -translated,
-compatible): a form error on the address field in the portal, and a failed sync
(recorded, nothing fetched) when the name resolves to one at connect time."""

from __future__ import annotations

import datetime as dt

import pytest

from providers import octo_pull
from providers.models import CalendarFeed, OctoConnection
from providers.sync.services import calendar_feed_create, calendar_feed_sync
from tests.providers.portal import factories as f
from tests.support.resolver import HOSTILE_ADDRESSES, HOSTILE_IDS, answer

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def member(small_catalogue, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    provider = f.make_provider()
    listing = f.make_listing(provider)
    return provider, listing, f.logged_in(f.make_member(provider))


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_feed_form_names_the_url_field(member, address):
    _provider, listing, client = member
    response = client.post(
        f"/provider/listings/{listing.pk}/feeds/",
        {"name": "X", "url": f"https://[{address}]/cal.ics"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["url"] and "private or reserved" in errors["url"][0]
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_octo_connection_form_names_the_base_url_field(member, address):
    _provider, _listing, client = member
    response = client.post(
        "/provider/octo/",
        {"name": "x", "base_url": f"https://[{address}]/octo", "api_key": "k"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["base_url"]
    assert "private or reserved" in errors["base_url"][0]
    assert not OctoConnection.objects.filter(name="x").exists()


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_feed_sync_is_refused_when_the_name_now_resolves_to_it(
    member, monkeypatch, address
):
    """Public when added, one of these forms when synced: the sync fails with the
    guard's reason, recorded on the feed."""
    _provider, listing, _client = member
    asked = answer(monkeypatch, "cal.hostile.test", "93.184.216.34", address)
    feed = calendar_feed_create(listing=listing, url="https://cal.hostile.test/a.ics")
    calendar_feed_sync(feed_id=feed.pk, now=NOW)
    feed.refresh_from_db()
    assert "private or reserved" in feed.last_error
    assert feed.last_success_at is None and len(asked) == 2


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_octo_sync_is_refused_when_the_name_now_resolves_to_it(
    member, monkeypatch, address
):
    provider, _listing, _client = member
    asked = answer(monkeypatch, "octo.hostile.test", "93.184.216.34", address)
    connection = octo_pull.octo_connection_create(
        provider=provider,
        name="Their system",
        base_url="https://octo.hostile.test/octo",
        api_key="k",
    )
    assert octo_pull.octo_connection_sync(connection=connection, now=NOW) == 0
    connection.refresh_from_db()
    assert "private or reserved" in connection.last_error
    assert connection.last_success_at is None and len(asked) == 2
