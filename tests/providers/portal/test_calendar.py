"""The month calendar: capacity, closing and reopening, refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from providers.models import Listing, Slot
from tests.providers.portal import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(small_catalogue):
    provider = f.make_provider()
    listing = f.make_listing(provider)
    return listing, f.logged_in(f.make_member(provider))


def url(listing: Listing, query: str = "?month=2027-03") -> str:
    return f"/provider/listings/{listing.pk}/calendar/{query}"


def test_month_shows_every_day_with_its_counts(setup):
    """Every day of the month is a row with capacity, held, booked and free."""
    listing, client = setup
    f.make_booking(listing, units={"adult": 2})  # confirmed: booked 2
    f.make_booking(listing, units={"adult": 1}, confirm=False)  # held 1
    response = client.get(url(listing))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('name="date"') == 31
    assert 'id="d20270310"' in html
    days = response.context["cal"].days
    march10 = next(d for d in days if d.date == f.DAY).slots[0]
    assert (march10.capacity, march10.held, march10.booked, march10.free) == (
        6,
        1,
        2,
        3,
    )


def test_set_capacity_redirects_back_to_the_month(setup):
    """Saving a capacity stores it and returns to the same month (PRG)."""
    listing, client = setup
    response = client.post(
        url(listing), {"date": "2027-03-10", "capacity": "9", "action": "save"}
    )
    assert response.status_code == 302
    assert response["Location"] == url(listing) + "#d20270310"
    assert Slot.objects.get(listing=listing, date=f.DAY).capacity == 9


def test_close_and_reopen_a_day(setup):
    """Close marks the slot closed (keeping its capacity); reopen clears it."""
    listing, client = setup
    client.post(url(listing), {"date": "2027-03-11", "action": "close"})
    slot = Slot.objects.get(listing=listing, date=dt.date(2027, 3, 11))
    assert slot.closed and slot.capacity == 6
    assert "closed" in client.get(url(listing)).content.decode()
    client.post(url(listing), {"date": "2027-03-11", "action": "reopen"})
    slot.refresh_from_db()
    assert not slot.closed


def test_capacity_below_held_and_booked_is_refused(setup):
    """Capacity below held + booked shows the service's field error on that row and
    changes nothing."""
    listing, client = setup
    f.make_booking(listing, units={"adult": 2})
    f.make_booking(listing, units={"adult": 1}, confirm=False)
    response = client.post(
        url(listing), {"date": "2027-03-10", "capacity": "2", "action": "save"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "capacity cannot be lower than 3" in html
    assert 'class="errorlist"' in html
    assert Slot.objects.get(listing=listing, date=f.DAY).capacity == 6


@pytest.mark.parametrize(
    "data",
    [
        {"date": "2027-03-10", "action": "save"},  # no capacity
        {"date": "2027-03-10", "capacity": "-3", "action": "save"},
        {"date": "10/03/2027", "capacity": "3", "action": "save"},
        {"date": "2027-03-10", "capacity": "3", "action": "explode"},
        {"date": "2027-03-10", "start_time": "09:00", "action": "close"},
    ],
)
def test_bad_calendar_input_is_an_error_not_a_500(setup, data):
    """Missing or malformed values, or a time the listing does not have, are shown as
    errors and store nothing."""
    listing, client = setup
    response = client.post(url(listing), data)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert not Slot.objects.filter(listing=listing).exists()


@pytest.mark.parametrize(
    "query", ["?month=2027-13", "?month=9999-12", "?month=abc", "?month=2027-03&week=x"]
)
def test_bad_month_falls_back_to_the_current_month(setup, query):
    """A malformed ?month= (or week) shows a month instead of failing."""
    listing, client = setup
    response = client.get(url(listing, query))
    assert response.status_code == 200
    assert response.context["cal"].month.day == 1


def test_timed_listing_has_a_form_per_start_time(small_catalogue):
    """A transport listing shows one row per departure and closes one time only."""
    provider = f.make_provider()
    listing = f.make_transport_listing(provider)
    client = f.logged_in(f.make_member(provider))
    html = client.get(url(listing)).content.decode()
    assert html.count('name="start_time" value="07:30"') == 31
    response = client.post(
        url(listing), {"date": "2027-03-10", "start_time": "07:30", "action": "close"}
    )
    assert response.status_code == 302
    slot = Slot.objects.get(listing=listing)
    assert slot.start_time == dt.time(7, 30) and slot.closed


def test_many_start_times_are_shown_a_week_at_a_time(small_catalogue):
    """With many slots a month is split into weeks so each page stays small."""
    provider = f.make_provider()
    times = [f"{h:02d}:00" for h in range(6, 18)]
    listing = f.make_listing(provider, kind=Listing.Kind.ACTIVITY, start_times=times)
    client = f.logged_in(f.make_member(provider))
    response = client.get(url(listing, "?month=2027-03&week=2"))
    cal = response.context["cal"]
    assert cal.weeks == (1, 2, 3, 4, 5) and cal.week == 2
    assert [d.date.day for d in cal.days] == list(range(8, 15))
    assert len(response.content) < 100_000
    response = client.post(
        url(listing, "?month=2027-03&week=2"),
        {
            "date": "2027-03-09",
            "start_time": "10:00",
            "capacity": "3",
            "action": "save",
        },
    )
    assert response["Location"].endswith("?month=2027-03&week=2#d20270309")
