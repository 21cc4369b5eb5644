"""Agencies and API keys (reads)."""

from __future__ import annotations

import datetime as dt
import hmac

from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import Agency, ApiKey, WebhookEndpoint
from agencies.services import KEY_PREFIX, api_key_hash

# How often ``last_used_at`` is written: not on every request (one UPDATE per call
# would cost more than the check itself under load).
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def api_key_from_header(key: str) -> ApiKey | None:
    """The active key ``key`` names, with its agency; None if unknown, malformed,
    revoked, or its agency is inactive."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1]:
        return None
    api_key = ApiKey.objects.select_related("agency").filter(prefix=parts[1]).first()
    if api_key is None or not hmac.compare_digest(api_key.hashed, api_key_hash(key)):
        return None
    if api_key.revoked_at is not None or not api_key.agency.is_active:
        return None
    now = timezone.now()
    if (
        api_key.last_used_at is None
        or now - api_key.last_used_at > LAST_USED_RESOLUTION
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


# --- Webhooks -----------------------------------------------------------------------


def webhook_list_for_agency(*, agency: Agency) -> QuerySet[WebhookEndpoint]:
    """The agency's webhooks, oldest first."""
    return WebhookEndpoint.objects.filter(agency=agency).order_by("pk")


def webhook_get_for_agency(*, agency: Agency, pk: int) -> WebhookEndpoint | None:
    """One of the agency's webhooks; None for another agency's (or no) webhook."""
    return WebhookEndpoint.objects.filter(agency=agency, pk=pk).first()
