"""Admin-kept exchange rates: conversion in minor units, the current rate, the seed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from catalogue.models import CURRENCY_EXPONENT, ExchangeRate
from catalogue.selectors import MissingRateError, RateTable, exchange_rates_current
from catalogue.services import (
    ROUTE_DATA,
    SeedError,
    catalogue_seed,
    catalogue_seed_from_file,
)

RATES = RateTable(per_usd={"PEN": Decimal("3.75"), "BOB": Decimal("6.96")})


# --- Conversion (no database) -----------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        (696, "BOB", "USD", 100),  # Bs 6.96 = US$1.00
        (100, "USD", "BOB", 696),
        (375, "PEN", "USD", 100),  # S/3.75 = US$1.00
        (375, "PEN", "BOB", 696),  # S/3.75 = US$1 = Bs 6.96
        (1000, "PEN", "BOB", 1856),  # S/10.00 = US$2.666… = Bs 18.56 exactly
        (696, "BOB", "PEN", 375),
        (2500, "BOB", "PEN", 1347),  # Bs 25 = S/13.469… → S/13.47
        (0, "BOB", "USD", 0),
    ],
)
def test_convert_known_answers(amount, source, target, expected):
    """Minor units convert through USD at the table's rates."""
    assert RATES.convert_minor(amount, source, target) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1, 0),  # 0.25 → 0
        (2, 1),  # 0.5 → 1 (banker's rounding would give 0)
        (6, 2),  # 1.5 → 2
        (10, 3),  # 2.5 → 3 (banker's rounding would give 2)
        (11, 3),  # 2.75 → 3
        (-2, -1),  # a half rounds away from zero for refunds too
        (-10, -3),
    ],
)
def test_rounding_is_half_up_to_the_target_minor_unit(amount, expected):
    """At 4 PEN per USD, a result of exactly half a cent rounds up."""
    table = RateTable(per_usd={"PEN": Decimal(4)})
    assert table.convert_minor(amount, "PEN", "USD") == expected


def test_rounding_half_up_when_multiplying():
    """At 6.5 BOB per USD one US cent is 6.5 centavos: 7, not 6."""
    table = RateTable(per_usd={"BOB": Decimal("6.5")})
    assert table.convert_minor(1, "USD", "BOB") == 7
    assert table.convert_minor(3, "USD", "BOB") == 20  # 19.5


def test_same_currency_is_unchanged_even_without_a_rate():
    """Same currency returns the amount untouched; no rate is needed."""
    empty = RateTable(per_usd={})
    assert empty.convert_minor(12345, "PEN", "PEN") == 12345
    assert RATES.convert_minor(-7, "USD", "USD") == -7


def test_currency_exponent_is_honoured(monkeypatch):
    """A currency without minor units (exponent 0) converts to whole units."""
    monkeypatch.setitem(CURRENCY_EXPONENT, "CLP", 0)
    table = RateTable(per_usd={"CLP": Decimal(900), "BOB": Decimal("6.96")})
    assert table.convert_minor(100, "USD", "CLP") == 900  # US$1.00 = 900 CLP
    assert table.convert_minor(900, "CLP", "USD") == 100
    assert table.convert_minor(900, "CLP", "BOB") == 696
    assert table.convert_minor(1, "USD", "CLP") == 9


def test_large_amounts_stay_exact():
    """No float or precision loss on big totals."""
    assert RATES.convert_minor(696 * 10**15, "BOB", "USD") == 100 * 10**15


@pytest.mark.parametrize(
    ("source", "target", "missing"),
    [("BOB", "USD", "BOB"), ("USD", "BOB", "BOB"), ("EUR", "PEN", "EUR")],
)
def test_missing_rate_names_the_currency(source, target, missing):
    """A currency with no rate raises MissingRateError (a ValueError) naming it."""
    table = RateTable(per_usd={"PEN": Decimal("3.75")})
    with pytest.raises(MissingRateError, match=missing) as exc:
        table.convert_minor(100, source, target)
    assert isinstance(exc.value, ValueError)
    assert exc.value.currency == missing


def test_rate_table_always_has_usd_and_refuses_bad_rates():
    """USD is 1; a different USD rate or a non-positive rate is refused."""
    assert RATES.per_usd["USD"] == Decimal(1)
    with pytest.raises(ValueError, match="USD"):
        RateTable(per_usd={"USD": Decimal(2)})
    with pytest.raises(ValueError, match="PEN"):
        RateTable(per_usd={"PEN": Decimal(0)})


# --- The table in the database ------------------------------------------------------


def _rate(currency: str, per_usd: str, set_on: dt.date) -> ExchangeRate:
    return ExchangeRate.objects.create(
        currency=currency, per_usd=Decimal(per_usd), set_on=set_on, source="test"
    )


@pytest.mark.django_db
def test_latest_set_on_wins_then_latest_id(django_assert_num_queries):
    """The current rate is the latest set_on, then the latest row; one query."""
    _rate("PEN", "3.70", dt.date(2026, 1, 1))
    _rate("PEN", "3.36", dt.date(2026, 1, 13))
    _rate("PEN", "3.90", dt.date(2025, 12, 31))  # entered last, but older
    _rate("BOB", "6.96", dt.date(2025, 12, 1))
    _rate("BOB", "9.32", dt.date(2025, 12, 1))  # same day, entered later
    with django_assert_num_queries(1):
        table = exchange_rates_current()
    assert table.per_usd == {
        "USD": Decimal(1),
        "PEN": Decimal("3.36"),
        "BOB": Decimal("9.32"),
    }
    assert table.set_on == {"PEN": dt.date(2026, 1, 13), "BOB": dt.date(2025, 12, 1)}
    assert table.convert_minor(336, "PEN", "USD") == 100


