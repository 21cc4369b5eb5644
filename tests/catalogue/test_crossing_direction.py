"""Which border post a ride reaches first comes from its leg, not from coordinates
(both Kasani posts share one point): the clocks move −1 h into Peru, +1 h into
Bolivia, not at all at Tiquina. Every way across the border passes a post whose
hours are checked, the Desaguadero minibus chain included."""

import datetime as dt
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from catalogue import selectors
from catalogue.models import (
    Crossing,
    CrossingHours,
    Place,
    RouteLeg,
)
from catalogue.services import catalogue_audit_run
from itineraries.planning.world import PlanRequest
from itineraries.selectors import world_load

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def _module_route(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The real catalogue, seeded once for the module (rolled back at its end)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_route", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def route(_module_route, db) -> None:
    return None


def _runs(origin: str, destination: str, day: dt.date = MONDAY) -> list:
    return selectors.departure_list_on(
        origin=Place.objects.get(slug=origin),
        destination=Place.objects.get(slug=destination),
        day=day,
    )


def _hours(passage) -> int:
    return passage.clock_change_h


def test_copacabana_to_puno_reaches_the_bolivian_post_first(route):
    """Both Kasani posts have the same coordinates; the leg says Bolivia comes first,
    so the clocks go back an hour."""
    kasani_pe = Place.objects.get(slug="kasani-pe")
    kasani_bo = Place.objects.get(slug="kasani-bo")
    assert (kasani_pe.latitude, kasani_pe.longitude) == (
        kasani_bo.latitude,
        kasani_bo.longitude,
    )
    runs = _runs("copacabana", "puno")
    assert runs
    for run in runs:
        passage = run.passage
        assert passage.first_side.slug == "kasani-bo"
        assert passage.second_side.slug == "kasani-pe"
        assert passage.clock_change == dt.timedelta(hours=-1)
        assert _hours(passage) == -1
        # Reaches the post on Bolivian time, is through it on Peruvian time.
        assert passage.arrive_at.astimezone(passage.first_side.zone).utcoffset() == (
            dt.timedelta(hours=-4)
        )


def test_puno_to_copacabana_moves_the_clocks_forward(route):
    """Peru first, then Bolivia: +1 h, for every bus (the overnight one from Cusco
    too)."""
    for origin in ("puno", "cusco"):
        runs = _runs(origin, "copacabana")
        assert runs
        for run in runs:
            assert run.passage.first_side.slug == "kasani-pe"
            assert _hours(run.passage) == 1


def test_la_paz_to_puno_coach_goes_back_an_hour_at_the_cebaf(route):
    """The coach reaches Desaguadero (Bolivia) first, then the CEBAF building in
    Peru; the other way it is +1 h."""
    (coach,) = _runs("la-paz", "puno")
    assert coach.passage.crossing.slug == "cebaf"
    assert coach.passage.first_side.slug == "desaguadero-bo"
    assert _hours(coach.passage) == -1
    (back,) = _runs("puno", "la-paz")
    assert back.passage.first_side.slug == "cebaf-desaguadero"
    assert _hours(back.passage) == 1


def test_tiquina_keeps_the_clock(route):
    """The strait is inside Bolivia: no clock change either way."""
    for origin, destination, first in (
        ("copacabana", "la-paz", "san-pedro-de-tiquina"),
        ("la-paz", "copacabana", "san-pablo-de-tiquina"),
    ):
        runs = _runs(origin, destination)
        assert runs
        for run in runs:
            assert run.passage.crossing.slug == "tiquina"
            assert run.passage.first_side.slug == first
            assert _hours(run.passage) == 0


def test_the_planner_world_sees_the_same_direction(route):
    """itineraries.selectors.world_load gives the planner the stored first post: the
    Copacabana → Puno ride reaches kasani-bo first, and the clocks move −1 h."""
    world = world_load(
        PlanRequest(
            origin="la-paz",
            destination="cusco",
            start_date=MONDAY,
            days=2,
        ),
        now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    rides = {}
    for ride in world.rides:
        if ride.passage is not None:
            rides.setdefault(ride.leg, ride)
    expected = {
        "copacabana-puno-bus": ("kasani-bo", "kasani-pe", -1),
        "puno-copacabana-bus": ("kasani-pe", "kasani-bo", 1),
        "la-paz-puno-coach": ("desaguadero-bo", "cebaf-desaguadero", -1),
        "copacabana-la-paz-public-bus": (
            "san-pedro-de-tiquina",
            "san-pablo-de-tiquina",
            0,
        ),
        "desaguadero-walk-bo-pe": ("desaguadero-bo", "desaguadero-pe", -1),
    }
    for leg, (first, second, jump) in expected.items():
        passage = rides[leg].passage
        assert (passage.first_side, passage.second_side) == (first, second), leg
        before = world.local(passage.first_side, passage.arrive)
        after = world.local(passage.second_side, passage.arrive)
        shift = (after.utcoffset() - before.utcoffset()) // dt.timedelta(hours=1)
        assert shift == jump, leg


def test_every_way_across_the_border_passes_a_post(route):
    """No leg but a flight links Peru and Bolivia without a border crossing, and each
    crossing leg's first post is one of its crossing's sides, in the origin's
    country."""
    legs = RouteLeg.objects.select_related(
        "origin", "destination", "crossing", "crossing_first_side"
    )
    crossing_border = 0
    for leg in legs:
        if leg.origin.country_id != leg.destination.country_id:
            if leg.mode == RouteLeg.Mode.FLIGHT:
                continue
            assert leg.crossing and leg.crossing.kind == Crossing.Kind.BORDER, leg.slug
            crossing_border += 1
        if leg.crossing:
            sides = (leg.crossing.side_a_id, leg.crossing.side_b_id)
            assert leg.crossing_first_side_id in sides, leg.slug
            assert leg.crossing_first_side.country_id == leg.origin.country_id
    assert crossing_border >= 6


def test_desaguadero_minibus_chain_crosses_on_foot_through_the_posts(route):
    """Puno → Desaguadero (PE) minibus, a walk over the bridge through the
    desaguadero posts (free, frequent), then a minivan to La Paz."""
    walk = RouteLeg.objects.get(
        origin__slug="desaguadero-pe", destination__slug="desaguadero-bo"
    )
    back = RouteLeg.objects.get(
        origin__slug="desaguadero-bo", destination__slug="desaguadero-pe"
    )
    for leg in (walk, back):
        assert leg.mode == RouteLeg.Mode.WALK
        assert leg.crossing.slug == "desaguadero"
        (departure,) = leg.departures.all()
        assert departure.price_minor == 0
        assert len(departure.local_times()) >= 24  # frequent, all day
    assert RouteLeg.objects.filter(
        origin__slug="puno", destination__slug="desaguadero-pe"
    ).exists()
    assert RouteLeg.objects.filter(
        origin__slug="desaguadero-bo", destination__slug="la-paz"
    ).exists()
    runs = _runs("desaguadero-pe", "desaguadero-bo")
    assert runs and all(r.passage.passable for r in runs)
    assert all(_hours(r.passage) == 1 for r in runs)


def test_the_foot_crossing_is_checked_against_the_posts_hours(route):
    """Were the Peruvian post open 08:00–20:00 only, the 06:00 walk would be refused
    with the post's local hours, and the 10:00 one allowed."""
    CrossingHours.objects.filter(crossing__slug="desaguadero", side="a").update(
        opens=dt.time(8), closes=dt.time(20)
    )
    runs = {
        r.depart_local.strftime("%H:%M"): r
        for r in _runs("desaguadero-pe", "desaguadero-bo")
    }
    early, midday = runs["06:00"], runs["10:00"]
    assert not early.passage.passable
    (problem,) = early.passage.problems
    assert "06:05" in problem and "-05:00" in problem and "08:00–20:00" in problem
    assert midday.passage.passable
    # Bolivia → Peru: the Bolivian post is reached first; the Peruvian one is checked
    # on Peruvian time when the walker is through (05:35 PET is before it opens).
    back = {
        r.depart_local.strftime("%H:%M"): r
        for r in _runs("desaguadero-bo", "desaguadero-pe")
    }
    assert not back["06:00"].passage.passable
    assert back["10:00"].passage.passable


def test_a_closed_border_blocks_the_walk(route):
    """Staff closing the Desaguadero crossing refuse every foot crossing."""
    Crossing.objects.filter(slug="desaguadero").update(
        status=Crossing.Status.CLOSED, status_note="blockade"
    )
    runs = _runs("desaguadero-pe", "desaguadero-bo")
    assert runs and not any(r.passage.passable for r in runs)


def test_a_first_post_that_is_not_a_side_refuses_the_passage(route):
    """A leg whose stored first post stopped being a side (a raw database edit) is
    refused rather than guessed, and the daily audit names it."""
    leg = RouteLeg.objects.get(slug="copacabana-puno-bus")
    RouteLeg.objects.filter(pk=leg.pk).update(
        crossing_first_side=Place.objects.get(slug="cebaf-desaguadero")
    )
    (run,) = _runs("copacabana", "puno")
    assert not run.passage.passable
    assert "staff must correct" in run.passage.problems[0]
    audit = catalogue_audit_run(today=MONDAY)
    assert any(
        f["kind"] == "leg_first_side_not_a_side"
        and f["object"] == "copacabana-puno-bus"
        for f in audit.findings
    )
    assert audit.unverified_counts["Sights"] == 43
    assert "Transfers" in audit.unverified_counts


def test_departures_api_shows_the_direction(route, client):
    """The API's passage names both posts and the clock change."""
    response = client.get("/api/v1/departures/?from=copacabana&to=puno&date=2026-06-01")
    assert response.status_code == 200
    crossing = response.json()[0]["crossing"]
    assert (crossing["first_side"], crossing["second_side"]) == (
        "kasani-bo",
        "kasani-pe",
    )
    assert crossing["clock_change_h"] == -1
    assert crossing["arrive"].endswith("-04:00")
    assert crossing["leave"].endswith("-05:00")
    going = client.get("/api/v1/departures/?from=puno&to=copacabana&date=2026-06-01")
    assert {d["crossing"]["clock_change_h"] for d in going.json()} == {1}
