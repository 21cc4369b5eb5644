"""The beat dispatcher and the per-feed task (eager here; see test_worker.py for the
real worker)."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from providers.models import CalendarFeed, ExternalBlock
from providers.sync.services import DISPATCH_LEASE, calendar_feed_claim_due
from providers.tasks import calendar_feed_sync_due_task, calendar_feed_sync_task
from tests.providers.ical.conftest import make_ics

pytestmark = pytest.mark.django_db


@pytest.fixture
def upcoming(stay):
    """Two nights a week from now in the listing's zone (inside the real horizon)."""
    start = timezone.now().astimezone(stay.place.zone).date() + dt.timedelta(days=7)
    return make_ics(("r1", start, start + dt.timedelta(days=2)))


def test_dispatcher_syncs_due_active_feeds_only(stay, make_feed, feed_server, upcoming):
    """Never-run and overdue feeds are synced; future and inactive ones are not."""
    now = timezone.now()
    never = make_feed(stay, upcoming, path="/never.ics")
    overdue = make_feed(stay, upcoming, path="/overdue.ics")
    future = make_feed(stay, upcoming, path="/future.ics")
    inactive = make_feed(stay, upcoming, path="/inactive.ics")
    CalendarFeed.objects.filter(pk=overdue.pk).update(next_run_at=now)
    CalendarFeed.objects.filter(pk=future.pk).update(
        next_run_at=now + dt.timedelta(hours=1)
    )
    CalendarFeed.objects.filter(pk=inactive.pk).update(is_active=False)
    assert calendar_feed_sync_due_task.delay().get() == 2
    assert sorted(r["path"] for r in feed_server.requests) == [
        "/never.ics",
        "/overdue.ics",
    ]
    assert set(ExternalBlock.objects.values_list("feed_id", flat=True)) == {
        never.pk,
        overdue.pk,
    }
    never.refresh_from_db()
    interval = dt.timedelta(minutes=settings.ICAL_SYNC_INTERVAL_MINUTES)
    assert never.next_run_at > now + interval - dt.timedelta(seconds=30)


def test_claimed_feeds_are_not_dispatched_twice(stay, make_feed, upcoming):
    """A dispatched feed waiting in the queue is not enqueued again next minute."""
    feed = make_feed(stay, upcoming)
    now = timezone.now()
    assert calendar_feed_claim_due(now=now) == [feed.pk]
    assert calendar_feed_claim_due(now=now + dt.timedelta(minutes=1)) == []
    assert calendar_feed_claim_due(now=now + DISPATCH_LEASE) == [feed.pk]


def test_feed_task_returns_the_result(stay, make_feed, upcoming):
    """The thin task calls the service and returns its result as a dict."""
    feed = make_feed(stay, upcoming)
    result = calendar_feed_sync_task.delay(feed.pk).get()
    assert result["status"] == "synced" and result["added"] == 2
    assert calendar_feed_sync_task.delay(feed.pk + 1000).get()["status"] == "skipped"
