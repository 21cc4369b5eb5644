"""Receivers: booking status changes become webhook deliveries."""

from __future__ import annotations

from typing import Any

from agencies.selectors import agency_has_webhooks
from agencies.webhooks import booking_status_changed_event


def booking_status_changed_receiver(
    sender: Any,
    *,
    booking_id: int,
    old: str | None,
    new: str,
    agency_id: int | None = None,
    **kwargs: Any,
) -> None:
    """``providers.signals.booking_status_changed`` (sent inside the transaction
    that changes the booking): one delivery row per active endpoint of the booking's
    agency, written in that transaction (the outbox: the event exists exactly when
    the change does) and sent right after the commit. Bookings of no agency, or of
    an agency without endpoints, stop here without a query (the cache of
    ``agency_has_webhooks``, which reads the database when the cache is down). A
    database error is raised: the booking change then rolls back with its event."""
    if agency_id is None:
        return
    if agency_has_webhooks(agency_id=agency_id):
        booking_status_changed_event(booking_id=booking_id, old=old, new=new)
