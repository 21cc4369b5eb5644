"""Sights, their opening hours, transfers, and a leg's first border post: the rules
the database enforces and the ones model validation (the admin, the seed) adds."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalogue.models import (
    Crossing,
    Place,
    RouteLeg,
    Sight,
    SightHours,
    Transfer,
)

pytestmark = pytest.mark.django_db


def _sight(**overrides) -> Sight:
    values = {
        "slug": "test-plaza",
        "place": Place.objects.get(slug="puno"),
        "name_en": "Plaza",
        "name_es": "Plaza",
        "description_en": "A square.",
        "description_es": "Una plaza.",
        "latitude": Decimal("-15.84"),
        "longitude": Decimal("-70.02"),
        "altitude_m": 3827,
        "visit_min": 30,
        "fee_minor": 0,
        "fee_currency": "PEN",
        "tags": ["culture"],
        "effort": Sight.Effort.EASY,
        "source": "test",
    }
    values.update(overrides)
    return Sight(**values)


def _transfer(**overrides) -> Transfer:
    values = {
        "slug": "puno-cusco-test",
        "origin": Place.objects.get(slug="puno"),
        "destination": Place.objects.get(slug="cusco"),
        "mode": Transfer.Mode.TAXI,
        "minutes": 40,
        "price_minor": 5000,
        "currency": "PEN",
        "price_per": Transfer.PricePer.VEHICLE,
        "vehicle_seats": 4,
        "frequency": Transfer.Frequency.ON_DEMAND,
        "source": "test",
    }
    values.update(overrides)
    return Transfer(**values)


def _refused_by_database(obj) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


# ------------------------------------------------------------------ sights


@pytest.mark.parametrize(
    "overrides",
    [
        {"latitude": None},  # one coordinate without the other
        {"visit_min": 0},
        {"always_open": True, "hours_known": False},
        {"fee_year": 1850},
        {"min_nights_at_altitude": 30},
    ],
)
def test_sight_rules_hold_in_the_database(small_catalogue, overrides):
    """Rows written past model validation still cannot break the sight's rules."""
    _refused_by_database(_sight(**overrides))


def test_a_sight_may_have_no_coordinates_and_no_known_fee(small_catalogue):
    """n/f in the research: coordinates, altitude and fee may all be empty."""
    sight = _sight(latitude=None, longitude=None, altitude_m=None, fee_minor=None)
    sight.full_clean()
    sight.save()
    assert Sight.objects.get(slug="test-plaza").fee_minor is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tags": ["culture", "volcanoes"]}, "tags"),
        ({"tags": "culture"}, "tags"),
        ({"tags": ["lake", "lake"]}, "tags"),
        ({"longitude": None}, "longitude"),
        ({"effort": "heroic"}, "effort"),
        ({"fee_currency": "EUR"}, "fee_currency"),
        ({"always_open": True, "hours_known": False}, "hours_known"),
    ],
)
def test_sight_validation_names_the_field(small_catalogue, overrides, field):
    """The admin and the seed get an error on the field at fault."""
    with pytest.raises(ValidationError) as exc:
        _sight(**overrides).full_clean()
    assert field in exc.value.message_dict


def test_sight_hours_need_a_day_and_an_order(small_catalogue):
    """Closing after opening, and at least one day of the week."""
    sight = _sight()
    sight.save()
    backwards = SightHours(sight=sight, opens=dt.time(17), closes=dt.time(9))
    _refused_by_database(backwards)
    no_day = SightHours(
        sight=sight,
        opens=dt.time(9),
        closes=dt.time(17),
        **dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), False),
    )
    _refused_by_database(no_day)
    with pytest.raises(ValidationError) as exc:
        no_day.full_clean()
    assert "mon" in exc.value.message_dict


def test_windows_follow_the_days_of_each_row(small_catalogue):
    """Two windows on weekdays, one on Sunday (local time); all day when always open."""
    sight = _sight()
    sight.save()
    SightHours.objects.create(sight=sight, opens=dt.time(7), closes=dt.time(12))
    SightHours.objects.create(
        sight=sight, opens=dt.time(15), closes=dt.time(18), sun=False
    )
    monday, sunday = dt.date(2026, 6, 1), dt.date(2026, 6, 7)
    assert sight.windows_on(monday) == [
        (dt.time(7), dt.time(12)),
        (dt.time(15), dt.time(18)),
    ]
    assert sight.windows_on(sunday) == [(dt.time(7), dt.time(12))]
    sight.hours.all().delete()
    sight.always_open = True
    assert sight.windows_on(sunday) == [(dt.time(0), dt.time(23, 59))]


