"""Plain-text emails about bookings and sign-ups, in Spanish and then English.

Services call these after their transaction commits (``transaction.on_commit``) with
ids, so an email never announces something that was rolled back and a mail server
failure never undoes a booking. Booking emails are sent by a Celery task
(``providers.tasks.booking_notice_task``, retried while the mail server is down), so
rendering them costs the booking request nothing; with eager tasks (the embedded
default) they are sent at once. The backend is the console unless
``DJANGO_EMAIL_BACKEND`` says otherwise.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins, send_mail
from django.template.loader import render_to_string
from django.utils import translation

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
    "booking_accepted": ("providers/emails/booking_accepted", True),
    "booking_declined": ("providers/emails/booking_declined", True),
}


def _send(notice: str, context: dict[str, object]) -> int:
    template, to_lead = _BOOKING_EMAILS[notice]
    booking: Booking = context["booking"]  # type: ignore[assignment]
    if to_lead:
        recipients = [booking.lead_email] if booking.lead_email else []
    else:
        recipients = _member_emails(context["provider"])  # type: ignore[arg-type]
    if not recipients:
        return 0
    subject, body = _bilingual(template, context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def _notice(notice: str, booking_id: int) -> int:
    context = _booking_context(booking_id)
    return _send(notice, context) if context is not None else 0


def booking_confirmed(*, booking_id: int) -> int:
    """To the provider's members: a new confirmed booking."""
    return _notice("booking_confirmed", booking_id)


def booking_needs_answer(*, booking_id: int) -> int:
    """To the provider's members: an on-request booking waits for an answer."""
    return _notice("booking_needs_answer", booking_id)


def booking_cancelled(*, booking_id: int) -> int:
    """To the provider's members: a booking was cancelled and its places released."""
    return _notice("booking_cancelled", booking_id)


def booking_accepted(*, booking_id: int) -> int:
    """To the lead traveller: the provider accepted the request."""
    return _notice("booking_accepted", booking_id)


def booking_declined(*, booking_id: int) -> int:
    """To the lead traveller: the provider declined the request."""
    return _notice("booking_declined", booking_id)


# The booking emails, by name (the task that sends them off the request takes one).
BOOKING_NOTICES = {
    notice.__name__: notice
    for notice in (
        booking_confirmed,
        booking_needs_answer,
        booking_cancelled,
        booking_accepted,
        booking_declined,
    )
}


# How long a sent booking email is remembered, so a repeated message (a worker
# stopped after sending, before acknowledging) does not send it twice.
SENT_MEMORY_SECONDS = 7 * 24 * 3600


def send_booking_notice(notice: str, *, booking_id: int) -> int:
    """Send booking email ``notice`` for ``booking_id`` unless it was sent already;
    the number of emails sent."""
    context = _booking_context(booking_id)
    if context is None:
        return 0
    key = f"booking-notice:{notice}:{context['booking'].uuid}"  # type: ignore[attr-defined]
    if cache.get(key):
        return 0
    sent = _send(notice, context)
    cache.set(key, True, timeout=SENT_MEMORY_SECONDS)
    return sent


def provider_signed_up(*, provider_id: int) -> None:
    """To staff (ADMINS): a new provider waits for approval in the admin."""
    provider = (
        Provider.objects.select_related("home_place", "country")
        .filter(pk=provider_id)
        .first()
    )
    if provider is None:
        return
    subject, body = _bilingual(
        "providers/emails/provider_signed_up", {"provider": provider}
    )
    mail_admins(subject, body)
