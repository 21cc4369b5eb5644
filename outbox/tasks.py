"""Outbox tasks (the service ``outbox.services`` does the work)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from outbox.services import message_deliver, messages_deliver_due
from tourism.unavailable import CACHE_ERRORS


@shared_task(
    autoretry_for=(OperationalError, InterfaceError, *CACHE_ERRORS),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
    ignore_result=True,
)
def outbox_deliver_task(key: str) -> str:
    """Deliver one outbox message right after the commit that queued it (a
    duplicate message finds it claimed or sent and does nothing). Database errors
    are retried; whatever is left, the sweep finds."""
    return message_deliver(key=key)


@shared_task(ignore_result=True)
def outbox_sweep_task() -> dict[str, int]:
    """Deliver every outbox message that is due (beat: every OUTBOX_SWEEP_SECONDS)."""
    return messages_deliver_due()