# ------------------------------------------------------------------ transfers


@pytest.mark.parametrize(
    "overrides",
    [
        {"destination_slug": "puno"},  # to itself
        {"minutes": 0},
        {"minutes_max": 30},  # below the typical 40
        {"price_max_minor": 100},  # below the price
        {"vehicle_seats": None},  # per vehicle without seats
        {"price_per": Transfer.PricePer.PERSON},  # per person with seats
        {"service_from": dt.time(8)},  # a window without its end
        {"service_from": dt.time(18), "service_until": dt.time(8)},
        {"price_year": 1900},
    ],
)
def test_transfer_rules_hold_in_the_database(small_catalogue, overrides):
    """Rows written past model validation still cannot break the transfer's rules."""
    slug = overrides.pop("destination_slug", None)
    if slug:
        overrides["destination"] = Place.objects.get(slug=slug)
    _refused_by_database(_transfer(**overrides))


def test_a_transfer_never_crosses_the_border(small_catalogue):
    """Puno → Copacabana is a leg through Kasani (its posts' hours are checked), never
    a transfer."""
    transfer = _transfer(destination=Place.objects.get(slug="copacabana"))
    with pytest.raises(ValidationError) as exc:
        transfer.full_clean()
    assert "destination" in exc.value.message_dict


def test_party_price_counts_whole_vehicles(small_catalogue):
    """A taxi for 4 seats: 1–4 persons pay one car, 5 pay two; per person scales."""
    taxi = _transfer()
    assert [taxi.price_for(n) for n in (1, 4, 5, 9)] == [5000, 5000, 10000, 15000]
    combi = _transfer(
        price_per=Transfer.PricePer.PERSON, vehicle_seats=None, price_minor=500
    )
    assert combi.price_for(3) == 1500
    with pytest.raises(ValueError):
        combi.price_for(0)


def test_service_window_is_read_at_the_origin(small_catalogue):
    """A tour leaving 14:00–14:30 cannot be started at 15:00; no window: any time."""
    tour = _transfer(service_from=dt.time(14), service_until=dt.time(14, 30))
    assert tour.can_start_at(dt.time(14, 15))
    assert not tour.can_start_at(dt.time(15))
    assert _transfer().can_start_at(dt.time(3))


# ------------------------------------------------------------------ legs' first post


def test_leg_first_post_goes_with_its_crossing(small_catalogue):
    """The database refuses a leg through a crossing without its first post, and a
    first post on a leg without a crossing."""
    leg = RouteLeg.objects.get(slug="puno-copacabana-bus")
    with pytest.raises(IntegrityError), transaction.atomic():
        RouteLeg.objects.filter(pk=leg.pk).update(crossing_first_side=None)
    train = RouteLeg.objects.get(slug="cusco-puno-train")
    with pytest.raises(IntegrityError), transaction.atomic():
        RouteLeg.objects.filter(pk=train.pk).update(
            crossing_first_side=Place.objects.get(slug="puno")
        )


def test_leg_first_post_must_be_a_side_of_its_crossing(small_catalogue):
    """Puno is not a side of Kasani: the admin says so on the field."""
    leg = RouteLeg.objects.get(slug="puno-copacabana-bus")
    leg.crossing_first_side = Place.objects.get(slug="puno")
    with pytest.raises(ValidationError) as exc:
        leg.full_clean()
    assert "crossing_first_side" in exc.value.message_dict
    leg.crossing_first_side = Place.objects.get(slug="kasani-bo")
    leg.full_clean()  # the other side is a side: accepted


def test_a_leg_between_countries_passes_a_border_crossing(small_catalogue):
    """A bus from Puno to Copacabana without a crossing would skip the posts' hours."""
    leg = RouteLeg.objects.get(slug="puno-copacabana-bus")
    leg.crossing = None
    leg.crossing_offset_min = None
    leg.crossing_first_side = None
    with pytest.raises(ValidationError) as exc:
        leg.full_clean()
    assert "crossing" in exc.value.message_dict
    leg.mode = RouteLeg.Mode.FLIGHT  # airports have their own immigration
    leg.full_clean()


def test_crossing_sides_cannot_strand_a_legs_first_post(small_catalogue):
    """Changing Kasani's Bolivian side to Copacabana would leave the Copacabana →
    Puno bus reaching a post that is no longer a side."""
    kasani = Crossing.objects.get(slug="kasani")
    kasani.side_b = Place.objects.get(slug="copacabana")
    with pytest.raises(ValidationError) as exc:
        kasani.full_clean()
    assert "copacabana-puno-bus" in str(exc.value)
