"""Model rules: schedules, seasons and database constraints."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalogue.models import CrossingHours, Departure, RouteLeg, parse_month_day


def _departure(**overrides) -> Departure:
    values = {
        "code": "x",
        "operator": "Op",
        "departure_time": dt.time(7, 0),
        "duration_min": 60,
        "price_minor": 100,
        "currency": "PEN",
        "seats": 10,
        "source": "test",
    }
    return Departure(**{**values, **overrides})


@pytest.mark.parametrize(
    ("start", "end", "day", "expected"),
    [
        ("04-01", "10-31", dt.date(2026, 4, 1), True),
        ("04-01", "10-31", dt.date(2026, 10, 31), True),
        ("04-01", "10-31", dt.date(2026, 11, 1), False),
        ("11-01", "03-31", dt.date(2026, 12, 31), True),  # wraps the year end
        ("11-01", "03-31", dt.date(2027, 1, 15), True),
        ("11-01", "03-31", dt.date(2026, 6, 15), False),
    ],
)
def test_season_window(start, end, day, expected):
    """Annual seasons include both ends and may wrap around New Year."""
    assert _departure(season_start=start, season_end=end).runs_on(day) is expected


def test_validity_dates_bound_the_service():
    """Outside valid_from..valid_until the service does not run."""
    dep = _departure(valid_from=dt.date(2026, 1, 10), valid_until=dt.date(2026, 1, 20))
    assert not dep.runs_on(dt.date(2026, 1, 9))
    assert dep.runs_on(dt.date(2026, 1, 10))
    assert dep.runs_on(dt.date(2026, 1, 20))
    assert not dep.runs_on(dt.date(2026, 1, 21))


def test_weekday_flags():
    """A Mon/Wed/Sat service does not run on Tuesday."""
    flags = dict.fromkeys(("tue", "thu", "fri", "sun"), False)
    dep = _departure(**flags)
    assert dep.weekdays == ["mon", "wed", "sat"]
    assert dep.runs_on(dt.date(2026, 3, 2))
    assert not dep.runs_on(dt.date(2026, 3, 3))


def test_parse_month_day():
    """MM-DD parses; nonsense does not; 29 February is allowed."""
    assert parse_month_day("04-01") == (4, 1)
    assert parse_month_day("02-29") == (2, 29)
    assert parse_month_day("13-01") is None
    assert parse_month_day("April") is None


def test_clean_names_the_bad_fields():
    """Model validation names the season field and requires a weekday."""
    flags = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), False)
    with pytest.raises(ValidationError) as exc:
        _departure(season_start="4-1x", season_end="10-31", **flags).clean()
    assert set(exc.value.message_dict) == {"season_start", "mon"}


@pytest.mark.django_db
def test_database_refuses_half_a_frequency(small_catalogue):
    """every_min without a last departure is refused by the database itself."""
    leg = RouteLeg.objects.get(slug="cusco-puno-train")
    with pytest.raises(IntegrityError), transaction.atomic():
        _departure(leg=leg, code="bad", every_min=30).save()


@pytest.mark.django_db
def test_database_refuses_reversed_hours(small_catalogue):
    """Closing before opening is refused by a check constraint."""
    hours = CrossingHours.objects.get(crossing__slug="kasani", side="a")
    hours.opens, hours.closes = dt.time(21, 0), dt.time(7, 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        hours.save()


@pytest.mark.django_db
def test_database_refuses_a_leg_to_itself(small_catalogue):
    """A leg's origin and destination differ."""
    leg = RouteLeg.objects.get(slug="cusco-puno-train")
    leg.destination = leg.origin
    with pytest.raises(IntegrityError), transaction.atomic():
        leg.save()
