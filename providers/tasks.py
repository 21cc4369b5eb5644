from celery import shared_task

from providers.services import booking_expire_holds


@shared_task
def booking_expire_holds_task() -> int:
    """Release holds past their expiry (beat: every minute)."""
    return booking_expire_holds()
