"""Booking status changes of agency bookings reach the agency's endpoints, signed;
failures are retried with backoff, then given up, and endpoints that keep failing are
disabled with an email. A real HTTP server on 127.0.0.1 answers (Celery eager)."""

import datetime as dt
import json
import socket
import threading

import pytest
from django.db import connection
from django.utils import timezone

from agencies.models import WebhookDelivery, WebhookEndpoint
from agencies.tasks import webhook_deliver_task
from agencies.webhooks import (
    booking_status_changed_event,
    verify_signature,
    webhook_deliver_due,
    webhook_delivery_attempt,
    webhook_register,
)
from providers.models import Booking, Listing
from providers.services import (
    booking_cancel,
    booking_confirm,
    booking_decline,
    booking_mark_attendance,
)
from tests.providers.factories import make_listing, make_provider

pytestmark = pytest.mark.django_db


def _payload(received):
    return json.loads(received.body)


def test_hold_and_confirm_of_an_agency_booking_are_delivered_signed(
    agency, hold, listing, webhook_server, django_capture_on_commit_callbacks
):
    """Hold then confirm: two events, each POSTed once after commit with the event
    headers and a signature that verifies with the secret given at registration."""
    new = webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    with django_capture_on_commit_callbacks(execute=True):
        booking = hold(agency=agency)
    confirming = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_confirm(booking=booking)
    booking.refresh_from_db()

    held, confirmed = webhook_server.to("/hooks")
    for received in (held, confirmed):
        headers = received.headers
        assert headers["content-type"] == "application/json"
        assert headers["x-tourism-event"] == "booking.status_changed"
        assert headers["x-tourism-delivery"] == _payload(received)["id"]
        assert verify_signature(
            new.secret, headers["x-tourism-signature"], received.body
        )
        assert not verify_signature(
            "whsec_wrong", headers["x-tourism-signature"], received.body
        )
    assert _payload(held)["data"]["status"] == "ON_HOLD"
    assert _payload(held)["data"]["previousStatus"] is None
    event = _payload(confirmed)
    assert event["event"] == "booking.status_changed"
    assert event["created"].endswith("Z")
    assert event["data"] == {
        "bookingUuid": str(booking.uuid),
        "supplierReference": booking.supplier_reference,
        "resellerReference": "AT-1001",
        "status": "CONFIRMED",
        "previousStatus": "ON_HOLD",
        "noShow": False,
        "cancellationReason": None,
        "productId": str(listing.pk),
        "utcUpdatedAt": event["created"],  # the event is made as the change commits
    }
    created = dt.datetime.fromisoformat(event["created"])
    assert confirming.replace(microsecond=0) <= created <= timezone.now()
    deliveries = WebhookDelivery.objects.filter(endpoint=new.endpoint)
    assert deliveries.count() == 2
    for delivery in deliveries:
        assert delivery.status == WebhookDelivery.Status.DELIVERED
        assert (delivery.attempts, delivery.last_status_code) == (1, 200)
        assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert {str(d.event_id) for d in deliveries} == {
        _payload(held)["id"],
        _payload(confirmed)["id"],
    }


def test_every_active_endpoint_gets_the_event_with_one_event_id(
    agency, hold, webhook_server, django_capture_on_commit_callbacks
):
    webhook_register(agency=agency, url=webhook_server.url("/a"))
    webhook_register(agency=agency, url=webhook_server.url("/b"))
    off = webhook_register(agency=agency, url=webhook_server.url("/off")).endpoint
    WebhookEndpoint.objects.filter(pk=off.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        hold(agency=agency)
    assert sorted(r.path for r in webhook_server.received) == ["/a", "/b"]
    ids = {r.headers["x-tourism-delivery"] for r in webhook_server.received}
    assert len(ids) == 1


def test_bookings_without_an_agency_or_webhook_send_nothing(
    agency, other_agency_key, hold, webhook_server, django_capture_on_commit_callbacks
):
    """Website bookings, agencies without webhooks, inactive agencies: no event."""
    webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    other, _key = other_agency_key
    with django_capture_on_commit_callbacks(execute=True):
        hold()
        hold(agency=other)
    agency.is_active = False
    agency.save()
    with django_capture_on_commit_callbacks(execute=True):
        hold(agency=agency)
    assert webhook_server.received == []
    assert not WebhookDelivery.objects.exists()


def test_an_endpoint_registered_after_bookings_without_one_gets_the_next_event(
    agency, hold, webhook_server, django_capture_on_commit_callbacks
):
    """Whether an agency has endpoints is cached per process: registering or
    deleting one reaches the next status change at once."""
    with django_capture_on_commit_callbacks(execute=True):
        booking = hold(agency=agency)  # no endpoint yet: cached as none
    new = webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking=booking)
    assert [_payload(r)["data"]["status"] for r in webhook_server.received] == [
        "CONFIRMED"
    ]
    new.endpoint.delete()
    with django_capture_on_commit_callbacks(execute=True):
        hold(agency=agency)
    assert len(webhook_server.received) == 1


