"""The portal's OCTO pages: connect, see products, link listings (fake supplier)."""

import pytest

from providers.models import OctoConnection, OctoProductLink
from tests.providers.portal import factories as f
from tests.support.octo_supplier import API_KEY, fake_octo_supplier

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]


def test_connect_read_products_and_link(tenant_a, django_capture_on_commit_callbacks):
    """Connecting reads the products (task runs eagerly); linking pulls availability."""
    client = f.logged_in(tenant_a.user)
    listing = f.make_listing(tenant_a.provider)  # no calendar feeds: OCTO can feed it
    with fake_octo_supplier() as supplier:
        supplier.products = {"stay-1": ["DEFAULT"]}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/provider/octo/",
                {"name": "Bókun", "base_url": supplier.base_url, "api_key": API_KEY},
            )
        assert response.status_code == 302
        connection = OctoConnection.objects.get(name="Bókun")
        assert connection.provider == tenant_a.provider
        assert [p["id"] for p in connection.products] == ["stay-1"]
        page = client.get(response["Location"]).content.decode()
        assert "stay-1" in page and listing.title in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                response["Location"],
                {"listing": listing.pk, "product": "stay-1|DEFAULT"},
            )
        assert response.status_code == 302
        link = OctoProductLink.objects.get(listing=listing)
        assert (link.product_id, link.option_id) == ("stay-1", "DEFAULT")
        assert any(r[1] == "/availability/calendar" for r in supplier.requests)


def test_private_supplier_url_is_a_field_error(tenant_a, settings):
    """A supplier URL on a private network is refused beside the field."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    client = f.logged_in(tenant_a.user)
    response = client.post(
        "/provider/octo/",
        {"name": "x", "base_url": "http://10.0.0.5/octo", "api_key": "k"},
    )
    assert response.status_code == 400
    assert "private or reserved" in response.content.decode()
    assert not OctoConnection.objects.filter(name="x").exists()


def test_cannot_link_another_providers_listing(tenant_a, tenant_b):
    """A's connection cannot be linked to B's listing (not among the choices)."""
    client = f.logged_in(tenant_a.user)
    response = client.post(
        f"/provider/octo/{tenant_a.octo.pk}/",
        {"listing": tenant_b.listing.pk, "product": "p1|DEFAULT"},
    )
    assert response.status_code == 400
    assert not OctoProductLink.objects.exists()


def test_listing_with_feeds_cannot_be_linked(tenant_a, settings):
    """A listing fed by iCal calendars is refused with the reason, nothing linked."""
    client = f.logged_in(tenant_a.user)
    assert tenant_a.listing.feeds.exists()
    response = client.post(
        f"/provider/octo/{tenant_a.octo.pk}/",
        {"listing": tenant_a.listing.pk, "product": "p1|DEFAULT"},
    )
    assert response.status_code == 400
    assert "calendar feeds" in response.content.decode()
    assert not OctoProductLink.objects.exists()
