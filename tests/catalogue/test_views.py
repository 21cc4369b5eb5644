"""Server-rendered pages."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_lists_places_and_crossings(client, small_catalogue):
    """The home page shows the stops with altitude and zone, and the border hours."""
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Copacabana" in html and "3841 m" in html and "America/La_Paz" in html
    assert "07:00–20:00" in html
    assert response["Content-Language"] == "en"


def test_home_in_spanish(client, small_catalogue):
    """With the Spanish cookie the page and names are in Spanish."""
    client.cookies["django_language"] = "es"
    html = client.get("/").content.decode()
    assert 'lang="es"' in html
    assert "Kasani (puesto peruano)" in html


def test_language_switch_sets_the_cookie(client):
    """The switch form stores the choice and returns to the page."""
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "es"


def test_empty_catalogue_says_how_to_load_it(client):
    """Before seeding, the page says which command loads the catalogue."""
    assert "seed_route" in client.get("/").content.decode()


def test_healthz(client, settings):
    """The health check answers when the database does (and Redis, when there is
    one: tests/tourism/test_unavailable.py)."""
    settings.REDIS_URL = ""
    assert client.get("/healthz").json() == {
        "status": "ok",
        "checks": {"database": "ok"},
    }


def test_spanish_ui_text_is_translated(client, small_catalogue):
    """The committed Spanish catalogue translates the page's headings."""
    client.cookies["django_language"] = "es"
    html = client.get("/").content.decode()
    assert "Border crossings" not in html
    assert "Pasos fronterizos" in html


def test_api_errors_in_spanish(client):
    """API error sentences follow Accept-Language too."""
    response = client.get(
        "/api/v1/departures/?from=atlantis&to=puno&date=2026-03-02",
        headers={"accept-language": "es"},
    )
    assert response.status_code == 404
    assert "atlantis" in response.json()["detail"]
    assert "Unknown place" not in response.json()["detail"]