@pytest.mark.django_db
def test_no_rows_means_only_usd():
    """Without rows only USD converts; others raise MissingRateError."""
    table = exchange_rates_current()
    assert table.per_usd == {"USD": Decimal(1)}
    with pytest.raises(MissingRateError, match="PEN"):
        table.convert_minor(100, "PEN", "USD")


@pytest.mark.django_db
@pytest.mark.parametrize("per_usd", ["0", "-6.96"])
def test_database_refuses_non_positive_rate(per_usd):
    """The check constraint refuses per_usd <= 0 even without validation."""
    with pytest.raises(IntegrityError), transaction.atomic():
        _rate("BOB", per_usd, dt.date(2026, 1, 1))


@pytest.mark.django_db
def test_database_refuses_a_usd_row():
    """USD is the base: a USD row is refused by the database."""
    with pytest.raises(IntegrityError), transaction.atomic():
        _rate("USD", "1", dt.date(2026, 1, 1))


def test_validation_refuses_zero_and_usd():
    """full_clean (the admin form) refuses a zero rate and USD."""
    rate = ExchangeRate(
        currency="USD", per_usd=Decimal(0), set_on=dt.date(2026, 1, 1), source="x"
    )
    with pytest.raises(ValidationError) as exc:
        rate.full_clean(validate_constraints=False)
    assert {"currency", "per_usd"} <= set(exc.value.message_dict)


# --- Seeding -------------------------------------------------------------------------

SEED = {
    "exchange_rates": [
        {
            "currency": "PEN",
            "per_usd": "3.75",
            "set_on": dt.date(2026, 1, 13),
            "source": "test",
            "verified": False,
            "note": "approximation",
        },
        {
            "currency": "BOB",
            "per_usd": "6.96",
            "set_on": "2025-12-01",
            "source": "test",
            "verified": True,
        },
    ]
}


@pytest.mark.django_db
def test_seed_is_idempotent_and_keeps_staff_edits():
    """Same currency and set_on is the same row; staff edits survive unless update."""
    first = catalogue_seed(data=SEED)
    assert first.created["Exchange Rates"] == 2
    again = catalogue_seed(data=SEED)
    assert not again.changed and again.unchanged["Exchange Rates"] == 2
    assert ExchangeRate.objects.count() == 2

    ExchangeRate.objects.filter(currency="PEN").update(per_usd=Decimal("3.40"))
    assert not catalogue_seed(data=SEED).changed
    assert exchange_rates_current().per_usd["PEN"] == Decimal("3.40")
    updated = catalogue_seed(data=SEED, update=True)
    assert updated.updated["Exchange Rates"] == 1
    assert exchange_rates_current().per_usd["PEN"] == Decimal("3.75")


@pytest.mark.django_db
def test_seed_leaves_a_newer_staff_rate_current():
    """A rate staff add later stays the current one after a re-seed."""
    catalogue_seed(data=SEED)
    _rate("BOB", "9.32", dt.date(2026, 6, 1))
    catalogue_seed(data=SEED, update=True)
    assert exchange_rates_current().per_usd["BOB"] == Decimal("9.32")
    assert ExchangeRate.objects.filter(currency="BOB").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"currency": "USD"}, "currency"),
        ({"currency": "EUR"}, "currency"),
        ({"set_on": "13/01/2026"}, "set_on"),
        ({"per_usd": "abc"}, "per_usd"),
        ({"per_usd": "0"}, "per_usd"),
        ({"per_usd": "3.1234567"}, "per_usd"),  # finer than 6 decimal places
    ],
)
def test_seed_refuses_bad_rates(change, message):
    """A malformed rate raises SeedError naming the field; nothing is written."""
    bad = {"exchange_rates": [{**SEED["exchange_rates"][0], **change}]}
    with pytest.raises(SeedError, match=message):
        catalogue_seed(data=bad)
    assert not ExchangeRate.objects.exists()


@pytest.mark.django_db
def test_route_file_seeds_pen_and_bob_with_sources():
    """The real seed file gives a current PEN and BOB rate, each sourced."""
    catalogue_seed_from_file(path=ROUTE_DATA)
    table = exchange_rates_current()
    assert set(table.per_usd) == {"USD", "PEN", "BOB"}
    assert table.per_usd["BOB"] == Decimal("6.96")
    assert Decimal(3) < table.per_usd["PEN"] < Decimal(4)
    for rate in ExchangeRate.objects.all():
        assert rate.source and rate.note and rate.set_on
    assert not catalogue_seed_from_file(path=ROUTE_DATA).changed


# --- Admin ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_lists_filters_and_adds(client):
    """The changelist filters by currency; the add form offers PEN and BOB only."""
    user = get_user_model().objects.create_superuser("staff", "s@example.org", "x")
    client.force_login(user)
    _rate("BOB", "6.96", dt.date(2025, 12, 1))
    _rate("PEN", "3.36", dt.date(2026, 1, 13))
    page = client.get("/admin/catalogue/exchangerate/?currency__exact=BOB")
    assert page.status_code == 200
    html = page.content.decode()
    assert "6.960000" in html and "3.360000" not in html
    add = client.get("/admin/catalogue/exchangerate/add/").content.decode()
    assert 'value="PEN"' in add and 'value="BOB"' in add and 'value="USD"' not in add


def test_names_are_translated_to_spanish():
    """The admin shows the model in Spanish."""
    with translation.override("es"):
        assert str(ExchangeRate._meta.verbose_name_plural) == "tipos de cambio"
        assert str(ExchangeRate._meta.get_field("set_on").verbose_name) == "fijado el"
