"""The staff dashboard: figures on a small hand-made dataset, CSV export, access."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalogue.models import ExchangeRate
from itineraries.models import TripBooking, TripBookingPart, TripPlan
from providers.models import Booking, Slot, ValueChain
from tests.providers.factories import make_listing, make_provider
from web import staff_selectors as sel

MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
URL = "/staff/dashboard/"
RANGE = {"start": "2026-03", "end": "2026-04"}


def _book(provider, day: dt.date, status: str, persons: int, total: int) -> Booking:
    listing = provider.listings.first() or make_listing(provider)
    slot = Slot.objects.create(listing=listing, date=day, capacity=20)
    return Booking.objects.create(
        provider=provider,
        listing=listing,
        slot=slot,
        status=status,
        channel=Booking.Channel.WEBSITE,
        units={"adult": persons},
        persons=persons,
        total_minor=total,
        currency=listing.currency,
    )


def _plan_crossing(side_from: str, side_to: str, start: str, persons: int):
    border = {
        "id": "2.2",
        "kind": "border",
        "title": {"en": "Cross Kasani", "es": "Cruce Kasani"},
        "start": start,
        "end": start,
        "from": side_from,
        "to": side_to,
        "listing": None,
        "departure": None,
        "price": None,
    }
    return TripPlan.objects.create(
        status=TripPlan.Status.SOLVED,
        request={
            "origin": "puno",
            "destination": "copacabana",
            "start_date": start[:10],
            "days": 3,
        },
        days=[
            {"date": "2026-01-01", "night": None, "steps": []},
            {"date": start[:10], "night": None, "steps": [border]},
        ],
        totals={"persons": persons},
    )


@pytest.fixture
def data(small_catalogue):
    make_dashboard_data()


def make_dashboard_data() -> None:
    """Bookings in Peru and Bolivia, community-run and not, two value chains, two
    months (and some that must not count), and a trip booking crossing Kasani. Needs
    the small catalogue (also used by the browser tests)."""
    for currency, rate in (("PEN", "3.75"), ("BOB", "6.96")):
        ExchangeRate.objects.create(
            currency=currency,
            per_usd=Decimal(rate),
            set_on=dt.date(2026, 2, 1),
            source="test",
        )
    # Two of the value chains the migrations seed (transactional tests flush them).
    camelids, _ = ValueChain.objects.get_or_create(
        code="camelids", defaults={"name_en": "Camelids", "name_es": "Camélidos"}
    )
    potatoes, _ = ValueChain.objects.get_or_create(
        code="native-potatoes",
        defaults={"name_en": "Native potatoes", "name_es": "Papas nativas"},
    )
    pe_community = make_provider(name="Asociación Ñandú", community_run=True)
    pe_community.value_chains.set([camelids])
    pe_company = make_provider(name="Lake Tours SAC", community_run=False)
    pe_company.value_chains.set([potatoes])
    bo_community = make_provider(
        name="Comunidad Sampaya", place="copacabana", community_run=True
    )
    bo_community.value_chains.set([camelids, potatoes])
    S = Booking.Status
    _book(pe_community, dt.date(2026, 3, 5), S.CONFIRMED, 2, 10000)
    _book(pe_company, dt.date(2026, 3, 20), S.REDEEMED, 1, 5000)
    _book(pe_community, dt.date(2026, 4, 2), S.CANCELLED, 2, 10000)
    bo_booking = _book(bo_community, dt.date(2026, 4, 10), S.CONFIRMED, 3, 69600)
    # Not counted: a hold, an expired hold, a month outside the range.
    _book(bo_community, dt.date(2026, 4, 11), S.ON_HOLD, 2, 46400)
    _book(pe_company, dt.date(2026, 4, 12), S.EXPIRED, 1, 5000)
    _book(pe_community, dt.date(2026, 5, 1), S.CONFIRMED, 1, 5000)

    trip = TripBooking.objects.create(
        plan=_plan_crossing("kasani-pe", "kasani-bo", "2026-04-10T14:00:00-05:00", 3),
        status=TripBooking.Status.CONFIRMED,
    )
    TripBookingPart.objects.create(trip=trip, booking=bo_booking, step_id="2.3")
    TripBooking.objects.create(
        plan=_plan_crossing("kasani-bo", "kasani-pe", "2026-03-15T09:00:00-04:00", 2),
        status=TripBooking.Status.CANCELLED,
    )
    TripBooking.objects.create(  # a hold: not counted
        plan=_plan_crossing("kasani-pe", "kasani-bo", "2026-04-20T09:00:00-05:00", 4),
        status=TripBooking.Status.ON_HOLD,
    )


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_user(
        username="staff", password="x", is_staff=True
    )
    client.force_login(user)
    return client


def _rows(rows: list[sel.Figures]) -> dict:
    return {
        (row.month, *row.key): (
            row.bookings,
            row.persons,
            row.cancelled,
            row.spend,
            row.usd_minor,
        )
        for row in rows
    }


FILTERS = sel.DashboardFilters(MARCH, APRIL)


def test_by_country(data):
    rows = _rows(sel.dashboard(FILTERS).tables["country"])
    assert rows == {
        # 150.00 PEN at 3.75 = 40.00 USD
        (MARCH, "PE"): (2, 3, 0, {"PEN": 15000}, 4000),
        # 696.00 BOB at 6.96 = 100.00 USD
        (APRIL, "BO"): (1, 3, 0, {"BOB": 69600}, 10000),
        (APRIL, "PE"): (0, 0, 1, {}, 0),
    }


def test_by_community_and_provider(data):
    tables = sel.dashboard(FILTERS).tables
    assert _rows(tables["community"]) == {
        (MARCH, True): (1, 2, 0, {"PEN": 10000}, 2667),
        (MARCH, False): (1, 1, 0, {"PEN": 5000}, 1333),
        (APRIL, True): (1, 3, 1, {"BOB": 69600}, 10000),
    }
    assert _rows(tables["provider"]) == {
        (MARCH, "Asociación Ñandú", "PE", True): (1, 2, 0, {"PEN": 10000}, 2667),
        (MARCH, "Lake Tours SAC", "PE", False): (1, 1, 0, {"PEN": 5000}, 1333),
        (APRIL, "Asociación Ñandú", "PE", True): (0, 0, 1, {}, 0),
        (APRIL, "Comunidad Sampaya", "BO", True): (1, 3, 0, {"BOB": 69600}, 10000),
    }


def test_by_value_chain_counts_a_provider_in_each_of_its_chains(data):
    rows = _rows(sel.dashboard(FILTERS).tables["value_chain"])
    assert rows == {
        (MARCH, "camelids"): (1, 2, 0, {"PEN": 10000}, 2667),
        (MARCH, "native-potatoes"): (1, 1, 0, {"PEN": 5000}, 1333),
        (APRIL, "camelids"): (1, 3, 1, {"BOB": 69600}, 10000),
        (APRIL, "native-potatoes"): (1, 3, 0, {"BOB": 69600}, 10000),
    }


def test_by_border_crossing_from_the_trip_plans(data):
    rows = _rows(sel.dashboard(FILTERS).tables["crossing"])
    assert rows == {
        (MARCH, "Kasani – Yunguyo", "BO → PE"): (0, 0, 1, {}, 0),
        (APRIL, "Kasani – Yunguyo", "PE → BO"): (1, 3, 0, {"BOB": 69600}, 10000),
    }


def test_country_filter_and_month_range(data):
    only_bo = sel.DashboardFilters(MARCH, APRIL, country="BO")
    assert _rows(sel.by_country(only_bo, sel.exchange_rates_current())) == {
        (APRIL, "BO"): (1, 3, 0, {"BOB": 69600}, 10000),
    }
    may = sel.DashboardFilters(dt.date(2026, 5, 1), dt.date(2026, 5, 1))
    assert _rows(sel.by_country(may, sel.exchange_rates_current())) == {
        (dt.date(2026, 5, 1), "PE"): (1, 1, 0, {"PEN": 5000}, 1333),
    }
    assert sel.by_border_crossing(may, sel.exchange_rates_current()) == []


def test_without_a_rate_the_usd_total_is_unknown(data):
    ExchangeRate.objects.filter(currency="BOB").delete()
    rows = _rows(sel.dashboard(FILTERS).tables["country"])
    assert rows[(APRIL, "BO")][4] is None
    assert rows[(MARCH, "PE")][4] == 4000


def test_page_shows_tables_charts_and_rates(staff_client, data):
    response = staff_client.get(URL, RANGE)
    assert response.status_code == 200
    assert len(response.content) < 200_000
    html = response.content.decode()
    assert "service date" in html
    assert "1 USD = 3.75" in html and "2026-02-01" in html
    assert html.count("<svg") == 6  # all bookings per month + one per table
    assert "Asociación Ñandú" in html and "Kasani – Yunguyo" in html
    assert "150.00" in html and "696.00" in html and "100.00" in html
    for table in sel.TABLES:
        assert reverse("web:staff-dashboard-csv", args=[table]) in html


def test_page_filters_by_country(staff_client, data):
    html = staff_client.get(URL, {**RANGE, "country": "BO"}).content.decode()
    assert "Comunidad Sampaya" in html
    assert "Lake Tours SAC" not in html


def test_bad_filters_show_an_error_and_the_default_range(staff_client, data):
    response = staff_client.get(URL, {"start": "2026-05", "end": "2026-03"})
    assert response.status_code == 200
    assert "The first month is after the last one." in response.content.decode()


def test_spanish_page_renders(staff_client, data):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = staff_client.get(URL, RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "marzo" in html.lower()  # month names from Django's Spanish locale
    assert "Papas nativas" in html
    assert "150,00" in html  # Spanish number format


def test_csv_export(staff_client, data):
    response = staff_client.get(
        reverse("web:staff-dashboard-csv", args=["provider"]), RANGE
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="dashboard-provider-2026-03-2026-04.csv"'
    )
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [
        "month",
        "provider",
        "country",
        "community",
        "bookings",
        "persons",
        "cancelled",
        "spend_PEN",
        "spend_BOB",
        "spend_USD",
        "total_USD",
        "rates_set_on",
    ]
    assert [
        "2026-03", "Asociación Ñandú", "PE", "yes", "1", "2", "0",
        "100.00", "0.00", "0.00", "26.67", "2026-02-01",
    ] in rows  # fmt: skip
    assert len(rows) == 5


def test_csv_of_crossings_and_value_chains(staff_client, data):
    url = reverse("web:staff-dashboard-csv", args=["crossing"])
    rows = list(csv.reader(io.StringIO(staff_client.get(url, RANGE).content.decode())))
    assert rows[0][:3] == ["\ufeffmonth", "crossing", "direction"]
    assert rows[2][:6] == ["2026-04", "Kasani – Yunguyo", "PE → BO", "1", "3", "0"]
    url = reverse("web:staff-dashboard-csv", args=["value_chain"])
    rows = list(csv.reader(io.StringIO(staff_client.get(url, RANGE).content.decode())))
    assert [r[1] for r in rows[1:]] == [
        "camelids",
        "native-potatoes",
        "camelids",
        "native-potatoes",
    ]


def test_csv_unknown_table_is_404(staff_client, data):
    assert staff_client.get("/staff/dashboard/bogus.csv").status_code == 404


@pytest.mark.parametrize(
    "url", [URL, "/staff/dashboard/country.csv", "/staff/dashboard/crossing.csv"]
)
def test_non_staff_are_refused(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    user = get_user_model().objects.create_user(username="traveller", password="x")
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert b"Bookings" not in response.content


def test_page_queries_are_a_fixed_few(staff_client, data, django_assert_num_queries):
    """One grouped query per table, whatever the number of bookings (plus session,
    user, the staff second-factor check, rates, names and the country list of the
    form)."""
    with django_assert_num_queries(14) as captured:
        staff_client.get(URL, RANGE)
    more = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    for _ in range(5):
        more.pk, more.uuid = None, uuid.uuid4()
        more.save()
    with django_assert_num_queries(len(captured)):
        staff_client.get(URL, RANGE)
