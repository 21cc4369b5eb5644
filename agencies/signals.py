"""Receivers: booking status changes become webhook deliveries."""

from __future__ import annotations

import logging
from typing import Any

from agencies.selectors import agency_has_webhooks
from agencies.webhooks import booking_status_changed_event

log = logging.getLogger(__name__)


def booking_status_changed_receiver(
    sender: Any,
    *,
    booking_id: int,
    old: str | None,
    new: str,
    agency_id: int | None = None,
    **kwargs: Any,
) -> None:
    """``providers.signals.booking_status_changed`` (sent after commit): one delivery
    per active endpoint of the booking's agency, queued at once. Bookings of no
    agency, or of an agency without endpoints, stop here without a query (the cache
    of ``agency_has_webhooks``). The booking change is already committed: a failure
    here is logged, never raised to its caller."""
    if agency_id is None:
        return
    try:
        if agency_has_webhooks(agency_id=agency_id):
            booking_status_changed_event(booking_id=booking_id, old=old, new=new)
    except Exception:
        log.exception(
            "webhook event for booking %s (%s → %s) failed", booking_id, old, new
        )
