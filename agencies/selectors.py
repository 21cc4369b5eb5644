"""Agencies and API keys (reads)."""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import Agency, ApiKey, WebhookEndpoint
from agencies.services import KEY_PREFIX, TEST_MARK, api_key_hash
from tourism.localcache import VersionedLocalCache

# How often ``last_used_at`` is written: not on every request (one UPDATE per call
# would cost more than the check itself under load).
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


# Keys with their agencies, cached in each process (every API request needs one);
# ``agencies.apps`` invalidates the cache when a key or an agency is saved or deleted,
# so a revoked key or a deactivated agency is refused at once.
api_key_cache: VersionedLocalCache[ApiKey] = VersionedLocalCache(
    "agency-api-keys", ttl=60.0, maxsize=4096
)
# Whether an agency has any webhook endpoint (active or not): most agencies have
# none, and then a booking's status change needs no query for webhooks at all. Its
# token is read on every use, not once per request, so an endpoint registered while
# a request runs gets that request's events.
webhook_presence_cache: VersionedLocalCache[bool] = VersionedLocalCache(
    "agency-webhooks", ttl=60.0, maxsize=4096, per_request=False
)


def api_key_genuine(key: str) -> ApiKey | None:
    """The key ``key`` names, with its agency, if ``key`` is genuine (revoked or not,
    whatever its agency's state); None if unknown or malformed. Shared by the
    process's requests: read-only."""
    test = key.startswith(f"{KEY_PREFIX}_{TEST_MARK}_")
    rest = key.removeprefix(f"{KEY_PREFIX}_{TEST_MARK}_" if test else f"{KEY_PREFIX}_")
    if rest == key:
        return None
    parts = rest.split("_", 1)
    if len(parts) != 2 or not parts[0]:
        return None
    hashed = api_key_hash(key)

    def load() -> ApiKey | None:
        found = ApiKey.objects.select_related("agency").filter(prefix=parts[0]).first()
        if found is None or not hmac.compare_digest(found.hashed, hashed):
            return None  # not cached: only genuine keys are
        if found.agency.is_sandbox != test:
            return None  # a sandbox key says so, a live one does not
        return found

    return api_key_cache.get(hashed, load)


def api_key_from_header(key: str) -> ApiKey | None:
    """The active key ``key`` names, with its agency; None if unknown, malformed,
    revoked, or its agency is inactive. Shared by the process's requests:
    read-only."""
    api_key = api_key_genuine(key)
    if api_key is None:
        return None
    if api_key.revoked_at is not None or not api_key.agency.is_active:
        return None
    now = timezone.now()
    if (
        api_key.last_used_at is None
        or now - api_key.last_used_at > LAST_USED_RESOLUTION
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def agency_hold_max_minutes(agency: Agency) -> int:
    """The longest hold the agency's contract allows (minutes): its own maximum,
    else HOLD_MAX_MINUTES, never more than HOLD_MAX_MINUTES."""
    own = agency.hold_max_minutes
    return min(own, settings.HOLD_MAX_MINUTES) if own else settings.HOLD_MAX_MINUTES


def agency_has_webhooks(*, agency_id: int) -> bool:
    """Whether the agency has registered any webhook endpoint."""
    return webhook_presence_cache.get(
        agency_id,
        lambda: WebhookEndpoint.objects.filter(agency_id=agency_id).exists(),
    )


# --- Webhooks -----------------------------------------------------------------------


def webhook_list_for_agency(*, agency: Agency) -> QuerySet[WebhookEndpoint]:
    """The agency's webhooks, oldest first."""
    return WebhookEndpoint.objects.filter(agency=agency).order_by("pk")


def webhook_get_for_agency(*, agency: Agency, pk: int) -> WebhookEndpoint | None:
    """One of the agency's webhooks; None for another agency's (or no) webhook."""
    return WebhookEndpoint.objects.filter(agency=agency, pk=pk).first()
