"""Webhooks delivered by a real Celery worker process through Redis, to a real HTTP
server on 127.0.0.1 (bin/test runs this with PostgreSQL and Redis; skipped without)."""

import json
import time

import pytest

from agencies.models import WebhookDelivery
from agencies.tasks import webhook_deliver_task
from agencies.webhooks import (
    booking_status_changed_event,
    verify_signature,
    webhook_register,
)
from providers.models import Booking
from providers.services import booking_confirm

# transaction=True: the rows are committed, so the worker (its own process and
# database connection) sees them, and the deliveries are queued at commit.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_worker_delivers_hold_and_confirmation(
    celery_worker, agency, hold, webhook_server
):
    new = webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    booking = booking_confirm(booking=hold(agency=agency))
    delivered = WebhookDelivery.objects.filter(
        endpoint=new.endpoint, status=WebhookDelivery.Status.DELIVERED
    )
    assert wait_for(lambda: delivered.count() == 2), list(
        WebhookDelivery.objects.values("status", "attempts", "last_error")
    )
    assert len(webhook_server.received) == 2
    statuses = set()
    for received in webhook_server.received:
        signature = received.headers["x-tourism-signature"]
        assert verify_signature(new.secret, signature, received.body)
        data = json.loads(received.body)["data"]
        assert data["bookingUuid"] == str(booking.uuid)
        statuses.add(data["status"])
    assert statuses == {"ON_HOLD", "CONFIRMED"}


def test_worker_records_a_failure_and_schedules_the_retry(
    celery_worker, agency, hold, webhook_server
):
    """The result comes back through the Redis backend; the retry waits in the
    queue (countdown) while the row says when it is due."""
    webhook_server.answer("/down", 500)
    webhook_register(agency=agency, url=webhook_server.url("/down"))
    booking = hold(agency=agency)
    assert wait_for(lambda: len(webhook_server.received) == 1)
    (delivery,) = booking_status_changed_event(
        booking_id=booking.pk, old=None, new=Booking.Status.ON_HOLD
    )
    result = webhook_deliver_task.delay(delivery.pk, 1).get(timeout=60)
    # The message queued at commit may have won the claim: then this one skipped.
    assert result["status"] in ("retry", "skipped")
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, attempts=1).exists()
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("pending", 500)
    assert delivery.next_attempt_at > delivery.created_at
    assert len(webhook_server.to("/down")) == 2
