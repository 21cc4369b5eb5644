"""Writes: create a plan, solve it, re-plan it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalogue.services import money_to_minor
from itineraries.models import TripPlan
from itineraries.planning.messages import render_all
from itineraries.planning.planner import Planner, PlanResult
from itineraries.planning.world import Budget, Pace, PlanRequest
from itineraries.selectors import world_load
from tourism.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def plan_request_build(data: Mapping[str, Any]) -> PlanRequest:
    """A :class:`PlanRequest` from stored (validated, JSON) request data."""
    budget = None
    if data.get("budget"):
        currency = data["budget"]["currency"]
        budget = Budget(money_to_minor(data["budget"]["amount"], currency), currency)
    return PlanRequest(
        origin=data["origin"],
        destination=data["destination"],
        start_date=dt.date.fromisoformat(str(data["start_date"])),
        days=int(data["days"]),
        adults=int(data.get("adults", 1)),
        children=int(data.get("children", 0)),
        nationality=data.get("nationality", ""),
        arrival=data.get("arrival", "overland"),
        budget=budget,
        interests=dict(data.get("interests") or {}),
        pace=data.get("pace") or Pace.NORMAL,
        include=tuple(data.get("include") or ()),
        exclude=tuple(data.get("exclude") or ()),
        keep_rides=tuple(data.get("keep_rides") or ()),
        drop_rides=tuple(data.get("drop_rides") or ()),
        keep_stays=tuple(
            (int(lid), dt.date.fromisoformat(day))
            for lid, day in data.get("keep_stays") or ()
        ),
        seed=int(data.get("seed", 0)),
    )


def plan_compute(
    data: Mapping[str, Any], *, time_limit_s: float | None = None
) -> PlanResult:
    """Solve a request without storing it (benchmarks, previews)."""
    request = plan_request_build(data)
    world = world_load(request)
    limit = (
        time_limit_s if time_limit_s is not None else settings.SOLVER_TIME_LIMIT_SECONDS
    )
    return Planner(world, request, time_limit_s=limit).run()


def plan_create(
    *, data: Mapping[str, Any], user=None, parent: TripPlan | None = None
) -> TripPlan:
    """Store a validated request and queue its solve (run at once when Celery is
    eager, i.e. on the embedded default)."""
    from itineraries.tasks import plan_solve_task

    plan = TripPlan.objects.create(
        request=dict(data),
        user=user if getattr(user, "is_authenticated", False) else None,
        parent=parent,
    )
    transaction.on_commit(lambda: plan_solve_task.delay(str(plan.pk)))
    return plan


def plan_solve(*, plan_id: str) -> TripPlan | None:
    """Solve a queued plan; every outcome is stored (solved, infeasible, failed)."""
    claimed = TripPlan.objects.filter(pk=plan_id, status=TripPlan.Status.QUEUED).update(
        status=TripPlan.Status.SOLVING, started_at=timezone.now()
    )
    plan = TripPlan.objects.filter(pk=plan_id).first()
    if plan is None or not claimed:
        return plan  # gone, or another worker has it
    try:
        request = plan_request_build(plan.request)
        world = world_load(request)
        result = Planner(
            world, request, time_limit_s=settings.SOLVER_TIME_LIMIT_SECONDS
        ).run()
    except Exception as exc:  # stored for the traveller, logged for us
        logger.exception("plan %s failed", plan_id)
        plan.status = TripPlan.Status.FAILED
        plan.error = f"{type(exc).__name__}: {exc}"
        plan.finished_at = timezone.now()
        plan.save(update_fields=["status", "error", "finished_at"])
        return plan
    plan_store_result(plan=plan, result=result)
    return plan


def plan_store_result(*, plan: TripPlan, result: PlanResult) -> TripPlan:
    plan.status = (
        TripPlan.Status.SOLVED
        if result.status == "solved"
        else TripPlan.Status.INFEASIBLE
    )
    plan.days = result.days
    plan.totals = result.totals
    plan.explanation = render_all(result.explanation)
    plan.warnings = render_all(result.warnings)
    plan.stats = result.stats
    plan.finished_at = timezone.now()
    plan.save(
        update_fields=[
            "status",
            "days",
            "totals",
            "explanation",
            "warnings",
            "stats",
            "finished_at",
        ]
    )
    return plan


def plan_fail(*, plan_id: str, message: str) -> None:
    TripPlan.objects.filter(pk=plan_id).exclude(
        status__in=[TripPlan.Status.SOLVED, TripPlan.Status.INFEASIBLE]
    ).update(status=TripPlan.Status.FAILED, error=message, finished_at=timezone.now())


def _steps_by_id(plan: TripPlan) -> dict[str, tuple[dict, dict]]:
    return {step["id"]: (day, step) for day in plan.days or [] for step in day["steps"]}


def plan_replan(
    *, plan: TripPlan, keep: list[str], drop: list[str], user=None
) -> TripPlan:
    """A new plan from ``plan``: kept steps are required, dropped ones excluded."""
    if plan.status != TripPlan.Status.SOLVED:
        raise ApplicationError(_("Only a solved plan can be re-planned."), field="id")
    steps = _steps_by_id(plan)
    for field, ids in (("keep", keep), ("drop", drop)):
        for step_id in ids:
            if step_id not in steps:
                raise ApplicationError(
                    _("Step '%(id)s' is not in this plan.") % {"id": step_id},
                    field=field,
                )
            if steps[step_id][1]["kind"] == "free":
                raise ApplicationError(
                    _("Step '%(id)s' is free time: there is nothing to keep or drop.")
                    % {"id": step_id},
                    field=field,
                )
    both = set(keep) & set(drop)
    if both:
        raise ApplicationError(
            _("A step cannot be kept and dropped: %(ids)s")
            % {"ids": ", ".join(sorted(both))},
            field="drop",
        )
    data = dict(plan.request)
    include = list(data.get("include") or [])
    exclude = list(data.get("exclude") or [])
    keep_rides = list(data.get("keep_rides") or [])
    drop_rides = list(data.get("drop_rides") or [])
    keep_stays = list(data.get("keep_stays") or [])
    for step_id in keep:
        _day, step = steps[step_id]
        if step.get("ride"):
            keep_rides.append(step["ride"])
        elif step["kind"] == "stay" and step.get("listing"):
            keep_stays.append([step["listing"], step["slot"]["date"]])
        elif step.get("listing"):
            include.append(step["listing"])
    for step_id in drop:
        _day, step = steps[step_id]
        if step.get("ride"):
            drop_rides.append(step["ride"])
        elif step.get("listing"):
            exclude.append(step["listing"])
    include = [i for i in dict.fromkeys(include) if i not in exclude]
    data.update(
        include=include,
        exclude=list(dict.fromkeys(exclude)),
        keep_rides=list(dict.fromkeys(r for r in keep_rides if r not in drop_rides)),
        drop_rides=list(dict.fromkeys(drop_rides)),
        keep_stays=[s for s in keep_stays if s[0] not in exclude],
    )
    return plan_create(data=data, user=user, parent=plan)
