"""Hostile and broken calendar feeds, served by a real local HTTP server: each one is
refused or read within its limits, the failure is recorded on the feed (cleaned of
control characters) with backoff, the last good state is kept, and the process that
syncs does not grow."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from providers.models import CalendarFeed, ExternalBlock, Slot
from providers.sync import services as sync_services
from providers.sync.services import (
    SyncStatus,
    calendar_feed_sweep_stuck,
    calendar_feed_sync,
    stuck_after,
)
from providers.tasks import calendar_feed_sync_due_task
from tests.providers.ical.conftest import (
    NEVER,
    NOW,
    SECONDLY,
    SECONDLY_FROM_2020,
    TINY_EVENTS,
    ics,
    make_ics,
)
from tests.support.http import Route

pytestmark = pytest.mark.django_db

D = dt.date
LATER = NOW + dt.timedelta(hours=1)

GOOD = ics("airbnb_3_nights.ics").decode()


def rss_kib() -> int:
    """This process's resident set now (VmRSS), KiB: it runs the syncs here."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def sync(feed, now=LATER):
    return calendar_feed_sync(feed_id=feed.pk, now=now)


@pytest.fixture
def synced(stay, make_feed):
    """A feed synced once with a 3-night reservation (5 nights blocked)."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    assert calendar_feed_sync(feed_id=feed.pk, now=NOW).status == SyncStatus.SYNCED
    return feed


def serve(feed_server, body: bytes, **route) -> None:
    feed_server.routes["/feed.ics"] = Route(body=body, **route)


def assert_recorded(feed, result, match: str) -> CalendarFeed:
    """Failed, the error stored clean and short, backed off once, blocks kept."""
    assert result.status == SyncStatus.FAILED, result
    assert match in result.message
    feed.refresh_from_db()
    assert match in feed.last_error and feed.last_error_at == LATER
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in feed.last_error)
    assert len(feed.last_error) <= 500
    assert feed.consecutive_failures == 1
    assert feed.next_run_at == LATER + dt.timedelta(minutes=30)
    assert feed.sync_started_at is None
    assert ExternalBlock.objects.filter(feed=feed).count() == 5
    assert Slot.objects.filter(listing=feed.listing, blocked=4).count() == 5
    return feed


# --- Costly recurrences ---------------------------------------------------------------


@pytest.mark.parametrize("body", [SECONDLY, SECONDLY_FROM_2020], ids=["now", "2020"])
def test_secondly_rrule_is_refused_at_the_instance_cap(synced, feed_server, body):
    """A 196-byte RRULE:FREQ=SECONDLY (31 million occurrences a year) stops at the
    20,000th occurrence: recorded as a failure, well inside the CPU limit, and
    the memory it took died with the child process."""
    assert len(SECONDLY) == 196
    before = rss_kib()
    serve(feed_server, body)
    result = sync(synced)
    assert_recorded(synced, result, "more than 20000 events and repetitions")
    assert "flood" in result.message
    assert 0 < result.parse_cpu_seconds < 5  # the instance cap, not the CPU limit
    # The child's peak (pages shared with this process included) stayed far below
    # this process's size plus the child's limit; this process did not grow.
    assert 0 < result.parse_peak_rss_kib < before + 64 * 1024
    assert rss_kib() - before < 16 * 1024


def test_never_matching_rule_is_stopped_by_the_cpu_limit(synced, feed_server, settings):
    """A rule that yields nothing but keeps the rule engine busy is stopped after
    ICAL_PARSE_CPU_SECONDS of processor time."""
    settings.ICAL_PARSE_CPU_SECONDS = 1
    serve(feed_server, NEVER)
    result = sync(synced)
    assert_recorded(synced, result, "more than 1 seconds of processor time")
    assert 0.5 <= result.parse_cpu_seconds < 3


def big_feed(size: int) -> bytes:
    """Two-night reservations, Airbnb-like, until the body has ``size`` bytes."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN"]
    total, n = 0, 0
    while total < size:
        start = D(2026, 12, 1) + dt.timedelta(days=n % 330)
        event = [
            "BEGIN:VEVENT",
            f"UID:{n:08d}-reservation@big.test",
            "DTSTAMP:20261101T000000Z",
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{start + dt.timedelta(days=2):%Y%m%d}",
            "SUMMARY:Reserved",
            f"DESCRIPTION:Reservation URL: https://example.org/r/HM{n:08d}",
            "END:VEVENT",
        ]
        lines += event
        total += sum(len(line) + 2 for line in event)
        n += 1
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_too_many_events_are_refused_at_the_instance_cap(synced, feed_server):
    """With the default limits the same feed parses, then fails on the count of
    events (each one is an instance)."""
    serve(feed_server, TINY_EVENTS)
    result = sync(synced)
    assert_recorded(synced, result, "more than 20000 events; it was not read")


