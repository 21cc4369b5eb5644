"""Webhook events are outbox rows: written in the transaction that changes the
booking (rolled back with it), whatever the cache does, and sent after the commit
with an Idempotency-Key the receiver can de-duplicate on."""

from __future__ import annotations

import socket

import pytest
from django.db import transaction
from django.test import TestCase

from agencies.models import WebhookDelivery
from agencies.webhooks import webhook_register
from providers.models import Booking
from providers.services import booking_cancel, booking_confirm

pytestmark = pytest.mark.django_db


def test_the_event_rolls_back_with_the_booking_change(agency, hold, webhook_server):
    booking = hold(agency=agency)
    webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    with pytest.raises(RuntimeError), transaction.atomic():
        booking_confirm(booking=booking)
        assert WebhookDelivery.objects.count() == 1  # written with the change
        raise RuntimeError("the request failed after confirming")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ON_HOLD
    assert WebhookDelivery.objects.count() == 0
    assert webhook_server.received == []


def test_the_event_is_sent_after_commit_with_an_idempotency_key(
    agency, hold, webhook_server
):
    booking = hold(agency=agency)
    webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        booking_confirm(booking=booking)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    (received,) = webhook_server.received
    assert received.headers["idempotency-key"] == str(delivery.event_id)
    assert received.headers["x-tourism-delivery"] == str(delivery.event_id)


def test_with_redis_down_the_event_is_still_written(
    agency, hold, webhook_server, settings
):
    """The cache that says whether an agency has webhooks is unreachable (a closed
    port): the receiver asks the database, and the event exists."""
    booking = hold(agency=agency)
    webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "tourism.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        booking_cancel(booking=booking)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.payload["data"]["status"] == "CANCELLED"
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert len(webhook_server.received) == 1
