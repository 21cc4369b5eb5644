"""Booking emails leave the booking request: a real Celery worker process, through
Redis, renders and sends them once the booking is committed (bin/test runs this
with PostgreSQL and Redis; the embedded-default run deselects it)."""

import datetime as dt
import time

import pytest

from providers.models import Booking
from providers.services import booking_confirm, booking_hold
from tests.conftest import WORKER_MAIL_DIR
from tests.providers.factories import make_listing, make_provider

# transaction=True: committed rows, so the worker (its own process and database
# connection) sees them and the task is queued at the commit.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def sent_mentioning(text: str) -> list[str]:
    if not WORKER_MAIL_DIR.exists():
        return []
    mails = (path.read_text(errors="replace") for path in WORKER_MAIL_DIR.iterdir())
    return [mail for mail in mails if text in mail]


def test_the_worker_sends_the_providers_confirmation_email(
    celery_worker, small_catalogue
):
    provider = make_provider()
    listing = make_listing(provider, title_en="Totora boat morning")
    booking = booking_hold(
        listing=listing,
        day=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30),
        start_time=None,
        units={"adult": 2},
        channel=Booking.Channel.WEBSITE,
        lead_name="Ana Quispe",
    )
    booking_confirm(booking=booking)
    deadline = time.monotonic() + 30
    while not (mails := sent_mentioning(str(booking.uuid))):
        assert time.monotonic() < deadline, "the worker sent no email"
        time.sleep(0.2)
    (mail,) = mails
    assert f"To: {provider.email}" in mail
    assert "Ana Quispe" in mail
