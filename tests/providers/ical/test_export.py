"""The listing's own iCal export: what other platforms import from us."""

import datetime as dt

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from providers.models import CalendarFeed, ExternalBlock, Slot
from providers.sync.ical import parse_feed
from providers.sync.services import listing_ical_token_rotate

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(stay):
    return timezone.now().astimezone(stay.place.zone).date()


@pytest.fixture
def nights(stay, today):
    """Booked, held, closed, imported-only and past nights of the homestay."""
    days = {
        name: today + dt.timedelta(days=n)
        for n, name in enumerate(
            ["booked", "held", "closed", "imported", "both", "free"], start=3
        )
    }
    Slot.objects.create(listing=stay, date=days["booked"], capacity=4, booked=2)
    Slot.objects.create(listing=stay, date=days["held"], capacity=4, held=1)
    Slot.objects.create(listing=stay, date=days["closed"], capacity=4, closed=True)
    Slot.objects.create(listing=stay, date=days["imported"], capacity=4, blocked=4)
    Slot.objects.create(
        listing=stay, date=days["both"], capacity=4, booked=1, blocked=3
    )
    Slot.objects.create(listing=stay, date=days["free"], capacity=4)
    Slot.objects.create(
        listing=stay, date=today - dt.timedelta(days=30), capacity=4, booked=4
    )
    feed = CalendarFeed.objects.create(listing=stay, url="https://93.184.216.34/x.ics")
    for name in ("imported", "both"):
        ExternalBlock.objects.create(feed=feed, date=days[name], uid="airbnb-1")
    return days


def export(client, listing, **headers):
    url = reverse("providers:listing-ical", kwargs={"token": listing.ical_token})
    return client.get(url, **headers)


def test_export_is_valid_rfc5545(client, stay, nights):
    """text/calendar, CRLF lines folded at 75 octets, PRODID/VERSION, all-day events
    with UID, DTSTAMP and an exclusive DTEND."""
    response = export(client, stay)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(
        b"END:VCALENDAR\r\n"
    )
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    calendar = icalendar.Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = calendar.walk("VEVENT")
    assert events
    for event in events:
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        assert type(start) is dt.date and end == start + dt.timedelta(days=1)
        assert event["DTSTAMP"].dt.tzinfo is not None
        assert str(event["UID"]).startswith(f"listing-{stay.pk}-")
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_export_has_sold_and_closed_nights_but_not_imported_ones(client, stay, nights):
    """Booked, held and closed nights are exported; imported-only blocks are not
    (that would echo them back to where they came from); past nights are left out."""
    calendar = icalendar.Calendar.from_ical(export(client, stay).content)
    exported = {event["DTSTART"].dt for event in calendar.walk("VEVENT")}
    assert exported == {nights[n] for n in ("booked", "held", "closed", "both")}


def test_export_reads_back_through_our_own_importer(client, stay, nights, today):
    """Another instance importing our export blocks exactly those nights."""
    parsed = parse_feed(
        export(client, stay).content,
        zone=stay.place.zone,
        first=today,
        last=today + dt.timedelta(days=30),
    )
    assert parsed.dates == {nights[n] for n in ("booked", "held", "closed", "both")}


def test_uid_is_stable_per_listing_and_date(client, stay, nights):
    """Two exports give the same UIDs (and the same body: the ETag holds)."""
    first, second = export(client, stay), export(client, stay)
    assert first.content == second.content and first["ETag"] == second["ETag"]
    again = export(client, stay, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_unknown_token_is_404(client, stay):
    """A made-up token finds nothing."""
    url = reverse("providers:listing-ical", kwargs={"token": "not-a-real-token"})
    assert client.get(url).status_code == 404


def test_rotated_token_retires_the_old_url(client, stay, nights):
    """After rotation the old URL 404s and the new one serves the calendar."""
    old_url = reverse("providers:listing-ical", kwargs={"token": stay.ical_token})
    assert client.get(old_url).status_code == 200
    listing = listing_ical_token_rotate(listing=stay)
    assert client.get(old_url).status_code == 404
    assert export(client, listing).status_code == 200
    stay.refresh_from_db()
    assert stay.ical_token == listing.ical_token != old_url.split("/")[-1][:-4]


def test_export_refuses_writes(client, stay):
    """Only GET and HEAD."""
    url = reverse("providers:listing-ical", kwargs={"token": stay.ical_token})
    assert client.post(url).status_code == 405
    assert client.head(url).status_code == 200