def test_status_names_follow_octo(
    agency, small_catalogue, day, webhook_server, django_capture_on_commit_callbacks
):
    """The OCTO API's names: declined is REJECTED; a no-show stays CONFIRMED (OCTO
    has no such state) and the event says noShow; cancellations and on-request waits
    have their OCTO names."""
    from providers.services import booking_hold

    webhook_register(agency=agency, url=webhook_server.url("/hooks"))
    provider = make_provider()
    on_request = make_listing(provider, confirmation=Listing.Confirmation.ON_REQUEST)
    instant = make_listing(provider)

    def hold_on(listing):
        return booking_hold(
            listing=listing,
            day=day,
            start_time=None,
            units={"adult": 1},
            channel=Booking.Channel.AGENCY,
            agency=agency,
        )

    with django_capture_on_commit_callbacks(execute=True):
        declined = hold_on(on_request)
    for change in (booking_confirm, booking_decline):
        with django_capture_on_commit_callbacks(execute=True):
            change(booking=declined)
    with django_capture_on_commit_callbacks(execute=True):
        no_show = hold_on(instant)
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking=no_show)
    with django_capture_on_commit_callbacks(execute=True):
        booking_mark_attendance(booking=no_show, showed_up=False)
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = hold_on(instant)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=cancelled, reason="Flight cancelled")

    events = [_payload(r)["data"] for r in webhook_server.received]
    seen = [(d["previousStatus"], d["status"], d["noShow"]) for d in events]
    # The agency's cancellation reason travels with the cancellation only.
    assert [d["cancellationReason"] for d in events] == [None] * 7 + [
        "Flight cancelled"
    ]
    assert seen == [
        (None, "ON_HOLD", False),
        ("ON_HOLD", "PENDING", False),
        ("PENDING", "REJECTED", False),
        (None, "ON_HOLD", False),
        ("ON_HOLD", "CONFIRMED", False),
        ("CONFIRMED", "CONFIRMED", True),
        (None, "ON_HOLD", False),
        ("ON_HOLD", "CANCELLED", False),
    ]


@pytest.fixture
def pending(agency, hold, webhook_server):
    """An endpoint at /hooks and one delivery whose first attempt is due now (its
    queue message is never sent: the test makes the attempts itself)."""
    endpoint = webhook_register(
        agency=agency, url=webhook_server.url("/hooks")
    ).endpoint
    booking = hold(agency=agency)
    (delivery,) = booking_status_changed_event(
        booking_id=booking.pk, old=None, new=Booking.Status.ON_HOLD
    )
    return endpoint, delivery