def test_the_same_big_feed_reads_within_the_default_limits(stay, make_feed):
    """The default limits leave room for a 1.5 MB feed of real-looking events."""
    feed = make_feed(stay, big_feed(1_500_000))
    result = calendar_feed_sync(feed_id=feed.pk, now=NOW)
    assert result.status == SyncStatus.SYNCED and result.added > 10_000


def test_too_many_blocks_are_refused(synced, feed_server, settings):
    """ICAL_MAX_BLOCKS (date × event rows) bounds what one feed writes."""
    settings.ICAL_MAX_BLOCKS = 100
    events = [(f"long{n}", D(2026, 12, 1), D(2027, 3, 1)) for n in range(2)]
    serve(feed_server, make_ics(*events))
    result = sync(synced)
    assert_recorded(synced, result, "more than 100 dates")


# --- Bodies that are not calendars ----------------------------------------------------

UTF16 = GOOD.encode("utf-16")  # with a byte-order mark
UTF16_BE = GOOD.encode("utf-16-be")  # without


@pytest.mark.parametrize(
    "body",
    [random.Random(14).randbytes(4096), UTF16, UTF16_BE, b"\x00" * 1000],
    ids=["binary", "utf-16", "utf-16-be", "nul-bytes"],
)
def test_binary_and_utf16_feeds_are_recorded_without_nul(synced, feed_server, body):
    """The parser's error quotes the body: NUL and other control characters are
    cleaned before the error is stored (PostgreSQL refuses NUL in text)."""
    assert b"\x00" in body
    serve(feed_server, body)
    result = sync(synced)
    feed = assert_recorded(synced, result, "not an iCalendar file")
    assert "\x00" not in feed.last_error


def test_nul_in_uid_and_summary_is_cleaned(stay, make_feed):
    """A readable feed with NUL and controls in an event's UID and SUMMARY syncs;
    what is stored is clean (and the same on every sync)."""
    body = GOOD.replace("SUMMARY:Reserved", "SUMMARY:Re\x00ser\x07ved\x1b[31m", 1)
    body = body.replace("UID:1418fb94", "UID:14\x0018fb94", 1)
    feed = make_feed(stay, body.encode())
    result = calendar_feed_sync(feed_id=feed.pk, now=NOW)
    assert result.status == SyncStatus.SYNCED and result.added == 5
    stored = list(ExternalBlock.objects.values_list("uid", "summary"))
    assert all("\x00" not in uid + summary for uid, summary in stored)
    assert any(uid.startswith("14 18fb94") for uid, _ in stored)
    assert {summary for _, summary in stored} >= {"Re ser ved [31m"}
    CalendarFeed.objects.filter(pk=feed.pk).update(content_hash="")
    again = calendar_feed_sync(feed_id=feed.pk, now=LATER)
    assert (again.status, again.added, again.removed) == ("synced", 0, 0)


def test_feed_over_the_size_limit_is_refused(synced, feed_server, settings):
    """One byte over ICAL_MAX_BYTES (2 MB by default) is refused unread."""
    body = GOOD.encode() + b" " * (settings.ICAL_MAX_BYTES + 1 - len(GOOD.encode()))
    serve(feed_server, body)
    result = sync(synced)
    assert_recorded(synced, result, str(settings.ICAL_MAX_BYTES))
    assert result.parse_cpu_seconds == 0  # never parsed


# --- Events that make no sense --------------------------------------------------------


def test_event_ending_before_it_starts_is_ignored_and_reported(stay, make_feed):
    """An event from 20 Dec back to 10 Dec blocks nothing (not 10–19 Dec, as the
    recurrence library read it); the rest of the feed syncs and the problem shows
    as the feed's last error, not as a failure."""
    backwards = (
        "BEGIN:VEVENT\r\nUID:backwards@test\r\nDTSTART;VALUE=DATE:20261220\r\n"
        "DTEND;VALUE=DATE:20261210\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n"
    )
    body = GOOD.replace("END:VCALENDAR", backwards + "END:VCALENDAR")
    feed = make_feed(stay, body.encode())
    result = calendar_feed_sync(feed_id=feed.pk, now=NOW)
    assert result.status == SyncStatus.SYNCED and result.added == 5
    assert not ExternalBlock.objects.filter(uid="backwards@test").exists()
    assert not Slot.objects.filter(
        listing=stay, date__range=(D(2026, 12, 10), D(2026, 12, 19)), blocked__gt=0
    ).exists()
    feed.refresh_from_db()
    assert "backwards@test ends before it starts" in feed.last_error
    assert feed.last_error_at == NOW == feed.last_success_at
    assert feed.consecutive_failures == 0


