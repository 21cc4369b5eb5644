"""Providers, listings and calendar feeds served by a real local HTTP server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from catalogue.models import Country, Place
from providers.models import CalendarFeed, Listing, Provider
from providers.sync.services import calendar_feed_create
from tests.support.http import LocalServer, Route, local_http_server

DATA = Path(__file__).resolve().parents[2] / "data" / "ical"
# In-process syncs run "now" here: the hand-written feeds are about December 2026.
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def ics(name: str) -> bytes:
    """A hand-written feed from tests/data/ical."""
    return (DATA / name).read_bytes()


def make_ics(*events: tuple[str, dt.date, dt.date]) -> bytes:
    """A minimal feed of all-day events (uid, start, exclusive end)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN"]
    for uid, start, end in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{end:%Y%m%d}",
            "SUMMARY:Reserved",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


# --- Hostile feeds -------------------------------------------------------------------

# 196 bytes: one event repeating every second, for ever.
SECONDLY = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
    b"UID:flood\r\nDTSTAMP:20261120T000000Z\r\nDTSTART:20261120T000000Z\r\n"
    b"DTEND:20261120T000001Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
# Same, starting six years before the horizon (the work of reaching it counts).
SECONDLY_FROM_2020 = SECONDLY.replace(b"20261120T", b"20200101T")
# Every second of every 30 February: it never happens, but finding that out takes
# a rule engine years of seconds.
NEVER = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:never\r\n"
    b"DTSTART:20261120T000000Z\r\nRRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)
# 30,000 events of one line each: under 2 MB, but ~100 MB of parsed objects.
TINY_EVENTS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
    + "".join(
        f"BEGIN:VEVENT\r\nUID:{n}\r\nDTSTART;VALUE=DATE:20261201\r\nEND:VEVENT\r\n"
        for n in range(30_000)
    )
    + "END:VCALENDAR\r\n"
).encode()


@pytest.fixture
def provider(small_catalogue) -> Provider:
    return Provider.objects.create(
        name="Uros Khantati",
        slug="uros-khantati",
        kind=Provider.Kind.FAMILY,
        country=Country.objects.get(code="PE"),
        home_place=Place.objects.get(slug="puno"),
        contact_name="Cristina",
        email="family@example.org",
        status=Provider.Status.APPROVED,
    )


@pytest.fixture
def stay(provider) -> Listing:
    """A homestay in Puno (America/Lima) for 4 persons a night."""
    return Listing.objects.create(
        provider=provider,
        kind=Listing.Kind.STAY,
        place=Place.objects.get(slug="puno"),
        title_en="Floating island homestay",
        title_es="Casa flotante",
        default_capacity=4,
        stay_type=Listing.StayType.HOMESTAY,
    )


@pytest.fixture
def tour(provider) -> Listing:
    """A timed activity in Puno: two start times a day, 10 persons each."""
    return Listing.objects.create(
        provider=provider,
        kind=Listing.Kind.ACTIVITY,
        place=Place.objects.get(slug="puno"),
        title_en="Weaving workshop",
        title_es="Taller de tejido",
        default_capacity=10,
        start_times=["09:00", "15:00"],
        duration_min=120,
    )


@pytest.fixture
def feed_server(settings) -> Iterator[LocalServer]:
    """A local HTTP server the SSRF guard lets through (tests only)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with local_http_server() as server:
        yield server


@pytest.fixture
def make_feed(feed_server) -> Callable[..., CalendarFeed]:
    """Serve ``body`` at ``path`` and connect it to ``listing`` through the service."""

    def make(
        listing: Listing,
        body: bytes,
        *,
        path: str = "/feed.ics",
        blocks_units: int | None = None,
        **route: object,
    ) -> CalendarFeed:
        feed_server.routes[path] = Route(body=body, **route)
        return calendar_feed_create(
            listing=listing,
            url=feed_server.url(path),
            name=path.strip("/"),
            blocks_units=blocks_units,
        )

    return make
