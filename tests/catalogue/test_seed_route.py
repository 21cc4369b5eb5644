"""The real route catalogue file and the seed_route command."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from catalogue import selectors
from catalogue.models import Crossing, Departure, ExchangeRate, Place, RouteLeg

pytestmark = pytest.mark.django_db

SEEDED_MODELS = (Place, Crossing, RouteLeg, Departure, ExchangeRate)

REQUIRED_PLACES = {
    "cusco",
    "puno",
    "juliaca",
    "copacabana",
    "la-paz",
    "el-alto",
    "yunguyo",
    "kasani-pe",
    "kasani-bo",
    "desaguadero-pe",
    "desaguadero-bo",
    "san-pablo-de-tiquina",
    "san-pedro-de-tiquina",
    "uros",
    "taquile",
    "amantani",
    "llachon",
    "sillustani",
    "raqchi",
    "isla-del-sol-yumani",
    "isla-del-sol-challapampa",
    "tiwanaku",
}


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_route", stdout=out)
    return out.getvalue()


def test_seed_route_is_idempotent(seeded):
    """Running seed_route twice changes nothing the second time."""
    assert "Route catalogue loaded." in seeded
    counts = [m.objects.count() for m in SEEDED_MODELS]
    out = StringIO()
    call_command("seed_route", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert counts == [m.objects.count() for m in SEEDED_MODELS]


def test_required_places_with_altitude_and_zone(seeded):
    """Every place the route needs exists, in the right country's zone."""
    places = {p.slug: p for p in Place.objects.select_related("country")}
    assert set(places) >= REQUIRED_PLACES
    for slug in REQUIRED_PLACES:
        place = places[slug]
        assert 3000 < place.altitude_m < 4500, slug
        expected = "America/Lima" if place.country.code == "PE" else "America/La_Paz"
        assert place.country.timezone == expected
    assert places["copacabana"].country.code == "BO"
    assert places["puno"].country.code == "PE"


def test_every_fact_has_a_source_and_flagged_facts_are_unverified(seeded):
    """Sources are never blank; research flags become verified=False."""
    for model in SEEDED_MODELS:
        assert not model.objects.filter(source="").exists(), model
    # route-facts marks Yunguyo's altitude and the train's days as unverified/old.
    assert not Place.objects.get(slug="yunguyo").verified
    assert not Departure.objects.filter(leg__mode="train", verified=True).exists()


def test_titicaca_train_is_not_daily(seeded):
    """The train leaves Cusco on some weekdays only."""
    cusco, puno = Place.objects.get(slug="cusco"), Place.objects.get(slug="puno")
    week = [dt.date(2026, 6, 1) + dt.timedelta(days=i) for i in range(7)]
    running = [
        day
        for day in week
        if selectors.departure_list_on(
            origin=cusco, destination=puno, day=day, mode="train"
        )
    ]
    assert 0 < len(running) < 7


def test_border_buses_cross_at_kasani_with_offsets(seeded):
    """Puno → Copacabana buses leave at −05:00, arrive at −04:00, via Kasani."""
    runs = selectors.departure_list_on(
        origin=Place.objects.get(slug="puno"),
        destination=Place.objects.get(slug="copacabana"),
        day=dt.date(2026, 6, 1),
    )
    assert runs
    for run in runs:
        assert run.depart_local.isoformat().endswith("-05:00")
        assert run.arrive_local.isoformat().endswith("-04:00")
        assert run.passage is not None and run.passage.crossing.slug == "kasani"
    assert any(run.passage.passable for run in runs)


def test_tiquina_is_a_strait_with_daytime_hours(seeded):
    """Copacabana ↔ La Paz buses pass the Tiquina strait, which has no night service."""
    tiquina = Crossing.objects.get(kind=Crossing.Kind.STRAIT)
    assert RouteLeg.objects.filter(
        crossing=tiquina, origin__slug="copacabana", destination__slug="la-paz"
    ).exists()
    for hours in tiquina.hours.all():
        assert hours.opens >= dt.time(4, 0) and hours.closes <= dt.time(22, 0)