# --- Backoff --------------------------------------------------------------------------


def test_backoff_grows_over_hostile_failures_and_resets_on_success(synced, feed_server):
    """interval × 2^failures over consecutive failures, whatever their kind; the
    next good sync resets it."""
    bodies = [SECONDLY, b"\x00\xff" * 100, UTF16, SECONDLY_FROM_2020, NEVER[:40]]
    delays = []
    for n, body in enumerate(bodies, start=1):
        serve(feed_server, body)
        now = NOW + dt.timedelta(days=n)
        assert sync(synced, now=now).status == SyncStatus.FAILED
        synced.refresh_from_db()
        assert synced.consecutive_failures == n
        delays.append(int((synced.next_run_at - now).total_seconds() // 60))
    assert delays == [30, 60, 120, 240, 480]
    serve(feed_server, ics("airbnb_after_cancel.ics"))
    later = NOW + dt.timedelta(days=10)
    assert sync(synced, now=later).status == SyncStatus.SYNCED
    synced.refresh_from_db()
    assert synced.consecutive_failures == 0
    assert synced.next_run_at == later + dt.timedelta(minutes=15)


# --- Failures outside the parser ------------------------------------------------------


def test_soft_time_limit_outside_the_parser_is_recorded(synced, monkeypatch):
    """Celery's soft time limit raised anywhere in the sync (here in the fetch) is
    recorded as a failure with backoff instead of leaving the feed silent."""

    def slow_fetch(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(sync_services, "fetch", slow_fetch)
    result = sync(synced)
    assert_recorded(synced, result, "took longer than")


def test_unexpected_error_is_recorded_clean(synced, feed_server, monkeypatch):
    """A bug in the write phase is recorded too (text cleaned), blocks kept."""
    serve(feed_server, ics("airbnb_after_cancel.ics"))

    def broken_apply(*args, **kwargs):
        raise RuntimeError("boom\x00\x1b")

    monkeypatch.setattr(sync_services, "_apply", broken_apply)
    result = sync(synced)
    assert_recorded(synced, result, "unexpected error (boom)")


def test_sweep_records_syncs_killed_on_the_way(stay, make_feed):
    """A sync still "syncing" past the hard time limit (killed by it, or its worker
    died) is recorded by the dispatcher's sweep, with backoff; one within the limit
    is left alone."""
    now = timezone.now()
    killed = make_feed(stay, make_ics(), path="/killed.ics")
    running = make_feed(stay, make_ics(), path="/running.ics")
    CalendarFeed.objects.filter(pk=killed.pk).update(
        sync_started_at=now - stuck_after() - dt.timedelta(seconds=1),
        next_run_at=now + dt.timedelta(minutes=9),  # the dispatcher's lease
        consecutive_failures=2,
    )
    CalendarFeed.objects.filter(pk=running.pk).update(
        sync_started_at=now - dt.timedelta(seconds=5),
        next_run_at=now + dt.timedelta(minutes=9),
    )
    assert calendar_feed_sweep_stuck(now=now) == 1
    killed.refresh_from_db()
    assert "did not finish within" in killed.last_error
    assert (killed.consecutive_failures, killed.sync_started_at) == (3, None)
    assert killed.next_run_at == now + dt.timedelta(minutes=15 * 8)
    running.refresh_from_db()
    assert running.sync_started_at is not None and not running.last_error
    assert calendar_feed_sweep_stuck(now=now) == 0  # recorded once


def test_dispatcher_runs_the_sweep(stay, make_feed):
    """The beat task (every minute) sweeps before it claims."""
    feed = make_feed(stay, make_ics())
    CalendarFeed.objects.filter(pk=feed.pk).update(
        sync_started_at=timezone.now() - stuck_after() - dt.timedelta(minutes=1),
        next_run_at=timezone.now() + dt.timedelta(minutes=5),
    )
    assert calendar_feed_sync_due_task.delay().get() == 0
    feed.refresh_from_db()
    assert feed.consecutive_failures == 1 and feed.sync_started_at is None


def test_a_sync_marks_the_feed_while_it_runs(synced, feed_server, monkeypatch):
    """``sync_started_at`` is set during the sync and cleared by its outcome."""
    seen = []
    original = sync_services._parse

    def watching(*args, **kwargs):
        seen.append(CalendarFeed.objects.get(pk=synced.pk).sync_started_at)
        return original(*args, **kwargs)

    monkeypatch.setattr(sync_services, "_parse", watching)
    serve(feed_server, ics("airbnb_after_cancel.ics"))
    assert sync(synced).status == SyncStatus.SYNCED
    assert seen and seen[0] is not None
    synced.refresh_from_db()
    assert synced.sync_started_at is None
