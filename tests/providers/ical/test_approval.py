"""Calendar feeds only for approved providers: a provider waiting for approval (or
suspended) cannot add feeds, and the feeds of one that is not approved are not
synced."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from providers.models import CalendarFeed, ExternalBlock, Provider
from providers.sync.services import (
    SyncStatus,
    calendar_feed_claim_due,
    calendar_feed_create,
)
from providers.tasks import calendar_feed_sync_due_task, calendar_feed_sync_task
from tests.providers.ical.conftest import make_ics

pytestmark = pytest.mark.django_db


@pytest.fixture
def upcoming(stay):
    start = timezone.now().astimezone(stay.place.zone).date() + dt.timedelta(days=7)
    return make_ics(("r1", start, start + dt.timedelta(days=2)))


@pytest.mark.parametrize("status", [Provider.Status.PENDING, Provider.Status.SUSPENDED])
def test_a_provider_not_approved_cannot_add_feeds(stay, feed_server, status):
    """The service refuses with an error on ``provider``; nothing is saved."""
    Provider.objects.filter(pk=stay.provider_id).update(status=status)
    stay.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        calendar_feed_create(listing=stay, url=feed_server.url("/feed.ics"))
    assert "approved" in exc.value.message_dict["provider"][0]
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize("status", [Provider.Status.PENDING, Provider.Status.SUSPENDED])
def test_feeds_of_a_provider_not_approved_are_not_synced(
    stay, make_feed, feed_server, upcoming, status
):
    """Neither the dispatcher nor a direct task run fetches them; they come back
    once the provider is approved again."""
    feed = make_feed(stay, upcoming)
    Provider.objects.filter(pk=stay.provider_id).update(status=status)
    assert calendar_feed_claim_due() == []
    assert calendar_feed_sync_due_task.delay().get() == 0
    result = calendar_feed_sync_task.delay(feed.pk).get()
    assert result["status"] == SyncStatus.SKIPPED
    assert feed_server.requests == [] and not ExternalBlock.objects.exists()
    feed.refresh_from_db()
    assert feed.last_attempt_at is None and feed.sync_started_at is None

    Provider.objects.filter(pk=stay.provider_id).update(status=Provider.Status.APPROVED)
    assert calendar_feed_sync_due_task.delay().get() == 1
    assert ExternalBlock.objects.filter(feed=feed).count() == 2
