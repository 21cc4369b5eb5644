"""Webhook URLs and IPv6 addresses that carry a forbidden IPv4 address (NAT64, 6to4,
Teredo, IPv4-mapped, -translated, -compatible): refused at registration (400 naming
``url``) and when a delivery connects."""

import pytest

from agencies.models import WebhookEndpoint
from agencies.webhooks import (
    booking_status_changed_event,
    webhook_delivery_attempt,
    webhook_register,
)
from providers.models import Booking
from tests.support.resolver import HOSTILE_ADDRESSES, HOSTILE_IDS, answer

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_registration_refuses_the_address_naming_url(
    client, agency_key, settings, address
):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    _agency, key = agency_key
    response = client.post(
        URL,
        {"url": f"https://[{address}]/hooks"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key.key}",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body["errors"]) == ["url"]
    assert "private or reserved" in body["errors"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_registration_refuses_a_name_resolving_to_it(
    client, agency_key, settings, monkeypatch, address
):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    answer(monkeypatch, "hooks.hostile.test", address)
    _agency, key = agency_key
    response = client.post(
        URL,
        {"url": "https://hooks.hostile.test/hooks"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key.key}",
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["url"]


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_delivery_is_refused_when_the_name_now_resolves_to_it(
    agency, hold, settings, monkeypatch, address
):
    """Registered while the name was public; by delivery time the resolver answers
    one of these forms: the attempt fails with the guard's reason (and is retried
    like any failure), nothing is sent."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    asked = answer(monkeypatch, "hooks.hostile.test", "93.184.216.34", address)
    webhook_register(agency=agency, url="http://hooks.hostile.test/hooks")
    booking = hold(agency=agency)
    (delivery,) = booking_status_changed_event(
        booking_id=booking.pk, old=None, new=Booking.Status.ON_HOLD
    )
    result = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=1)
    delivery.refresh_from_db()
    assert result.status == "retry"
    assert "private or reserved address" in delivery.last_error
    assert len(asked) == 2  # at registration, then at connect time
