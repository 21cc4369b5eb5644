"""The listing editor: every kind, units, seasonal prices, and refusals that keep the
stored data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from catalogue.models import Departure, Place
from providers.models import Listing, ListingUnit, PriceSchedule
from tests.providers.portal import factories as f

pytestmark = pytest.mark.django_db

COMMON = {
    "title_en": "Homestay with the Mamani family",
    "title_es": "Vivencial con la familia Mamani",
    "description_en": "Sleep on Amantaní.",
    "description_es": "Duerma en Amantaní.",
    "tags": ["culture", "lake"],
    "currency": "PEN",
    "default_capacity": "6",
    "confirmation": "instant",
    "booking_cutoff_hours": "24",
    "cancellation_cutoff_hours": "72",
    "cancellation_refund_percent": "50",
    "is_active": "on",
    "min_party": "1",
}
KIND_FIELDS = {
    "stay": {"stay_type": "homestay", "rooms": "3", "beds": "6"},
    "activity": {
        "duration_min": "180",
        "start_times": "14:30, 9:00",
        "days": ["mon", "wed", "sat"],
        "season_start": "04-01",
        "season_end": "10-31",
        "max_party": "8",
        "difficulty": "moderate",
        "strenuous": "on",
        "altitude_m": "4130",
    },
    "transport": {},
    "guide": {
        "languages": ["es", "qu", "en"],
        "duration_min": "240",
        "max_party": "10",
    },
}


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def units_data(rows: list[dict], initial: int = 0) -> dict[str, str]:
    data = management("units", len(rows), initial)
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"units-{i}-{key}"] = value
    return data


def prices_data(rows: list[dict], initial: int = 0) -> dict[str, str]:
    data = management("prices", len(rows), initial)
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"prices-{i}-{key}"] = value
    return data


ADULT = {
    "code": "adult",
    "name_en": "Adult",
    "name_es": "Adulto",
    "price": "45.50",
    "occupies_capacity": "on",
}
CHILD = {
    "code": "child",
    "name_en": "Child",
    "name_es": "Niño",
    "min_age": "3",
    "max_age": "11",
    "price": "20,00",
    "occupies_capacity": "on",
}


def listing_post(kind: str, **overrides) -> dict:
    data = {**COMMON, **KIND_FIELDS[kind]}
    if kind != "transport":
        data["place"] = str(Place.objects.get(slug="puno").pk)
    else:
        departure = Departure.objects.get(leg__slug="puno-copacabana-bus", code="am")
        data["route_leg"] = str(departure.leg_id)
        data["departures"] = [str(departure.pk)]
    data.update(units_data([ADULT, CHILD]))
    data.update(prices_data([]))
    data.update(overrides)
    return data


def snapshot(listing: Listing) -> tuple:
    listing.refresh_from_db()
    return (
        model_to_dict(listing, exclude=["departures"]),
        sorted(listing.departures.values_list("pk", flat=True)),
        list(ListingUnit.objects.filter(listing=listing).order_by("pk").values()),
        list(
            PriceSchedule.objects.filter(unit__listing=listing).order_by("pk").values()
        ),
    )


@pytest.fixture
def owner(small_catalogue):
    provider = f.make_provider()
    return provider, f.logged_in(f.make_member(provider))


@pytest.mark.parametrize("kind", ["stay", "activity", "transport", "guide"])
def test_create_then_edit_each_kind_with_units_and_seasonal_prices(owner, kind):
    """Each kind is created with its own fields and two units (decimal prices stored
    in minor units), then edited to add a seasonal price."""
    provider, client = owner
    response = client.post(f"/provider/listings/new/?kind={kind}", listing_post(kind))
    assert response.status_code == 302, response.context["form"].errors
    listing = Listing.objects.get(provider=provider)
    assert response["Location"] == f"/provider/listings/{listing.pk}/"
    assert listing.kind == kind
    assert listing.title_es == "Vivencial con la familia Mamani"
    assert listing.tags == ["culture", "lake"]
    assert listing.cancellation_refund_percent == 50
    units = {u.code: u for u in listing.units.all()}
    assert units["adult"].price_minor == 4550
    assert units["child"].price_minor == 2000
    assert (units["child"].min_age, units["child"].max_age) == (3, 11)
    if kind == "stay":
        assert (listing.stay_type, listing.rooms, listing.beds) == ("homestay", 3, 6)
    if kind == "activity":
        assert listing.start_times == ["09:00", "14:30"]
        assert listing.days == ["mon", "wed", "sat"]
        assert (listing.season_start, listing.season_end) == ("04-01", "10-31")
        assert (listing.max_party, listing.strenuous, listing.altitude_m) == (
            8,
            True,
            4130,
        )
        assert listing.difficulty == "moderate" and listing.duration_min == 180
    if kind == "transport":
        assert listing.route_leg.slug == "puno-copacabana-bus"
        assert [d.code for d in listing.departures.all()] == ["am"]
        assert listing.place.slug == "puno"  # the route's origin
    if kind == "guide":
        assert listing.languages == ["es", "qu", "en"]

    # Edit: new title, a seasonal price for the adult.
    page = client.get(f"/provider/listings/{listing.pk}/")
    assert page.status_code == 200
    assert "45.50" in page.content.decode()
    adult, child = units["adult"], units["child"]
    data = listing_post(kind, title_en="Renamed")
    data.update(
        units_data(
            [{**ADULT, "id": str(adult.pk)}, {**CHILD, "id": str(child.pk)}], initial=2
        )
    )
    data.update(
        prices_data(
            [
                {
                    "unit": str(adult.pk),
                    "starts": "2027-07-20",
                    "ends": "2027-07-31",
                    "price": "60",
                }
            ]
        )
    )
    response = client.post(f"/provider/listings/{listing.pk}/", data)
    assert response.status_code == 302, response.context["form"].errors
    listing.refresh_from_db()
    assert listing.title_en == "Renamed"
    schedule = PriceSchedule.objects.get(unit=adult)
    assert (schedule.starts, schedule.ends, schedule.price_minor) == (
        dt.date(2027, 7, 20),
        dt.date(2027, 7, 31),
        6000,
    )
    assert ListingUnit.objects.filter(listing=listing).count() == 2


def test_remove_a_unit_and_a_seasonal_price(owner):
    """The DELETE boxes remove a unit and a seasonal price."""
    provider, client = owner
    listing = f.make_listing(provider)
    adult, child = listing.units.order_by("pk")
    schedule = f.make_price_schedule(adult)
    data = listing_post("stay")
    data.update(
        units_data(
            [
                {**ADULT, "id": str(adult.pk)},
                {**CHILD, "id": str(child.pk), "DELETE": "on"},
            ],
            initial=2,
        )
    )
    data.update(
        prices_data(
            [
                {
                    "id": str(schedule.pk),
                    "unit": str(adult.pk),
                    "starts": "2027-07-01",
                    "ends": "2027-07-31",
                    "price": "60.00",
                    "DELETE": "on",
                }
            ],
            initial=1,
        )
    )
    response = client.post(f"/provider/listings/{listing.pk}/", data)
    assert response.status_code == 302
    assert list(listing.units.values_list("code", flat=True)) == ["adult"]
    assert not PriceSchedule.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "where", "field"),
    [
        ({"title_en": ""}, "form", "title_en"),
        ({"default_capacity": "-1"}, "form", "default_capacity"),
        ({"cancellation_refund_percent": "120"}, "form", "cancellation_refund_percent"),
        ({"stay_type": ""}, "form", "stay_type"),
        ({"place": "999999"}, "form", "place"),
        ({"currency": "EUR"}, "form", "currency"),
        ({"tags": ["culture", "casinos"]}, "form", "tags"),
        (units_data([{**ADULT, "price": "abc"}]), "unit", "price"),
        (units_data([{**ADULT, "price": "45.555"}]), "unit", "price"),
        (units_data([{**ADULT, "price": "99999999"}]), "unit", "price"),
        (units_data([{**ADULT, "price": "-1"}]), "unit", "price"),
        (units_data([{**ADULT, "code": "Adult Person"}]), "unit", "code"),
        (units_data([ADULT, {**CHILD, "code": "adult"}]), "unit1", "code"),
        (units_data([{**CHILD, "min_age": "12", "max_age": "3"}]), "unit", "max_age"),
    ],
)
def test_bad_input_shows_field_errors_and_keeps_stored_data(
    owner, overrides, where, field
):
    """Bad input re-renders the editor with the field's error; nothing is stored."""
    provider, client = owner
    listing = f.make_listing(provider)
    before = snapshot(listing)
    data = listing_post("stay")
    data.update(overrides)
    response = client.post(f"/provider/listings/{listing.pk}/", data)
    assert response.status_code == 200
    if where == "form":
        errors = response.context["form"].errors
    else:
        errors = response.context["unit_formset"].forms[int(where[4:] or 0)].errors
    assert errors[field], errors
    assert "Nothing was saved" in response.content.decode()
    assert snapshot(listing) == before


