"""Time arithmetic of departures and border passages, on the small catalogue."""

import datetime as dt

import pytest

from catalogue import selectors
from catalogue.models import Crossing, Departure, Place
from catalogue.services import crossing_status_set

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)


def _runs(origin: str, destination: str, day: dt.date) -> list:
    return selectors.departure_list_on(
        origin=Place.objects.get(slug=origin),
        destination=Place.objects.get(slug=destination),
        day=day,
    )


def test_puno_to_copacabana_jumps_one_hour_at_the_border(small_catalogue):
    """A 3 h 30 ride leaving 07:30 in Peru arrives 12:00 Bolivian time (UTC−4)."""
    first = _runs("puno", "copacabana", MONDAY)[0]
    assert first.depart_local.isoformat() == "2026-03-02T07:30:00-05:00"
    assert first.arrive_local.isoformat() == "2026-03-02T12:00:00-04:00"
    assert first.arrive_at - first.depart_at == dt.timedelta(minutes=210)
    assert first.depart_at.utcoffset() == dt.timedelta(0)


def test_copacabana_to_puno_loses_the_hour_back(small_catalogue):
    """Westbound, 3 h 30 elapsed shows as 2 h 30 on the clocks."""
    (run,) = _runs("copacabana", "puno", MONDAY)
    assert run.depart_local.isoformat() == "2026-03-02T13:30:00-04:00"
    assert run.arrive_local.isoformat() == "2026-03-02T16:00:00-05:00"
    assert run.passage is not None
    assert run.passage.first_side.slug == "kasani-bo"


def test_passage_inside_opening_hours_is_passable(small_catalogue):
    """The 14:30 bus reaches Kasani at 17:00 Peru time, inside 07:00–20:00."""
    pm = next(
        r for r in _runs("puno", "copacabana", MONDAY) if r.departure.code == "pm"
    )
    assert (
        pm.passage.arrive_at.astimezone(pm.passage.first_side.zone).strftime("%H:%M")
        == "17:00"
    )
    assert pm.passage.passable
    assert pm.warnings == []


def test_passage_after_the_post_closes_is_not_passable(small_catalogue):
    """The 18:00 bus reaches Kasani at 20:30 Peru time, after it closes at 20:00."""
    late = next(
        r for r in _runs("puno", "copacabana", MONDAY) if r.departure.code == "late"
    )
    assert not late.passage.passable
    peru, bolivia = late.passage.problems  # both posts are closed by then
    assert "20:30" in peru and "-05:00" in peru and "07:00–20:00" in peru
    assert "-04:00" in bolivia and "08:00–21:00" in bolivia
    assert any("not verified" in w for w in late.warnings)


def test_closed_crossing_blocks_every_passage(small_catalogue):
    """Staff closing the crossing makes every passage impassable, with the reason."""
    crossing = Crossing.objects.get(slug="kasani")
    crossing_status_set(crossing=crossing, status="closed", note="road blockade")
    runs = _runs("puno", "copacabana", MONDAY)
    assert runs and all(not r.passage.passable for r in runs)
    assert "road blockade" in runs[0].passage.problems[0]


def test_disrupted_crossing_is_passable_with_a_warning(small_catalogue):
    """Disrupted is a warning, not a refusal."""
    crossing = Crossing.objects.get(slug="kasani")
    crossing_status_set(crossing=crossing, status="disrupted", note="long queues")
    am = _runs("puno", "copacabana", MONDAY)[0]
    assert am.passage.passable
    assert any("long queues" in w for w in am.warnings)


@pytest.mark.parametrize(
    ("day", "codes"),
    [
        (dt.date(2026, 3, 2), ["all-year"]),  # Monday
        (dt.date(2026, 3, 3), []),  # Tuesday: the train does not run
        (dt.date(2026, 3, 6), []),  # Friday outside the Apr–Oct season
        (dt.date(2026, 5, 8), ["dry-season-fri"]),  # Friday in season
        (dt.date(2026, 5, 9), ["all-year"]),  # Saturday
    ],
)
def test_train_runs_only_on_its_days(small_catalogue, day, codes):
    """The Titicaca train is not daily; its Friday run is seasonal."""
    assert [r.departure.code for r in _runs("cusco", "puno", day)] == codes


def test_frequent_service_expands_to_each_departure(small_catalogue):
    """A service every 30 min from 07:30 to 09:00 gives four runs."""
    Departure.objects.filter(leg__slug="puno-copacabana-bus", code="am").update(
        every_min=30, last_departure_time=dt.time(9, 0)
    )
    times = [
        r.depart_local.strftime("%H:%M")
        for r in _runs("puno", "copacabana", MONDAY)
        if r.departure.code == "am"
    ]
    assert times == ["07:30", "08:00", "08:30", "09:00"]


def test_runs_are_sorted_by_absolute_departure(small_catalogue):
    """Runs come in departure order."""
    runs = _runs("puno", "copacabana", MONDAY)
    assert [r.depart_at for r in runs] == sorted(r.depart_at for r in runs)
    assert len(runs) == 3
