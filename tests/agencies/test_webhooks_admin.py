"""Staff read the delivery log, replay deliveries and re-enable endpoints."""

import pytest
from django.utils import timezone

from agencies.models import WebhookDelivery, WebhookEndpoint
from agencies.webhooks import booking_status_changed_event, webhook_register
from providers.models import Booking

pytestmark = pytest.mark.django_db

LOG = "/admin/agencies/webhookdelivery/"
ENDPOINTS = "/admin/agencies/webhookendpoint/"


@pytest.fixture
def failed(agency, hold, webhook_server):
    """A delivery that failed for good (the endpoint was down)."""
    booking = hold(agency=agency)  # before the webhook: no event of its own
    endpoint = webhook_register(
        agency=agency, url=webhook_server.url("/hooks")
    ).endpoint
    (delivery,) = booking_status_changed_event(
        booking_id=booking.pk, old=None, new=Booking.Status.ON_HOLD
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED,
        attempts=8,
        last_status_code=503,
        last_error="HTTP 503.",
        next_attempt_at=None,
    )
    delivery.refresh_from_db()
    return endpoint, delivery


def test_delivery_log_lists_filters_and_shows_the_payload(
    admin_client, failed, other_agency_key, webhook_server, hold
):
    _endpoint, delivery = failed
    other, _key = other_agency_key
    booking = hold(agency=other)
    webhook_register(agency=other, url=webhook_server.url("/other"))
    (theirs,) = booking_status_changed_event(
        booking_id=booking.pk, old=None, new=Booking.Status.ON_HOLD
    )
    page = admin_client.get(LOG)
    assert page.status_code == 200
    assert page.context["cl"].result_count == 2

    by_status = admin_client.get(LOG, {"status__exact": "failed"})
    assert [d.pk for d in by_status.context["cl"].result_list] == [delivery.pk]
    by_agency = admin_client.get(LOG, {"endpoint__agency__id__exact": other.pk})
    assert [d.pk for d in by_agency.context["cl"].result_list] == [theirs.pk]
    by_event = admin_client.get(LOG, {"event__exact": "booking.status_changed"})
    assert by_event.context["cl"].result_count == 2

    detail = admin_client.get(f"{LOG}{delivery.pk}/change/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "&quot;bookingUuid&quot;" in html and "HTTP 503." in html
    assert 'name="payload"' not in html  # read-only: no form field
    assert admin_client.get(f"{LOG}add/").status_code == 403


def test_replay_sends_a_failed_delivery_again_as_a_new_delivery(
    admin_client, failed, webhook_server, django_capture_on_commit_callbacks
):
    """The endpoint is back: the replay is a new delivery with the same event id and
    payload, delivered; the failed row stays in the log."""
    _endpoint, delivery = failed
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            LOG, {"action": "replay", "_selected_action": [delivery.pk]}, follow=True
        )
    assert response.status_code == 200
    assert "1 delivery(ies) queued again." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    replay = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert (replay.status, replay.attempts) == ("delivered", 1)
    assert (replay.event_id, replay.payload) == (delivery.event_id, delivery.payload)
    (received,) = webhook_server.received
    assert received.headers["x-tourism-delivery"] == str(delivery.event_id)


def test_replay_skips_pending_deliveries_and_disabled_endpoints(
    admin_client, failed, agency, hold, webhook_server
):
    endpoint, delivery = failed
    # The new hold's own event (written with the hold, in its transaction).
    pending = WebhookDelivery.objects.get(
        payload__data__bookingUuid=str(hold(agency=agency).uuid)
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    response = admin_client.post(
        LOG,
        {"action": "replay", "_selected_action": [delivery.pk, pending.pk]},
        follow=True,
    )
    assert "2 skipped" in response.content.decode()
    assert WebhookDelivery.objects.count() == 2
    assert webhook_server.received == []


def test_re_enable_action_resets_a_disabled_endpoint(admin_client, failed):
    endpoint, _delivery = failed
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False,
        consecutive_failures=5,
        disabled_at=timezone.now(),
        disabled_reason="Disabled after 5 deliveries in a row failed.",
    )
    listed = admin_client.get(ENDPOINTS, {"is_active__exact": "0"})
    assert [e.pk for e in listed.context["cl"].result_list] == [endpoint.pk]
    admin_client.post(
        ENDPOINTS, {"action": "enable", "_selected_action": [endpoint.pk]}
    )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0
    assert endpoint.disabled_at is None and endpoint.disabled_reason == ""
    detail = admin_client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in detail  # the signing secret is never displayed
    assert admin_client.get(f"{ENDPOINTS}add/").status_code == 403
