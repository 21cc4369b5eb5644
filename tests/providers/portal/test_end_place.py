"""The listing editor's "Where does it end?": set, clear and refuse, in both
languages, only on activities and guided walks."""

from __future__ import annotations

import pytest

from providers.models import Listing
from tests.providers.end_place_fixtures import make_island
from tests.providers.portal import factories as f
from tests.providers.portal.test_listings import listing_post, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def walk_owner(small_catalogue):
    island = make_island()
    provider = f.make_provider(place="isla-del-sol-yumani")
    return island, provider, f.logged_in(f.make_member(provider))


def walk_post(island, **overrides) -> dict:
    return listing_post(
        "guide",
        place=str(island.yumani.pk),
        currency="BOB",
        start_times="09:00",
        **overrides,
    )


def test_a_guide_set_and_cleared_where_it_ends(walk_owner):
    """A new guided walk Yumani → Challapampa keeps its end; emptying the field
    later means it ends where it starts."""
    island, provider, client = walk_owner
    response = client.post(
        "/provider/listings/new/?kind=guide",
        walk_post(island, end_place=str(island.challapampa.pk)),
    )
    assert response.status_code == 302, response.context["form"].errors
    walk = Listing.objects.get(provider=provider)
    assert (walk.place, walk.end_place) == (island.yumani, island.challapampa)

    page = client.get(f"/provider/listings/{walk.pk}/").content.decode()
    assert f'<option value="{island.challapampa.pk}" selected>' in page
    dashboard = client.get("/provider/").content.decode()
    assert "Yumani (Isla del Sol) → Challapampa (Isla del Sol)" in dashboard

    adult, child = walk.units.order_by("pk")
    data = walk_post(island, end_place="")
    data.update(
        {
            "units-TOTAL_FORMS": "2",
            "units-INITIAL_FORMS": "2",
            "units-0-id": str(adult.pk),
            "units-1-id": str(child.pk),
        }
    )
    response = client.post(f"/provider/listings/{walk.pk}/", data)
    assert response.status_code == 302, response.context["form"].errors
    walk.refresh_from_db()
    assert walk.end_place is None and walk.ends_at == island.yumani


def test_ending_where_it_starts_is_an_error_on_the_field(walk_owner):
    """Choosing the start as the end re-renders the editor with the error beside
    "Where does it end?" and changes nothing."""
    island, provider, client = walk_owner
    walk = f.make_listing(
        provider, kind=Listing.Kind.GUIDE, end_place=island.challapampa
    )
    before = snapshot(walk)
    response = client.post(
        f"/provider/listings/{walk.pk}/",
        walk_post(island, end_place=str(island.yumani.pk)),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["end_place"], errors
    assert "leave it empty" in errors["end_place"][0]
    assert "Nothing was saved" in response.content.decode()
    assert snapshot(walk) == before


def test_an_unknown_place_is_refused(walk_owner):
    island, provider, client = walk_owner
    response = client.post(
        "/provider/listings/new/?kind=activity",
        listing_post("activity", place=str(island.yumani.pk), end_place="999999"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["end_place"]
    assert not Listing.objects.filter(provider=provider).exists()


@pytest.mark.parametrize(
    ("language", "label", "help_text"),
    [
        ("en", "Where does it end?", "Leave empty if it ends where it starts."),
        ("es", "¿Dónde termina?", "Déjelo vacío si termina donde empieza."),
    ],
)
def test_the_field_speaks_the_providers_language(
    walk_owner, language, label, help_text
):
    """Label and help text in English and Spanish, on activities and guides only."""
    client = walk_owner[2]
    headers = {"Accept-Language": language}
    for kind in ("activity", "guide"):
        page = client.get(f"/provider/listings/new/?kind={kind}", headers=headers)
        html = page.content.decode()
        assert 'name="end_place"' in html
        assert label in html and help_text in html
    for kind in ("stay", "transport"):
        page = client.get(f"/provider/listings/new/?kind={kind}", headers=headers)
        assert 'name="end_place"' not in page.content.decode()


def test_a_stay_ignores_an_end_place(walk_owner):
    """The stay form has no such field: a posted end place is not stored."""
    island, provider, client = walk_owner
    response = client.post(
        "/provider/listings/new/?kind=stay",
        listing_post(
            "stay", place=str(island.yumani.pk), end_place=str(island.challapampa.pk)
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Listing.objects.get(provider=provider).end_place is None