def test_retry_on_500_with_exponential_backoff_then_success(
    pending, webhook_server, settings
):
    """500, 500, 200: the retries wait base × 1 then base × 2 (+ up to 10 %); an
    early or duplicate message does nothing; the success resets the failure count."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    endpoint, delivery = pending
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=3)
    webhook_server.answer("/hooks", 500, 500, 200)
    now = timezone.now()

    first = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1, now=now)
    delivery.refresh_from_db()
    assert (first.status, first.status_code) == ("retry", 500)
    assert 30 <= first.retry_in <= 33
    assert delivery.next_attempt_at == now + dt.timedelta(seconds=first.retry_in)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert (delivery.last_status_code, delivery.last_error) == (500, "HTTP 500.")

    early = webhook_delivery_attempt(
        delivery_id=delivery.pk, attempt=2, now=now + dt.timedelta(seconds=10)
    )
    again = webhook_delivery_attempt(
        delivery_id=delivery.pk, attempt=1, now=now + dt.timedelta(minutes=5)
    )
    assert early.status == again.status == "skipped"
    assert len(webhook_server.received) == 1

    second_at = delivery.next_attempt_at
    second = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=2, now=second_at)
    delivery.refresh_from_db()
    assert second.status == "retry" and 60 <= second.retry_in <= 66
    assert delivery.next_attempt_at == second_at + dt.timedelta(seconds=second.retry_in)

    third = webhook_delivery_attempt(
        delivery_id=delivery.pk, attempt=3, now=delivery.next_attempt_at
    )
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (third.status, third.status_code) == ("delivered", 200)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "delivered",
        3,
        "",
    )
    assert delivery.next_attempt_at is None
    assert endpoint.consecutive_failures == 0
    assert len(webhook_server.received) == 3
    # Every attempt of one delivery carries the same event id.
    assert {r.headers["x-tourism-delivery"] for r in webhook_server.received} == {
        str(delivery.event_id)
    }


def test_task_schedules_the_retry_and_an_early_run_does_nothing(
    pending, webhook_server, settings
):
    """Eager Celery runs the retry message at once, before it is due: it finds the
    attempt not due and leaves the row for its real time."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    _endpoint, delivery = pending
    webhook_server.answer("/hooks", 500)
    result = webhook_deliver_task.delay(delivery.pk, 1).get()
    delivery.refresh_from_db()
    assert result["status"] == "retry" and 30 <= result["retry_in"] <= 33
    assert delivery.attempts == 1 and delivery.status == "pending"
    assert len(webhook_server.received) == 1


def test_task_chain_retries_until_delivered(pending, webhook_server, settings):
    """With a tiny base delay the (eager) retry messages are due at once: the chain
    of tasks retries until the 200."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.001
    _endpoint, delivery = pending
    webhook_server.answer("/hooks", 500, 502, 200)
    webhook_deliver_task.delay(delivery.pk, 1).get()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert len(webhook_server.received) == 3


def test_gives_up_then_disables_the_endpoint_with_a_bilingual_email(
    agency,
    hold,
    webhook_server,
    settings,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """Each event is tried WEBHOOK_MAX_ATTEMPTS times then FAILED; after
    WEBHOOK_DISABLE_AFTER failed events the endpoint is disabled, the agency gets one
    email (Spanish and English), and later events are not even created for it."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.001
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_DISABLE_AFTER = 2
    endpoint = webhook_register(agency=agency, url=webhook_server.url("/down")).endpoint
    webhook_server.answer("/down", 503)
    booking = hold(agency=agency)
    WebhookDelivery.objects.all().delete()  # the hold's own event: not sent here

    def event():
        (delivery,) = booking_status_changed_event(
            booking_id=booking.pk, old=None, new=Booking.Status.ON_HOLD
        )
        result = webhook_deliver_task.delay(delivery.pk, 1).get()
        delivery.refresh_from_db()
        return result, delivery

    result, first = event()
    endpoint.refresh_from_db()
    assert result["status"] == "retry"  # the first attempt's own result
    assert (first.status, first.attempts, first.last_status_code) == ("failed", 3, 503)
    assert first.next_attempt_at is None
    assert (endpoint.is_active, endpoint.consecutive_failures) == (True, 1)
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):  # the outbox email
        _result, second = event()
    endpoint.refresh_from_db()
    assert second.status == "failed"
    assert (endpoint.is_active, endpoint.consecutive_failures) == (False, 2)
    assert endpoint.disabled_at is not None
    assert "2 deliveries in a row failed" in endpoint.disabled_reason
    (email,) = mailoutbox
    assert email.to == ["ops@andes.example"]
    assert endpoint.url in email.subject
    assert "Desactivamos su webhook" in email.body
    assert "We disabled your webhook" in email.body
    assert "HTTP 503." in email.body

    assert (
        booking_status_changed_event(
            booking_id=booking.pk, old=None, new=Booking.Status.ON_HOLD
        )
        == []
    )
    assert len(webhook_server.received) == 6
    assert len(mailoutbox) == 1


def test_a_success_resets_the_consecutive_failures(pending, webhook_server):
    endpoint, delivery = pending
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=4)
    assert webhook_deliver_task.delay(delivery.pk, 1).get()["status"] == "delivered"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.is_active


