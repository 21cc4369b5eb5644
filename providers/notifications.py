"""Plain-text emails about bookings and sign-ups, in Spanish and then English.

Services queue them in the outbox (``outbox.services.message_enqueue``) inside the
transaction that makes the change, with ids: an email exists exactly when its change
was committed, and a mail server, broker or database outage delays it but never
loses it. The outbox builds each one with the ``*_email`` functions here when it
sends it (off the request, in a worker; at once with eager tasks, the embedded
default). The backend is the console unless ``DJANGO_EMAIL_BACKEND`` says otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from outbox.services import message_enqueue
from providers.models import Booking, Provider
from providers.selectors import booking_rows, listing_get_cached

logger = logging.getLogger(__name__)

LANGUAGES = ("es", "en")
SEPARATOR = "\n\n" + "-" * 60 + "\n\n"


def _bilingual(template: str, context: dict[str, object]) -> tuple[str, str]:
    """(subject, body): each rendered in Spanish, then English."""
    subjects, bodies = [], []
    for language in LANGUAGES:
        with translation.override(language):
            subject = render_to_string(f"{template}_subject.txt", context)
            subjects.append(" ".join(subject.split()))
            bodies.append(render_to_string(f"{template}.txt", context).strip())
    subject = subjects[0] if subjects[0] == subjects[1] else " / ".join(subjects)
    return subject, SEPARATOR.join(bodies) + "\n"


def _booking_context(booking_id: int) -> dict[str, object] | None:
    booking = Booking.objects.select_related("slot").filter(pk=booking_id).first()
    if booking is None:
        return None
    # The listing with its provider, place and units, from the process's cache
    # (the booking's own provider unless staff moved the listing since).
    listing = listing_get_cached(booking.listing_id)
    if listing is not None:
        booking.listing = listing
        if listing.provider_id == booking.provider_id:
            booking.provider = listing.provider
    (row,) = booking_rows(bookings=[booking])
    return {"booking": booking, "row": row, "provider": booking.provider}


def _member_emails(provider: Provider) -> list[str]:
    emails = sorted(
        {
            member.user.email
            for member in provider.members.select_related("user")
            if member.user.email and member.user.is_active
        }
    )
    return emails or ([provider.email] if provider.email else [])


# Booking email name: (template, sent to the lead traveller rather than to the
# provider's members).
_BOOKING_EMAILS = {
    "booking_confirmed": ("providers/emails/booking_confirmed", False),
    "booking_needs_answer": ("providers/emails/booking_needs_answer", False),
    "booking_cancelled": ("providers/emails/booking_cancelled", False),
    "booking_changed": ("providers/emails/booking_changed", False),
    "booking_accepted": ("providers/emails/booking_accepted", True),
    "booking_declined": ("providers/emails/booking_declined", True),
}


def _email(notice: str, context: dict[str, object]) -> EmailMessage | None:
    template, to_lead = _BOOKING_EMAILS[notice]
    booking: Booking = context["booking"]  # type: ignore[assignment]
    if to_lead:
        recipients = [booking.lead_email] if booking.lead_email else []
    else:
        recipients = _member_emails(context["provider"])  # type: ignore[arg-type]
    if not recipients:
        return None
    subject, body = _bilingual(template, context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def booking_notice_email(payload: Mapping[str, Any]) -> EmailMessage | None:
    """The outbox's builder of booking emails: ``{"notice", "booking_id"}``."""
    context = _booking_context(int(payload["booking_id"]))
    return _email(payload["notice"], context) if context is not None else None


def booking_notice_queue(
    notice: str, *, booking_id: int, key: str | None = None
) -> None:
    """Queue booking email ``notice`` (a name in ``BOOKING_NOTICES``) in the current
    transaction; once per booking and notice (or per ``key``: one per change)."""
    if notice not in BOOKING_NOTICES:
        raise ValueError(f"unknown booking email {notice!r}")
    message_enqueue(
        builder=booking_notice_email,
        key=key or f"booking:{booking_id}:{notice}",
        payload={"notice": notice, "booking_id": booking_id},
    )


def send_booking_notice(notice: str, *, booking_id: int) -> int:
    """Build and send booking email ``notice`` now, bypassing the outbox (previews,
    the shell); the number of emails sent."""
    email = booking_notice_email({"notice": notice, "booking_id": booking_id})
    return email.send() if email is not None else 0


# The booking emails' names.
BOOKING_NOTICES = frozenset(_BOOKING_EMAILS)


def provider_signed_up_email(payload: Mapping[str, Any]) -> EmailMessage | None:
    """The outbox's builder of the email to staff (ADMINS): a new provider waits for
    approval in the admin. ``{"provider_id"}``."""
    provider = (
        Provider.objects.select_related("home_place", "country")
        .filter(pk=payload["provider_id"])
        .first()
    )
    if provider is None or not settings.ADMINS:
        return None
    subject, body = _bilingual(
        "providers/emails/provider_signed_up", {"provider": provider}
    )
    return EmailMessage(
        settings.EMAIL_SUBJECT_PREFIX + subject,
        body,
        settings.SERVER_EMAIL,
        [address for _name, address in settings.ADMINS],
    )


def provider_signed_up_queue(*, provider_id: int) -> None:
    """Queue the sign-up email to staff in the current transaction."""
    message_enqueue(
        builder=provider_signed_up_email,
        key=f"provider:{provider_id}:signed_up",
        payload={"provider_id": provider_id},
    )
