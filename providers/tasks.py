from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from providers import notifications
from providers.models import OctoConnection
from providers.octo_pull import octo_connection_sync, octo_connections_due
from providers.services import booking_expire_holds
from providers.sync.services import (
    calendar_feed_claim_due,
    calendar_feed_sweep_stuck,
    calendar_feed_sync,
)


@shared_task
def booking_expire_holds_task() -> int:
    """Release holds past their expiry (beat: every minute)."""
    return booking_expire_holds()


@shared_task(
    soft_time_limit=settings.ICAL_SYNC_SOFT_TIME_LIMIT,
    time_limit=settings.ICAL_SYNC_TIME_LIMIT,
)
def calendar_feed_sync_task(feed_id: int) -> dict[str, object]:
    """Sync one external calendar (queue ``sync``, see CELERY_TASK_ROUTES). No
    autoretry: the service records failures on the feed, the soft time limit
    included, and schedules the next attempt with backoff itself."""
    return calendar_feed_sync(feed_id=feed_id).as_dict()


@shared_task
def calendar_feed_sync_due_task() -> int:
    """Record the syncs that were killed on the way, then enqueue a sync of every
    active feed that is due (beat: every minute; default queue, it is quick)."""
    calendar_feed_sweep_stuck()
    feed_ids = calendar_feed_claim_due()
    for feed_id in feed_ids:
        calendar_feed_sync_task.delay(feed_id)
    return len(feed_ids)


@shared_task
def octo_connection_sync_task(connection_id: int) -> int:
    """Pull one OCTO connection's products and availability (failures are recorded
    on the connection, with backoff)."""
    connection = OctoConnection.objects.filter(pk=connection_id, is_active=True).first()
    return octo_connection_sync(connection=connection) if connection else 0


@shared_task
def octo_connection_sync_due_task() -> int:
    """Enqueue every OCTO connection that is due (beat: every 5 minutes)."""
    due = octo_connections_due()
    for connection_id in due:
        octo_connection_sync_task.delay(connection_id)
    return len(due)


@shared_task(
    autoretry_for=(OSError, SMTPException),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=False,
    max_retries=6,
    ignore_result=True,  # nobody reads it: no write to the result backend
)
def booking_notice_task(notice: str, booking_id: int) -> int:
    """Send one booking email. Kept only for messages queued before the outbox
    (``outbox``) took over booking emails; nothing queues it any more."""
    return notifications.send_booking_notice(notice, booking_id=booking_id)
