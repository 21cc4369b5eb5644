"""The listing editor's "Sights it visits": a guided visit names the public sights
it includes (so the planner does not send the traveller there again); sights far
from where it starts or ends are refused on the field, and nothing is saved."""

from __future__ import annotations

import pytest

from catalogue.models import Place, Sight
from providers.models import Listing
from tests.providers.end_place_fixtures import make_island
from tests.providers.portal import factories as f
from tests.providers.portal.test_listings import listing_post, snapshot

pytestmark = pytest.mark.django_db


def make_sight(slug: str, place: Place, name: str) -> Sight:
    return Sight.objects.create(
        slug=slug,
        place=place,
        name_en=name,
        name_es=name,
        description_en="-",
        description_es="-",
        visit_min=60,
        always_open=True,
        fee_currency="BOB",
        effort=Sight.Effort.EASY,
        source="test",
        verified=True,
    )


@pytest.fixture
def island_owner(small_catalogue):
    island = make_island()
    provider = f.make_provider(place="isla-del-sol-yumani")
    stairs = make_sight("is-escalera", island.yumani, "Escalera del Inca")
    chincana = make_sight("is-chincana", island.challapampa, "Chincana labyrinth")
    # Puno is about 130 km from the island.
    far = make_sight("pu-cathedral", Place.objects.get(slug="puno"), "Puno Cathedral")
    return (
        island,
        provider,
        f.logged_in(f.make_member(provider)),
        (stairs, chincana, far),
    )


def guide_post(island, **overrides) -> dict:
    return listing_post(
        "guide",
        place=str(island.yumani.pk),
        currency="BOB",
        start_times="09:00",
        **overrides,
    )


def test_a_guided_walk_names_the_sights_it_visits(island_owner):
    """Chosen sights are stored and shown selected; one at the far end of a walk
    (Challapampa) is near enough because the walk ends there."""
    island, provider, client, (stairs, chincana, _far) = island_owner
    response = client.post(
        "/provider/listings/new/?kind=guide",
        guide_post(
            island,
            end_place=str(island.challapampa.pk),
            sights=[str(stairs.pk), str(chincana.pk)],
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    walk = Listing.objects.get(provider=provider)
    assert set(walk.sights.all()) == {stairs, chincana}
    page = client.get(f"/provider/listings/{walk.pk}/").content.decode()
    assert f'<option value="{stairs.pk}" selected>' in page
    assert "Yumani (Isla del Sol): Escalera del Inca" in page


def test_a_sight_far_away_is_refused_on_its_field(island_owner):
    """Puno's cathedral is across the lake, not on Isla del Sol: the error names it
    beside the field, in the provider's language, and the listing is unchanged."""
    island, provider, client, (stairs, _chincana, far) = island_owner
    walk = f.make_listing(provider, kind=Listing.Kind.GUIDE)
    walk.sights.set([stairs])
    before = snapshot(walk)
    for language, text in (("en", "more than 15 km"), ("es", "a más de 15 km")):
        response = client.post(
            f"/provider/listings/{walk.pk}/",
            guide_post(island, sights=[str(far.pk)]),
            headers={"Accept-Language": language},
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == ["sights"], errors
        assert "Puno Cathedral" in errors["sights"][0]
        assert text in errors["sights"][0]
        assert snapshot(walk) == before
        assert list(walk.sights.all()) == [stairs]


def test_stays_have_no_sights_field(island_owner):
    island, provider, client, (stairs, _chincana, _far) = island_owner
    page = client.get("/provider/listings/new/?kind=stay").content.decode()
    assert 'name="sights"' not in page
    response = client.post(
        "/provider/listings/new/?kind=stay",
        listing_post("stay", place=str(island.yumani.pk), sights=[str(stairs.pk)]),
    )
    assert response.status_code == 302, response.context["form"].errors
    assert not Listing.objects.get(provider=provider).sights.exists()
