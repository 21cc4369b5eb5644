"""The staff admin: search, filters, departures inline on legs, crossing status."""

import pytest
from django.contrib.auth import get_user_model

from catalogue.models import Crossing, RouteLeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("staff", "staff@example.org", "x")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalogue/place/?q=kasani",
        "/admin/catalogue/place/?country__id__exact=1&kind__exact=border_post",
        "/admin/catalogue/place/?verified__exact=0",
        "/admin/catalogue/routeleg/?mode__exact=train",
        "/admin/catalogue/departure/?q=Lake",
        "/admin/catalogue/crossing/?status__exact=open",
        "/admin/catalogue/country/",
        "/admin/catalogue/catalogueaudit/",
    ],
)
def test_changelists_search_and_filter(staff_client, small_catalogue, url):
    """Every changelist answers with its search and filters."""
    assert staff_client.get(url).status_code == 200


def test_place_search_finds_by_name(staff_client, small_catalogue):
    """Searching 'kasani' lists both posts and not Puno."""
    html = staff_client.get("/admin/catalogue/place/?q=kasani").content.decode()
    assert "kasani-pe" in html and "kasani-bo" in html and "Puno</a>" not in html


def test_leg_page_shows_departures_inline(staff_client, small_catalogue):
    """A leg's page edits its departures inline."""
    leg = RouteLeg.objects.get(slug="cusco-puno-train")
    html = staff_client.get(
        f"/admin/catalogue/routeleg/{leg.pk}/change/"
    ).content.decode()
    assert "departures-TOTAL_FORMS" in html
    assert 'value="dry-season-fri"' in html


def test_staff_close_a_crossing_from_the_list(staff_client, small_catalogue):
    """The 'mark closed' action changes the status and its since-when."""
    crossing = Crossing.objects.get(slug="kasani")
    before = crossing.status_since
    response = staff_client.post(
        "/admin/catalogue/crossing/",
        {"action": "mark_closed", "_selected_action": [crossing.pk]},
    )
    assert response.status_code == 302
    crossing.refresh_from_db()
    assert crossing.status == "closed" and crossing.status_since > before


def test_non_staff_cannot_open_the_admin(client, small_catalogue):
    """Anonymous visitors are sent to the login page."""
    response = client.get("/admin/catalogue/crossing/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
