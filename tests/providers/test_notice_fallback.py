"""A booking email when the broker cannot be reached: the booking request is not
held up by publish retries, and the email stays in the outbox until the sweep
sends it, once. The Celery app is pointed at a local port nothing listens on (a
real refused connection, no stub)."""

import datetime as dt
import socket
import time

import pytest
from django.test import TestCase
from django.utils import timezone

from outbox.models import Message
from outbox.services import messages_deliver_due
from providers.models import Booking
from providers.services import booking_confirm, booking_hold
from tests.providers.factories import make_listing, make_provider
from tourism.celery_app import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    """Tasks not eager, and the broker a closed port on 127.0.0.1 (the app's
    connection and producer pools are rebuilt for it, then restored)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = (app.conf.broker_url, app.conf.task_always_eager, app._pool)
    saved_producers = app.amqp._producer_pool
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app.conf.task_always_eager, app._pool = saved
        app.amqp._producer_pool = saved_producers


def test_with_the_broker_down_the_email_waits_in_the_outbox(
    small_catalogue, broker_down, mailoutbox
):
    booking = booking_hold(
        listing=make_listing(make_provider()),
        day=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30),
        start_time=None,
        units={"adult": 2},
        channel=Booking.Channel.WEBSITE,
    )
    started = time.monotonic()
    with TestCase.captureOnCommitCallbacks(execute=True):
        booking_confirm(booking=booking)
    assert time.monotonic() - started < 3.0
    assert mailoutbox == []
    (message,) = Message.objects.filter(key__startswith=f"booking:{booking.pk}:")
    assert (message.status, message.attempts) == (Message.Status.PENDING, 0)
    later = timezone.now() + dt.timedelta(minutes=1)
    assert messages_deliver_due(now=later) == {"sent": 1}
    assert messages_deliver_due(now=later) == {}  # sent once
    (mail,) = mailoutbox
    assert str(booking.uuid) in mail.body
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert mail.extra_headers["X-Idempotency-Key"] == message.key
