"""The sync tasks through real Redis and a real Celery worker process."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from providers.models import CalendarFeed, ExternalBlock, Slot
from providers.tasks import calendar_feed_sync_due_task, calendar_feed_sync_task
from tests.providers.ical.conftest import make_ics

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def first_night(stay):
    return timezone.now().astimezone(stay.place.zone).date() + dt.timedelta(days=10)


def test_dispatcher_enqueues_and_worker_syncs(
    celery_worker, stay, make_feed, first_night
):
    """Beat's dispatcher runs on the worker, enqueues the due feed through Redis, and
    the worker fetches it from the local server: the blocks land in the database."""
    body = make_ics(("r1", first_night, first_night + dt.timedelta(days=3)))
    feed = make_feed(stay, body)
    assert calendar_feed_sync_due_task.delay().get(timeout=60) == 1
    assert wait_for(lambda: ExternalBlock.objects.filter(feed=feed).count() == 3)
    assert wait_for(
        lambda: CalendarFeed.objects.get(pk=feed.pk).last_success_at is not None
    )
    nights = Slot.objects.filter(listing=stay, blocked=4).values_list("date", flat=True)
    assert sorted(nights) == [first_night + dt.timedelta(days=n) for n in range(3)]


def test_feed_task_result_comes_back_from_the_worker(
    celery_worker, stay, make_feed, feed_server, first_night
):
    """The per-feed task's result travels back through the Redis result backend."""
    feed = make_feed(stay, make_ics(("r1", first_night, first_night + dt.timedelta(1))))
    result = calendar_feed_sync_task.delay(feed.pk).get(timeout=60)
    assert result["status"] == "synced" and result["added"] == 1
    assert len(feed_server.requests) == 1
    assert ExternalBlock.objects.filter(feed=feed, date=first_night).exists()
