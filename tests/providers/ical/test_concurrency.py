"""One feed is never synced by two workers at once."""

import datetime as dt
import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction

from providers.models import CalendarFeed, ExternalBlock, Listing, Slot
from providers.sync import services as sync_services
from providers.sync.services import SyncStatus, calendar_feed_sync
from tests.providers.ical.conftest import NOW, ics, make_ics


def in_threads(count, target):
    """Run ``target`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results = []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_same_feed_synced_twice_at_once_runs_once(stay, make_feed, feed_server):
    """Two threads sync one feed together: one fetches and writes, one is skipped."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"), delay_s=0.5)
    results = in_threads(2, lambda: calendar_feed_sync(feed_id=feed.pk, now=NOW))
    assert sorted(r.status for r in results) == [SyncStatus.SKIPPED, SyncStatus.SYNCED]
    skipped = next(r for r in results if r.status == SyncStatus.SKIPPED)
    assert "already running" in skipped.message
    assert len(feed_server.requests) == 1
    assert ExternalBlock.objects.filter(feed=feed).count() == 5
    assert Slot.objects.filter(listing=stay, blocked=4).count() == 5
    # The mutex is released afterwards: the next run goes ahead.
    assert calendar_feed_sync(feed_id=feed.pk, now=NOW).status == SyncStatus.UNCHANGED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_feed_row_locked_elsewhere_is_skipped_without_writing(stay, make_feed):
    """With the cache mutex free, PostgreSQL's row lock still stops a second writer:
    ``skip_locked`` returns at once and nothing is written."""
    feed = make_feed(stay, ics("airbnb_3_nights.ics"))
    with transaction.atomic():
        CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        (result,) = in_threads(1, lambda: calendar_feed_sync(feed_id=feed.pk, now=NOW))
    close_old_connections()
    assert result.status == SyncStatus.SKIPPED
    assert not ExternalBlock.objects.exists()
    assert not Slot.objects.filter(blocked__gt=0).exists()
    feed.refresh_from_db()
    assert feed.last_success_at is None and feed.content_hash == ""


@pytest.fixture
def paused_write(monkeypatch):
    """Pause a chosen feed's sync inside its write transaction, locks held."""
    inside, release, chosen = threading.Event(), threading.Event(), []
    original = sync_services._check_conflicts

    def check_conflicts(**kwargs):
        result = original(**kwargs)
        if kwargs["feed"] is not None and kwargs["feed"].pk in chosen:
            inside.set()
            release.wait(timeout=10)
        return result

    monkeypatch.setattr(sync_services, "_check_conflicts", check_conflicts)
    return chosen, inside, release


def background(target):
    results = []

    def run():
        try:
            results.append(target())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_other_listings_sync_while_one_holds_its_locks(stay, make_feed, paused_write):
    """A sync in its write phase locks only its own feed, listing and slots: a feed
    of another listing of the same provider is synced meanwhile, not skipped."""
    other = Listing.objects.create(
        provider=stay.provider,
        kind=Listing.Kind.STAY,
        place=stay.place,
        title_en="Second homestay",
        title_es="Segunda casa",
        default_capacity=2,
    )
    body = make_ics(("r", dt.date(2026, 12, 1), dt.date(2026, 12, 3)))
    first = make_feed(stay, body, path="/first.ics")
    second = make_feed(other, body, path="/second.ics")
    chosen, inside, release = paused_write
    chosen.append(first.pk)
    thread, results = background(lambda: calendar_feed_sync(feed_id=first.pk, now=NOW))
    try:
        assert inside.wait(timeout=10)
        started = time.monotonic()
        meanwhile = calendar_feed_sync(feed_id=second.pk, now=NOW)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        thread.join(timeout=30)
    close_old_connections()
    assert meanwhile.status == SyncStatus.SYNCED and elapsed < 5
    assert results[0].status == SyncStatus.SYNCED
    assert Slot.objects.filter(blocked__gt=0).count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_feeds_of_one_listing_take_turns(stay, make_feed, paused_write):
    """Two feeds of one listing write one after the other (the listing row lock), so
    the slot sees both: 2 + 1 persons blocked."""
    body = make_ics(("r", dt.date(2026, 12, 1), dt.date(2026, 12, 2)))
    first = make_feed(stay, body, path="/first.ics", blocks_units=2)
    second = make_feed(stay, body, path="/second.ics", blocks_units=1)
    chosen, inside, release = paused_write
    chosen.append(first.pk)
    one, first_results = background(
        lambda: calendar_feed_sync(feed_id=first.pk, now=NOW)
    )
    assert inside.wait(timeout=10)
    two, second_results = background(
        lambda: calendar_feed_sync(feed_id=second.pk, now=NOW)
    )
    time.sleep(0.5)
    assert second_results == []  # waiting for the listing lock, not skipped
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)
    close_old_connections()
    assert [r.status for r in (*first_results, *second_results)] == ["synced"] * 2
    assert Slot.objects.get(listing=stay, date=dt.date(2026, 12, 1)).blocked == 3
