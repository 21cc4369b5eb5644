"""Seeding, crossing status and the catalogue audit."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from catalogue.models import CatalogueAudit, Country, Crossing, Departure, Place
from catalogue.services import (
    SeedError,
    catalogue_audit_run,
    catalogue_seed,
    crossing_status_set,
    money_to_minor,
)

pytestmark = pytest.mark.django_db


def test_seeding_twice_changes_nothing(small_catalogue_data):
    """The second run creates and updates nothing."""
    first = catalogue_seed(data=small_catalogue_data)
    assert first.changed
    counts = {m: m.objects.count() for m in (Country, Place, Crossing, Departure)}
    second = catalogue_seed(data=small_catalogue_data)
    assert not second.changed
    assert sum(second.unchanged.values()) == sum(first.created.values())
    assert counts == {m: m.objects.count() for m in counts}


def test_reseed_keeps_staff_corrections_unless_update(small_catalogue_data):
    """A staff edit survives a plain re-seed; --update brings back the file's value."""
    catalogue_seed(data=small_catalogue_data)
    Place.objects.filter(slug="puno").update(altitude_m=3830, verified=True)
    catalogue_seed(data=small_catalogue_data)
    assert Place.objects.get(slug="puno").altitude_m == 3830
    report = catalogue_seed(data=small_catalogue_data, update=True)
    assert report.updated["Places"] == 1
    assert Place.objects.get(slug="puno").altitude_m == 3827


def test_bad_record_writes_nothing(small_catalogue_data):
    """A malformed record names itself and the whole seed rolls back."""
    small_catalogue_data["legs"][0]["departures"][0]["time"] = "7h30"
    with pytest.raises(SeedError, match="leg puno-copacabana-bus departure am"):
        catalogue_seed(data=small_catalogue_data)
    assert not Place.objects.exists()


def test_unknown_place_is_refused(small_catalogue_data):
    """A leg to a place that is not in the file is refused by name."""
    small_catalogue_data["legs"][0]["destination"] = "atlantis"
    with pytest.raises(SeedError, match="unknown place 'atlantis'"):
        catalogue_seed(data=small_catalogue_data)


def test_invalid_time_zone_is_refused(small_catalogue_data):
    """Model validation runs on seeded rows (an invalid IANA zone)."""
    small_catalogue_data["countries"][0]["timezone"] = "Peru/Puno"
    with pytest.raises(SeedError, match="timezone"):
        catalogue_seed(data=small_catalogue_data)


def test_missing_source_is_refused(small_catalogue_data):
    """Every seeded fact must carry its source."""
    del small_catalogue_data["places"][0]["source"]
    with pytest.raises(SeedError, match="source"):
        catalogue_seed(data=small_catalogue_data)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("18.00", "PEN", 1800), ("2", "BOB", 200), ("275.5", "USD", 27550), (0, "PEN", 0)],
)
def test_money_to_minor(amount, currency, minor):
    """Decimal amounts become integer minor units."""
    assert money_to_minor(amount, currency) == minor


@pytest.mark.parametrize("amount", ["1.005", "-3", "abc"])
def test_money_to_minor_refuses(amount):
    """Sub-cent, negative and non-numeric amounts are refused."""
    with pytest.raises(ValueError):
        money_to_minor(amount, "PEN")


def test_status_since_moves_only_on_change(small_catalogue):
    """Editing the note keeps status_since; a new status moves it."""
    crossing = Crossing.objects.get(slug="kasani")
    when = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    crossing_status_set(crossing=crossing, status="disrupted", note="wind", at=when)
    crossing_status_set(
        crossing=crossing,
        status="disrupted",
        note="wind, 2 m waves",
        at=when.replace(day=2),
    )
    crossing.refresh_from_db()
    assert (crossing.status, crossing.status_since) == ("disrupted", when)
    assert crossing.status_note == "wind, 2 m waves"
    with pytest.raises(ValidationError):
        crossing_status_set(crossing=crossing, status="maybe")


def test_audit_reports_what_staff_must_check(small_catalogue):
    """Expiring timetables, closed crossings and unverified counts are recorded."""
    Departure.objects.filter(code="am").update(valid_until=dt.date(2026, 3, 10))
    crossing_status_set(
        crossing=Crossing.objects.get(slug="kasani"), status="closed", note="blockade"
    )
    audit = catalogue_audit_run(today=dt.date(2026, 3, 1))
    kinds = sorted(f["kind"] for f in audit.findings)
    assert kinds == ["crossing_closed", "departure_expiring"]
    assert audit.unverified_counts["Departures"] == 1
    later = catalogue_audit_run(today=dt.date(2026, 3, 11))
    assert "departure_expired" in {f["kind"] for f in later.findings}
    assert CatalogueAudit.objects.count() == 2
