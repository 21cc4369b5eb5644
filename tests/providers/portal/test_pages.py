"""Every portal page: small enough for a poor connection, and in Spanish."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.providers.portal import factories as f

pytestmark = pytest.mark.django_db

MAX_BYTES = 100_000

PAGES = [
    "/provider/",
    "/provider/bookings/",
    "/provider/bookings/{booking}/",
    "/provider/bookings/{pending}/",
    "/provider/manifest/?date=2027-03-10",
    "/provider/listings/new/",
    "/provider/listings/new/?kind=stay",
    "/provider/listings/new/?kind=activity",
    "/provider/listings/new/?kind=transport",
    "/provider/listings/new/?kind=guide",
    "/provider/listings/{listing}/",
    "/provider/listings/{transport}/",
    "/provider/listings/{listing}/photos/",
    "/provider/listings/{listing}/calendar/?month=2027-03",
    "/provider/listings/{transport}/calendar/?month=2027-03",
    "/provider/listings/{listing}/feeds/",
]
PUBLIC_PAGES = ["/provider/signup/", "/provider/login/"]


def _url(template: str, tenant) -> str:
    return template.format(
        listing=tenant.listing.pk,
        transport=tenant.transport.pk,
        booking=tenant.booking.uuid,
        pending=tenant.pending.uuid,
    )


@pytest.fixture
def busy_tenant(tenant_a):
    """A provider with a full day of bookings, conflicts and feeds."""
    for _ in range(2):
        f.make_booking(tenant_a.listing, units={"adult": 1, "child": 1})
    f.make_conflict(tenant_a.listing, day=f.DAY.replace(day=12))
    f.make_feed(tenant_a.listing, name="Failing", last_error="HTTP 500 " * 40)
    return tenant_a


@pytest.mark.parametrize("template", PAGES)
def test_page_is_small_and_renders_in_spanish(busy_tenant, template):
    """Under 100 KB; Spanish by Accept-Language and by the language cookie."""
    url = _url(template, busy_tenant)
    client = f.logged_in(busy_tenant.user)
    english = client.get(url)
    assert english.status_code == 200
    assert len(english.content) < MAX_BYTES, len(english.content)
    assert "Bookings" in english.content.decode()

    spanish = client.get(url, headers={"accept-language": "es"})
    html = spanish.content.decode()
    assert 'lang="es"' in html
    assert "Reservas" in html and ">Bookings<" not in html
    assert "Manifiesto del día" in html

    client.cookies["django_language"] = "es"
    html = client.get(url).content.decode()
    assert 'lang="es"' in html and "Reservas" in html


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_are_small_and_in_spanish(small_catalogue, url):
    """Sign-up and login pages, anonymous, in both languages."""
    client = Client()
    page = client.get(url)
    assert page.status_code == 200 and len(page.content) < MAX_BYTES
    html = client.get(url, headers={"accept-language": "es"}).content.decode()
    assert 'lang="es"' in html
    assert "Ingresar" in html or "Registrarse" in html


def test_no_external_resources(busy_tenant):
    """Pages load no external CSS, JavaScript or fonts."""
    client = f.logged_in(busy_tenant.user)
    for template in PAGES:
        html = client.get(_url(template, busy_tenant)).content.decode()
        assert "<script" not in html
        assert "<link" not in html
        assert "@import" not in html and "url(" not in html
