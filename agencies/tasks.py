"""Webhook delivery tasks (the service ``agencies.webhooks`` does the work)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from agencies.webhooks import webhook_deliver_due, webhook_delivery_attempt


# The database down before the attempt was claimed: the same attempt again later
# (after the claim, a retry finds it taken and the sweep sends it once its lease
# runs out).
@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def webhook_deliver_task(
    delivery_id: int, attempt: int = 1, force: bool = False
) -> dict[str, object]:
    """Make one attempt of a webhook delivery and schedule the next one after a
    failure (no Celery autoretry: the service records the attempt and its backoff on
    the row, and a duplicate or stale message finds nothing to do)."""
    result = webhook_delivery_attempt(
        delivery_id=delivery_id, attempt=attempt, force=force
    )
    if result.retry_in is not None:
        webhook_deliver_task.apply_async(
            (delivery_id, attempt + 1), countdown=result.retry_in
        )
    return result.as_dict()


@shared_task(ignore_result=True)
def webhook_deliver_due_task() -> int:
    """Re-enqueue deliveries whose message was lost (beat: every minute)."""
    return webhook_deliver_due()