def test_pending_delivery_of_a_disabled_endpoint_is_not_sent(pending, webhook_server):
    endpoint, delivery = pending
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    result = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1)
    delivery.refresh_from_db()
    assert result.status == "failed" and delivery.status == "failed"
    assert "disabled" in delivery.last_error
    assert webhook_server.received == []
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0  # not the agency's failure


def test_timeout_is_recorded_and_retried(pending, webhook_server, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    _endpoint, delivery = pending
    webhook_server.answer("/hooks", 200, delay_s=1.5)
    result = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1)
    delivery.refresh_from_db()
    assert result.status == "retry" and result.status_code is None
    assert delivery.last_status_code is None
    assert delivery.last_error == "No answer within 0.3 seconds."


def test_connection_refused_is_recorded_and_retried(agency, hold, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook_register(agency=agency, url=f"http://127.0.0.1:{port}/hooks")
    (delivery,) = booking_status_changed_event(
        booking_id=hold(agency=agency).pk, old=None, new=Booking.Status.ON_HOLD
    )
    result = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1)
    delivery.refresh_from_db()
    assert result.status == "retry"
    assert delivery.last_error.startswith("The address could not be reached")


def test_redirects_are_not_followed(pending, webhook_server):
    _endpoint, delivery = pending
    webhook_server.answer(
        "/hooks", 302, headers={"Location": webhook_server.url("/elsewhere")}
    )
    result = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1)
    delivery.refresh_from_db()
    assert (result.status, delivery.last_status_code) == ("retry", 302)
    assert "redirects are not followed" in delivery.last_error
    assert webhook_server.to("/elsewhere") == []


def test_private_address_is_refused_when_connecting(pending, webhook_server, settings):
    """The SSRF guard runs at every connection: an address that is no longer allowed
    (here: the test allow-list removed) is refused and retried like any failure."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    _endpoint, delivery = pending
    result = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1)
    delivery.refresh_from_db()
    assert result.status == "retry"
    assert "private or reserved address" in delivery.last_error
    assert webhook_server.received == []


def test_sweep_requeues_deliveries_whose_message_was_lost(
    pending, webhook_server, agency, hold
):
    """Overdue by more than the grace: enqueued again (and delivered, eager). Due
    recently, or leased by a running attempt: left alone."""
    _endpoint, lost = pending
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=lost.pk).update(
        next_attempt_at=now - dt.timedelta(minutes=10)
    )
    (recent,) = booking_status_changed_event(
        booking_id=hold(agency=agency).pk, old=None, new=Booking.Status.ON_HOLD
    )
    (running,) = booking_status_changed_event(
        booking_id=hold(agency=agency).pk, old=None, new=Booking.Status.ON_HOLD
    )
    WebhookDelivery.objects.filter(pk=running.pk).update(
        attempts=1, next_attempt_at=now + dt.timedelta(seconds=80)
    )
    assert webhook_deliver_due(now=now) == 1
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.status == "delivered" and lost.attempts == 1
    assert recent.status == "pending" and recent.attempts == 0
    assert len(webhook_server.received) == 1
    assert webhook_deliver_due(now=now) == 0


def test_sweep_gives_up_a_delivery_whose_last_attempt_was_cut_short(
    pending, webhook_server, settings
):
    """A worker died during the last attempt: the sweep marks the delivery FAILED
    (counted against the endpoint) instead of trying beyond the maximum."""
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    endpoint, delivery = pending
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=2, next_attempt_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert webhook_deliver_due() == 1
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 2
    assert endpoint.consecutive_failures == 1
    assert webhook_server.received == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_deliver_one_delivery_at_once(agency, webhook_server):
    """Two messages for the same attempt at the same moment (a redelivered message):
    one claims it and POSTs, the other does nothing."""
    endpoint = webhook_register(
        agency=agency, url=webhook_server.url("/hooks")
    ).endpoint
    # Made directly: committed at once here, and no message is queued for it.
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="booking.status_changed",
        payload={"id": "test"},
        next_attempt_at=timezone.now(),
    )
    webhook_server.answer("/hooks", 200, delay_s=0.5)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(
                webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1).status
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["delivered", "skipped"]
    assert len(webhook_server.received) == 1
