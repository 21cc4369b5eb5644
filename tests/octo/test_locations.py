"""octo/content: a product's locations say where it starts and where it ends (a
guided walk Yumani → Challapampa ends elsewhere). Every answer is checked against
the OCTO document by the client (see conftest)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from providers.models import Listing
from tests.octo.conftest import make_agency
from tests.providers.end_place_fixtures import make_island
from tests.providers.factories import make_listing, make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def island_products(small_catalogue):
    island = make_island()
    provider = make_provider(place="isla-del-sol-yumani")
    walk = make_listing(
        provider,
        kind=Listing.Kind.GUIDE,
        start_times=["09:00"],
        duration_min=240,
        end_place=island.challapampa,
    )
    weaving = make_listing(
        provider, kind=Listing.Kind.ACTIVITY, start_times=["13:00"], duration_min=90
    )
    stay = make_listing(provider)
    return SimpleNamespace(
        walk=walk, weaving=weaving, stay=stay, agency=make_agency("Agency A")
    )


def _by_types(product: dict) -> dict[tuple[str, ...], dict]:
    return {tuple(loc["types"]): loc for loc in product["locations"]}


def test_a_walk_that_ends_elsewhere_has_a_start_and_an_end(island_products):
    client = island_products.agency.client(language="es")
    product = client.get(f"/products/{island_products.walk.pk}").json()
    locations = _by_types(product)
    assert set(locations) == {("START",), ("END",)}
    start, end = locations[("START",)], locations[("END",)]
    assert start["title"] == "Yumani (Isla del Sol, sur)"  # the asked language
    assert end["title"] == "Challapampa (Isla del Sol, norte)"
    assert (end["place"]["latitude"], end["place"]["longitude"]) == (
        -15.9975,
        -69.1831,
    )
    assert end["place"]["postalAddress"]["addressCountry"] == "BO"
    assert [loc["types"] for loc in product["locations"]] == [["START"], ["END"]]


def test_other_products_have_one_location(island_products):
    """An activity that ends where it starts: one location for both; a stay: its
    place. The list of all products says the same."""
    world = island_products
    products = {p["id"]: p for p in world.agency.client().get("/products").json()}
    assert _by_types(products[str(world.weaving.pk)]).keys() == {("START", "END")}
    assert _by_types(products[str(world.stay.pk)]).keys() == {("START",)}
    ends = [loc["title"] for loc in products[str(world.walk.pk)]["locations"]]
    assert ends == ["Yumani (Isla del Sol)", "Challapampa (Isla del Sol)"]


def test_locations_only_with_the_content_capability(island_products):
    client = island_products.agency.client(caps="octo/pricing")
    product = client.get(f"/products/{island_products.walk.pk}").json()
    assert "locations" not in product
