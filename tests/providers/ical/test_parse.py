"""Reading iCal feeds into blocked dates: pure functions, no database."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from providers.sync.ical import (
    CalendarParseError,
    ParsedFeed,
    ParseLimits,
    clean_text,
    dates_between,
    parse_feed,
)
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


# --- Degenerate and costly events -----------------------------------------------------


def calendar(*events: str) -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN"]
    for n, event in enumerate(events):
        body += ["BEGIN:VEVENT", f"UID:e{n}@test", *event.strip().split("\n")]
        body.append("END:VEVENT")
    return ("\r\n".join([*body, "END:VCALENDAR"]) + "\r\n").encode()


def read(body: bytes, limits: ParseLimits | None = None) -> ParsedFeed:
    return parse_feed(body, zone=LIMA, first=FIRST, last=LAST, limits=limits)


@pytest.mark.parametrize(
    "event",
    [
        "DTSTART;VALUE=DATE:20261220\nDTEND;VALUE=DATE:20261210",
        "DTSTART:20261220T100000Z\nDTEND:20261210T100000Z",
        "DTSTART:20261220T100000Z\nDURATION:-P10D",
        "DTSTART;VALUE=DATE:20261220\nDTEND:20261219T120000Z",  # mixed kinds
        "DTSTART;VALUE=DATE:20261220\nDTEND;VALUE=DATE:20261210\nRRULE:FREQ=WEEKLY",
    ],
    ids=["all-day", "timed", "negative-duration", "mixed", "recurring"],
)
def test_event_ending_before_it_starts_is_ignored_and_reported(event):
    """It blocks nothing (the recurrence library used to block the days between
    its end and its start); the other events are read; the problem is named."""
    parsed = read(calendar(event, "DTSTART;VALUE=DATE:20261225"))
    assert parsed.blocks == {(D(2026, 12, 25), "e1@test"): ""}
    assert parsed.problems == (
        "The event e0@test ends before it starts; it was ignored.",
    )
    assert parsed.event_count == 2


def test_a_modified_occurrence_ending_before_it_starts_drops_its_series():
    """A series whose RECURRENCE-ID override runs backwards is ignored whole."""
    body = calendar(
        "DTSTART;VALUE=DATE:20261201\nDTEND;VALUE=DATE:20261202\nRRULE:FREQ=DAILY;COUNT=3",
    ).replace(
        b"END:VCALENDAR",
        b"BEGIN:VEVENT\r\nUID:e0@test\r\nRECURRENCE-ID;VALUE=DATE:20261202\r\n"
        b"DTSTART;VALUE=DATE:20261205\r\nDTEND;VALUE=DATE:20261203\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR",
    )
    parsed = read(body)
    assert parsed.blocks == {} and len(parsed.problems) == 1


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        # zero-length all-day and timed events: their start date
        ("DTSTART;VALUE=DATE:20261220\nDTEND;VALUE=DATE:20261220", [D(2026, 12, 20)]),
        ("DTSTART:20261220T150000Z\nDTEND:20261220T150000Z", [D(2026, 12, 20)]),
        # all-day without an end: one day (RFC 5545)
        ("DTSTART;VALUE=DATE:20261220", [D(2026, 12, 20)]),
        # DURATION instead of DTEND
        (
            "DTSTART;VALUE=DATE:20261220\nDURATION:P2D",
            [D(2026, 12, 20), D(2026, 12, 21)],
        ),
        # a TZID nobody defines: read as the place's wall-clock time
        (
            "DTSTART;TZID=Mars/Olympus_Mons:20261220T230000\n"
            "DTEND;TZID=Mars/Olympus_Mons:20261220T233000",
            [D(2026, 12, 20)],
        ),
        # far in the future or the past: nothing inside the horizon
        ("DTSTART;VALUE=DATE:99991230\nDTEND;VALUE=DATE:99991231", []),
        ("DTSTART:99991231T230000Z\nDTEND:99991231T235959Z", []),
        ("DTSTART;VALUE=DATE:00010101\nDTEND;VALUE=DATE:00010102", []),
        ("DTSTART;VALUE=DATE:00010101\nDTEND;VALUE=DATE:00010101", []),
        ("DTSTART;VALUE=DATE:99991231\nRRULE:FREQ=YEARLY", []),
        ("DTSTART;VALUE=DATE:20400101\nRRULE:FREQ=DAILY", []),
    ],
    ids=[
        "zero-all-day",
        "zero-timed",
        "no-end",
        "duration",
        "unknown-tzid",
        "year-9999",
        "year-9999-timed",
        "year-1",
        "year-1-zero",
        "recurring-9999",
        "recurring-2040",
    ],
)
def test_degenerate_events_behave_sensibly(event, expected):
    """Zero lengths, missing ends, unknown zones and absurd dates neither fail the
    feed nor block more than they say."""
    parsed = read(calendar(event))
    assert sorted(day for day, _uid in parsed.blocks) == expected
    assert parsed.problems == ()


def test_a_block_from_year_1_to_9999_blocks_the_horizon():
    """ "Closed for ever" clips to the horizon: 367 dates, no overflow."""
    parsed = read(calendar("DTSTART;VALUE=DATE:00010101\nDTEND;VALUE=DATE:99991231"))
    assert len(parsed.blocks) == (LAST - FIRST).days + 1


def test_timed_events_at_the_ends_of_time_do_not_overflow():
    """0001-01-01 00:00 UTC is before year 1 in Lima (UTC−5): never converted, it
    blocks nothing; one running from then to 9999 blocks the whole horizon."""
    parsed = read(
        calendar(
            "DTSTART:00010101T000000Z\nDTEND:00010101T010000Z",
            "DTSTART:00010101T000000Z\nDTEND:99991231T235959Z",
        )
    )
    assert {uid for _day, uid in parsed.blocks} == {"e1@test"}
    assert len(parsed.blocks) == (LAST - FIRST).days + 1 and not parsed.problems


def test_an_end_beyond_year_9999_is_ignored_not_fatal():
    """DTSTART on 31 Dec 9999 with a 2-day DURATION ends after the last date
    Python knows: that event is ignored and named, the feed is read."""
    parsed = read(
        calendar(
            "DTSTART;VALUE=DATE:99991231\nDURATION:P2D",
            "DTSTART;VALUE=DATE:20261225",
        )
    )
    assert list(parsed.blocks) == [(D(2026, 12, 25), "e1@test")]
    assert parsed.problems == (
        "The event e0@test has dates out of range; it was ignored.",
    )


def test_events_without_uid_are_kept_apart():
    """Two events without UID are two reservations, not one series."""
    body = (
        calendar("DTSTART;VALUE=DATE:20261201", "DTSTART;VALUE=DATE:20261210")
        .replace(b"UID:e0@test\r\n", b"")
        .replace(b"UID:e1@test\r\n", b"")
    )
    assert sorted(read(body).dates) == [D(2026, 12, 1), D(2026, 12, 10)]


def test_instances_are_counted_up_to_the_horizon_end_only():
    """A weekly rule for ever is counted up to the horizon's end (~53), not for
    ever; DAILY from 2000 counts its 27 years of days (~10,000) and still fits."""
    weekly = calendar("DTSTART;VALUE=DATE:20261201\nRRULE:FREQ=WEEKLY")
    assert len(read(weekly, ParseLimits(max_instances=60)).blocks) == 51
    daily = calendar("DTSTART;VALUE=DATE:20000101\nRRULE:FREQ=DAILY")
    assert len(read(daily).blocks) == (LAST - FIRST).days + 1
    with pytest.raises(CalendarParseError, match="e0@test repeats too often"):
        read(daily, ParseLimits(max_instances=9_000))


@pytest.mark.parametrize(
    "rule",
    ["FREQ=SECONDLY", "FREQ=MINUTELY;INTERVAL=1", "FREQ=HOURLY;COUNT=100000000"],
)
def test_rules_over_the_instance_cap_fail_the_feed(rule):
    """Counted lazily one by one, the cap stops a rule long before it expands."""
    body = calendar(f"DTSTART:20261201T000000Z\nRRULE:{rule}")
    with pytest.raises(CalendarParseError, match="more than 1000 events"):
        read(body, ParseLimits(max_instances=1000))


def test_rdates_and_overrides_count_too():
    """RDATE lists and RECURRENCE-ID overrides are instances as well."""
    rdates = ",".join(f"202612{d:02d}" for d in range(1, 29))
    body = calendar(f"DTSTART;VALUE=DATE:20261201\nRDATE;VALUE=DATE:{rdates}")
    assert len(read(body, ParseLimits(max_instances=30)).blocks) == 28
    with pytest.raises(CalendarParseError):
        read(body, ParseLimits(max_instances=20))


def test_blocks_are_capped():
    """(date, event) pairs beyond max_blocks fail the feed instead of writing them."""
    body = calendar(
        "DTSTART;VALUE=DATE:20261201\nDTEND;VALUE=DATE:20270101",
        "DTSTART;VALUE=DATE:20261201\nDTEND;VALUE=DATE:20270101",
    )
    assert len(read(body, ParseLimits(max_blocks=62)).blocks) == 62
    with pytest.raises(CalendarParseError, match="more than 61 dates"):
        read(body, ParseLimits(max_blocks=61))


def test_text_from_the_feed_is_cleaned():
    """NUL, escape sequences, bidi overrides and lone surrogates never come out."""
    assert clean_text("a\x00b\x1b[31mc\u202ed\ud800e\n\tf", 100) == "a b [31mc d e f"
    assert clean_text("x" * 600, 500) == "x" * 499 + "…"


def test_many_ignored_events_are_named_up_to_five():
    """A thousand backwards events: five named, the rest counted, the good one
    read."""
    backwards = "DTSTART;VALUE=DATE:20261220\nDTEND;VALUE=DATE:20261210"
    parsed = read(calendar(*[backwards] * 1000, "DTSTART;VALUE=DATE:20261225"))
    assert list(parsed.blocks) == [(D(2026, 12, 25), "e1000@test")]
    assert len(parsed.problems) == 6
    assert parsed.problems[0].startswith("The event e0@test ends before it starts")
    assert parsed.problems[-1] == "995 more events were ignored."
