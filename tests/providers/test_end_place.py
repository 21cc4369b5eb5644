"""Listing.end_place: an activity or guided walk that ends somewhere else than it
starts (the walk Yumani → Challapampa on Isla del Sol). The model's rules, the staff
admin, and the migration that sets it on an existing demo database."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from providers.models import Listing
from tests.providers.end_place_fixtures import Island, make_island
from tests.providers.factories import make_listing, make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def island(small_catalogue) -> Island:
    return make_island()


@pytest.fixture
def provider(island):
    return make_provider(place="isla-del-sol-yumani")


@pytest.mark.parametrize("kind", [Listing.Kind.GUIDE, Listing.Kind.ACTIVITY])
def test_a_walk_may_end_somewhere_else(island, provider, kind):
    """A guide or activity starting at Yumani may end at Challapampa; it validates
    and says where the traveller is afterwards."""
    walk = make_listing(provider, kind=kind, end_place=island.challapampa)
    walk.full_clean()
    assert walk.ends_at == island.challapampa
    round_trip = make_listing(provider, kind=kind)
    round_trip.full_clean()
    assert round_trip.end_place is None and round_trip.ends_at == island.yumani


@pytest.mark.parametrize(
    "kind", [Listing.Kind.STAY, Listing.Kind.TRANSPORT], ids=["stay", "transport"]
)
def test_only_activities_and_guides_end_elsewhere(island, provider, kind):
    """A stay or a transport service with an end place is refused on that field."""
    listing = make_listing(provider, kind=kind)
    listing.end_place = island.challapampa
    with pytest.raises(ValidationError) as refused:
        listing.clean()
    assert list(refused.value.message_dict) == ["end_place"]
    assert "activity or a guided walk" in refused.value.message_dict["end_place"][0]


def test_the_end_place_cannot_be_the_start(island, provider):
    """Ending 'elsewhere' at the place it starts is refused with a hint to leave it
    empty."""
    walk = make_listing(provider, kind=Listing.Kind.GUIDE)
    walk.end_place = island.yumani
    with pytest.raises(ValidationError) as refused:
        walk.full_clean()
    assert "leave it empty" in refused.value.message_dict["end_place"][0]


# --- Staff admin ----------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("staff", "staff@example.org", "x")
    client.force_login(user)
    return client


def _form_data(form, data: dict) -> None:
    for name in form.fields:
        value = form[name].value()  # prepared for the widget, as rendered
        key = form[name].html_name
        if isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = str(value)


def admin_post_data(page) -> dict:
    """The change form as the admin rendered it (main form and inlines), ready to be
    posted back with changes."""
    data: dict = {}
    _form_data(page.context["adminform"].form, data)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_data(formset.management_form, data)
        for form in formset.forms:
            _form_data(form, data)
    return data


def test_admin_shows_sets_and_clears_the_end_place(staff_client, island, provider):
    """Staff see the field on the listing page, set it, and clear it."""
    walk = make_listing(provider, kind=Listing.Kind.GUIDE, start_times=["09:00"])
    url = f"/admin/providers/listing/{walk.pk}/change/"
    page = staff_client.get(url)
    assert page.status_code == 200
    assert 'name="end_place"' in page.content.decode()
    data = admin_post_data(page)
    data["end_place"] = str(island.challapampa.pk)
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    walk.refresh_from_db()
    assert walk.end_place == island.challapampa
    assert walk.start_times == ["09:00"]  # the rest of the listing is kept
    listed = staff_client.get("/admin/providers/listing/").content.decode()
    assert "Challapampa (Isla del Sol)" in listed

    data = admin_post_data(staff_client.get(url))
    assert data["end_place"] == str(island.challapampa.pk)
    data["end_place"] = ""
    assert staff_client.post(url, data).status_code == 302
    walk.refresh_from_db()
    assert walk.end_place is None


@pytest.mark.parametrize("case", ["same-place", "stay"])
def test_admin_refuses_a_wrong_end_place_on_its_field(
    staff_client, island, provider, case
):
    """The end place equal to the start, or on a stay: an error beside the field and
    nothing stored."""
    kind = Listing.Kind.GUIDE if case == "same-place" else Listing.Kind.STAY
    listing = make_listing(provider, kind=kind)
    url = f"/admin/providers/listing/{listing.pk}/change/"
    data = admin_post_data(staff_client.get(url))
    data["end_place"] = str(
        island.yumani.pk if case == "same-place" else island.challapampa.pk
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["end_place"]
    listing.refresh_from_db()
    assert listing.end_place is None


# --- Migration ------------------------------------------------------------------------


def test_migration_ends_the_existing_demo_walk_at_challapampa(island):
    """A database seeded before the field existed gets the end of the demo walk;
    other listings (and a walk already set) are left alone."""
    migration = importlib.import_module("providers.migrations.0006_listing_end_place")
    inti = make_provider(place="isla-del-sol-yumani", slug="demo-isla-del-sol-inti")
    walk = make_listing(
        inti,
        kind=Listing.Kind.GUIDE,
        title_en="Guided walk Yumani – Challapampa (demo)",
        is_demo=True,
    )
    other = make_listing(inti, kind=Listing.Kind.GUIDE, is_demo=True)
    migration.demo_walk_ends_at_challapampa(apps, None)
    walk.refresh_from_db()
    other.refresh_from_db()
    assert walk.end_place == island.challapampa
    assert other.end_place is None
