from celery import shared_task

from catalogue.services import catalogue_audit_run


@shared_task
def catalogue_audit_run_task() -> int:
    """Daily data-quality audit of the route catalogue (beat schedule in settings)."""
    return catalogue_audit_run().pk
