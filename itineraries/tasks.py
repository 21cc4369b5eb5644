"""Celery tasks: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from itineraries import services


@shared_task(
    name="itineraries.plan_solve",
    soft_time_limit=settings.PLAN_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.PLAN_TASK_SOFT_TIME_LIMIT + 30,
    acks_late=True,
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
