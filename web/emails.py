"""Emails to website travellers, in the visitor's language (Spanish or English)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from itineraries.selectors import trip_booking_get
from web.booking_selectors import trip_rows

logger = logging.getLogger(__name__)


def trip_confirmed(*, trip_id, manage_url: str, language: str) -> int:
    """To the lead traveller: the trip is booked (parts confirmed or waiting for
    their provider), with the secret link to manage it. Returns emails sent."""
    trip = trip_booking_get(trip_id=trip_id)
    if trip is None or not trip.lead_email:
        return 0
    language = "es" if language.startswith("es") else "en"
    with translation.override(language):
        context = {"trip": trip, "manage_url": manage_url, **trip_rows(trip)}
        subject = " ".join(
            render_to_string("web/emails/trip_confirmed_subject.txt", context).split()
        )
        body = render_to_string("web/emails/trip_confirmed.txt", context).strip()
    return send_mail(
        subject, body + "\n", settings.DEFAULT_FROM_EMAIL, [trip.lead_email]
    )
