"""Emails to website travellers, in the visitor's language (Spanish or English),
queued in the outbox (``outbox.services``) in the transaction of the change."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from itineraries.selectors import manage_token_hash, trip_booking_get
from outbox.services import message_enqueue
from web.booking_selectors import trip_rows

logger = logging.getLogger(__name__)


def trip_confirmed_queue(*, trip_id, manage_url: str, language: str) -> None:
    """Queue the trip-confirmed email in the current transaction. The manage link
    is a secret: the outbox erases it once the email is sent."""
    message_enqueue(
        builder=trip_confirmed_email,
        # One email per trip and manage link (a second link, made for a second
        # device, is emailed too).
        key=f"trip:{trip_id}:confirmed:{manage_token_hash(manage_url)[:16]}",
        payload={
            "trip_id": str(trip_id),
            "secret_manage_url": manage_url,
            "language": language,
        },
    )


def trip_confirmed_email(payload: Mapping[str, Any]) -> EmailMessage | None:
    """To the lead traveller: the trip is booked (parts confirmed or waiting for
    their provider), with the secret link to manage it."""
    trip = trip_booking_get(trip_id=payload["trip_id"])
    manage_url = payload.get("secret_manage_url")
    if trip is None or not trip.lead_email or not manage_url:
        return None
    language = str(payload.get("language") or "en")
    language = "es" if language.startswith("es") else "en"
    with translation.override(language):
        context = {"trip": trip, "manage_url": manage_url, **trip_rows(trip)}
        subject = " ".join(
            render_to_string("web/emails/trip_confirmed_subject.txt", context).split()
        )
        body = render_to_string("web/emails/trip_confirmed.txt", context).strip()
    return EmailMessage(
        subject, body + "\n", settings.DEFAULT_FROM_EMAIL, [trip.lead_email]
    )
