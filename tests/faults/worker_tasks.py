"""Tasks only the fault tests' workers load (``celery worker --include``): load that
keeps messages unacknowledged (acks_late) while the broker goes away."""

import time

from celery import shared_task


@shared_task(name="faults.nap", acks_late=True, ignore_result=True)
def nap(seconds: float) -> None:
    time.sleep(seconds)
