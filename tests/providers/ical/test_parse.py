"""Reading iCal feeds into blocked dates: pure functions, no database."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from providers.sync.ical import CalendarParseError, dates_between, parse_feed
from tests.providers.ical.conftest import ics

LIMA = ZoneInfo("America/Lima")
FIRST, LAST = dt.date(2026, 11, 19), dt.date(2027, 11, 20)
D = dt.date


def dates(name: str, zone: ZoneInfo = LIMA) -> dict[str, list[dt.date]]:
    parsed = parse_feed(ics(name), zone=zone, first=FIRST, last=LAST)
    by_uid: dict[str, list[dt.date]] = {}
    for day, uid in sorted(parsed.blocks):
        by_uid.setdefault(uid, []).append(day)
    return by_uid


def test_all_day_end_is_exclusive():
    """A 3-night Airbnb reservation 1–4 Dec blocks the nights of 1, 2 and 3 only."""
    blocked = dates("airbnb_3_nights.ics")
    reservation = "1418fb94e984-48f2b1ac3eb15d0d2e1b1b5b4c4b8a0b@airbnb.com"
    assert blocked[reservation] == [D(2026, 12, 1), D(2026, 12, 2), D(2026, 12, 3)]
    assert len(blocked) == 2


def test_timed_events_block_the_dates_they_touch_in_the_place_zone():
    """UTC, TZID and floating times are read as Lima dates, end − 1 µs inclusive."""
    blocked = dates("timed_zones.ics")
    assert blocked["utc-evening@test"] == [D(2026, 12, 1)]
    assert blocked["utc-across-midnight@test"] == [D(2026, 12, 4), D(2026, 12, 5)]
    assert blocked["la-paz-tzid@test"] == [D(2026, 12, 7), D(2026, 12, 8)]
    assert blocked["floating@test"] == [D(2026, 12, 10)]
    assert blocked["madrid-tzid@test"] == [D(2026, 12, 11), D(2026, 12, 12)]


def test_the_same_feed_reads_differently_in_another_zone():
    """In La Paz (UTC−4) the UTC night event falls on Dec 4–5 and floating stays."""
    blocked = dates("timed_zones.ics", ZoneInfo("America/La_Paz"))
    assert blocked["utc-evening@test"] == [D(2026, 12, 1)]  # 18:00–23:00
    assert blocked["la-paz-tzid@test"] == [D(2026, 12, 8)]
    assert blocked["floating@test"] == [D(2026, 12, 10)]


def test_rrule_with_exdate_and_cancelled_occurrence():
    """Weekly series skip their EXDATE; a cancelled RECURRENCE-ID frees its day."""
    blocked = dates("rrule_exdate.ics")
    assert blocked["tuesdays@test"] == [
        D(2026, 12, 1),
        D(2026, 12, 8),
        D(2026, 12, 22),
        D(2026, 12, 29),
    ]
    assert blocked["mornings@test"] == [D(2026, 12, 3), D(2026, 12, 5)]


def test_cancelled_and_transparent_events_block_nothing():
    """STATUS:CANCELLED and TRANSP:TRANSPARENT are ignored; they still count."""
    parsed = parse_feed(
        ics("cancelled_transparent.ics"), zone=LIMA, first=FIRST, last=LAST
    )
    assert parsed.blocks == {
        (D(2026, 12, 9), "confirmed@test"): "Confirmed reservation"
    }
    assert parsed.event_count == 3


@pytest.mark.parametrize(
    "body",
    [
        ics("malformed.ics"),
        b"",
        b"BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261201T000000Z\r\nEND:VEVENT\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
        ics("broken_event.ics"),
    ],
    ids=["html", "empty-body", "no-vcalendar", "truncated", "unreadable-dtstart"],
)
def test_malformed_bodies_are_refused(body):
    """Anything but one readable VCALENDAR raises, rather than releasing dates."""
    with pytest.raises(CalendarParseError):
        parse_feed(body, zone=LIMA, first=FIRST, last=LAST)


def test_blocks_are_clipped_to_the_horizon():
    """A years-long block yields only the horizon's dates, not millions of rows."""
    days = dates_between(
        D(2000, 1, 1),
        D(2100, 1, 1),
        zone=LIMA,
        first=D(2026, 12, 1),
        last=D(2026, 12, 3),
    )
    assert days == [D(2026, 12, 1), D(2026, 12, 2), D(2026, 12, 3)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 12, 1), None, [D(2026, 12, 1)]),  # all day, no end: one day
        (D(2026, 12, 1), D(2026, 12, 1), [D(2026, 12, 1)]),  # zero length
        (  # a timed event without end blocks its start date
            dt.datetime(2026, 12, 1, 23, 0, tzinfo=LIMA),
            None,
            [D(2026, 12, 1)],
        ),
        (  # ending exactly at local midnight does not touch the next date
            dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 12, 2, 5, 0, tzinfo=dt.UTC),
            [D(2026, 12, 1)],
        ),
        (  # one microsecond later it does
            dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 12, 2, 5, 0, 0, 1, tzinfo=dt.UTC),
            [D(2026, 12, 1), D(2026, 12, 2)],
        ),
    ],
)
def test_date_edges(start, end, expected):
    """Missing ends, zero lengths and ends exactly at local midnight."""
    first, last = D(2026, 11, 1), D(2026, 12, 31)
    assert dates_between(start, end, zone=LIMA, first=first, last=last) == expected