def test_activity_rules_are_field_errors(owner):
    """Maximum below minimum party, bad start times, half a season, closing before
    opening: each on its own field, nothing stored."""
    provider, client = owner
    listing = f.make_listing(provider, kind=Listing.Kind.ACTIVITY)
    before = snapshot(listing)
    data = listing_post(
        "activity",
        min_party="4",
        max_party="2",
        start_times="9am",
        season_end="",
        opens="18:00",
        closes="08:00",
    )
    response = client.post(f"/provider/listings/{listing.pk}/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"start_times"}
    data["start_times"] = "09:00"
    response = client.post(f"/provider/listings/{listing.pk}/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"max_party", "season_end", "closes"} <= set(errors), errors
    assert snapshot(listing) == before


def test_overlapping_seasonal_prices_refused_and_nothing_saved(owner):
    """A service-level refusal (overlapping prices) lands on the price row, and the
    listing's other changes in the same save are not stored either."""
    provider, client = owner
    listing = f.make_listing(provider)
    adult, child = listing.units.order_by("pk")
    before = snapshot(listing)
    data = listing_post("stay", title_en="Should not be saved")
    data.update(
        units_data(
            [{**ADULT, "id": str(adult.pk)}, {**CHILD, "id": str(child.pk)}], initial=2
        )
    )
    period = {"unit": str(adult.pk), "price": "60"}
    data.update(
        prices_data(
            [
                {**period, "starts": "2027-07-01", "ends": "2027-07-31"},
                {**period, "starts": "2027-07-15", "ends": "2027-08-15"},
            ]
        )
    )
    response = client.post(f"/provider/listings/{listing.pk}/", data)
    assert response.status_code == 200
    assert response.context["price_formset"].forms[1].errors["starts"]
    assert snapshot(listing) == before


def test_transport_departures_must_belong_to_the_route(owner):
    """A departure of another leg is refused on ``departures``."""
    _provider, client = owner
    other = Departure.objects.get(leg__slug="cusco-puno-train", code="all-year")
    response = client.post(
        "/provider/listings/new/?kind=transport",
        listing_post("transport", departures=[str(other.pk)]),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["departures"]
    assert not Listing.objects.exists()


def test_a_listing_needs_a_unit(owner):
    """Creating a listing without any unit is refused: it could not be priced."""
    _provider, client = owner
    data = listing_post("stay")
    data.update(units_data([]))
    response = client.post("/provider/listings/new/?kind=stay", data)
    assert response.status_code == 200
    assert response.context["unit_formset"].non_form_errors()
    assert not Listing.objects.exists()


def test_kind_chooser_and_unknown_kind(owner):
    """Without a valid kind the page offers the four kinds."""
    _provider, client = owner
    response = client.get("/provider/listings/new/?kind=casino")
    assert response.status_code == 200
    assert "?kind=transport" in response.content.decode()
