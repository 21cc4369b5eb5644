"""Celery tasks: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from itineraries import services
from tourism.unavailable import CACHE_ERRORS


@shared_task(
    name="itineraries.plan_solve",
    soft_time_limit=settings.PLAN_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.PLAN_TASK_SOFT_TIME_LIMIT + 30,
    acks_late=True,
    # The database or broker down: try again (a plan left behind anyway is queued
    # again by the stuck-plan sweep).
    autoretry_for=(OperationalError, InterfaceError, BrokerError, *CACHE_ERRORS),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def plan_solve_task(plan_id: str) -> str | None:
    """Solve one plan. The planner's own limit (SOLVER_TIME_LIMIT_SECONDS) is below
    this task's soft limit (checked in settings), so it stops first."""
    try:
        plan = services.plan_solve(plan_id=plan_id)
    except SoftTimeLimitExceeded:
        services.plan_fail(plan_id=plan_id, message="The solver ran out of time.")
        return None
    return plan.status if plan else None


@shared_task(name="itineraries.trip_expire_holds")
def trip_expire_holds_task() -> int:
    """Release whole-itinerary holds past their expiry and mark the trips expired
    (beat: every minute, next to the providers' own hold sweep)."""
    return services.trip_expire_holds()


@shared_task(name="itineraries.plans_sweep_stuck", ignore_result=True)
def plans_sweep_stuck_task() -> dict[str, int]:
    """Queue again, or give up, plans stuck queued or solving (beat: every
    PLAN_SWEEP_SECONDS)."""
    return services.plans_sweep_stuck()
