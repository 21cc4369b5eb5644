"""Writes: create a plan, solve it, re-plan it; hold, confirm and cancel a whole
itinerary (trip bookings)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agencies.selectors import agency_hold_max_minutes
from catalogue.services import money_to_minor
from itineraries.models import TripBooking, TripBookingPart, TripPlan
from itineraries.planning.messages import render_all
from itineraries.planning.world import Budget, Pace, PlanRequest
from itineraries.selectors import (
    TripOwner,
    TripPartSpec,
    manage_token_expiry,
    manage_token_hash,
    party_units,
    plan_open_to,
    plan_secret_hash,
    plan_trip_parts,
    trip_booking_get,
    trip_booking_get_owned,
    world_load,
)
from providers.models import Booking, Listing
from providers.selectors import listings_with_offer
from providers.services import booking_cancel, booking_confirm, booking_hold
from providers.services.bookings import booking_expire_hold
from tourism.exceptions import (
    ApplicationError,
    BookingExpired,
    BookingStateError,
    BookingUnavailable,
    NotFoundError,
    RateLimited,
)
from tourism.ratelimit import rate_admit
from tourism.unavailable import dependency_failed

if TYPE_CHECKING:
    from itineraries.planning.planner import PlanResult

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
        include=tuple(item_keys(data.get("include"))),
        exclude=tuple(item_keys(data.get("exclude"))),
        via=data.get("via") or "copacabana",
        keep_rides=tuple(data.get("keep_rides") or ()),
        drop_rides=tuple(data.get("drop_rides") or ()),
        keep_stays=tuple(
            (int(lid), dt.date.fromisoformat(day))
            for lid, day in data.get("keep_stays") or ()
        ),
        keep_nights=tuple(data.get("keep_nights") or ()),
        pinned=tuple(item_keys(data.get("pinned"))),
        pinned_rides=tuple(data.get("pinned_rides") or ()),
        seed=int(data.get("seed", 0)),
    )


def item_keys(values) -> list:
    """Stored must-see / excluded items as planner keys: listing ids (int) and
    ``"sight:<slug>"``."""
    keys: list = []
    for value in values or ():
        if isinstance(value, str) and value.startswith("sight:"):
            keys.append(value)
        else:
            keys.append(int(value))
    return keys


def plan_compute(
    data: Mapping[str, Any], *, time_limit_s: float | None = None
) -> PlanResult:
    """Solve a request without storing it (benchmarks, previews)."""
    request = plan_request_build(data)
    world = world_load(request)
    limit = (
        time_limit_s if time_limit_s is not None else settings.SOLVER_TIME_LIMIT_SECONDS
    )
    # Imported here: OR-Tools (~90 MiB) loads in the processes that plan, not in
    # every web worker.
    from itineraries.planning.planner import Planner

    return Planner(world, request, time_limit_s=limit).run()


SOLVER_RUNS_KEY = "ratelimit:solver-runs"


def solver_run_admit() -> None:
    """Count one solver run against SOLVER_RUNS_PER_MINUTE (all clients together);
    RateLimited (429, with the seconds to wait) when the minute is full."""
    per_minute = settings.SOLVER_RUNS_PER_MINUTE
    if per_minute <= 0:
        return
    wait = rate_admit(SOLVER_RUNS_KEY, per_minute, 60, fail_open=False)
    if wait is not None:
        raise RateLimited(
            _(
                "The planner is busy: too many plans are being made right now. Try "
                "again in %(seconds)s seconds."
            )
            % {"seconds": wait},
            retry_after=wait,
        )


def plan_secret_new() -> str:
    """A new plan secret (the creator's link to the plan; only its hash is kept)."""
    return secrets.token_urlsafe(24)


def plan_create(
    *,
    data: Mapping[str, Any],
    user=None,
    parent: TripPlan | None = None,
    agency=None,
    secret: str = "",
) -> TripPlan:
    """Store a validated request and queue its solve (run at once when Celery is
    eager, i.e. on the embedded default). The plan belongs to ``agency`` (an API
    key's) or to ``user`` (signed in) and/or to the holder of ``secret``; a re-plan
    (``parent``) made without a secret of its own keeps its parent's. Every solve
    counts against the global limit of solver runs (RateLimited when full)."""
    from itineraries.tasks import plan_solve_task

    solver_run_admit()
    if secret:
        secret_hash = plan_secret_hash(secret)
    else:
        secret_hash = parent.secret_hash if parent is not None else ""
    plan = TripPlan.objects.create(
        request=dict(data),
        user=user if getattr(user, "is_authenticated", False) else None,
        agency=agency,
        parent=parent,
        secret_hash="" if agency is not None else secret_hash,
    )
    # A broker that is down leaves the plan queued: the stuck-plan sweep queues it
    # again (``plans_sweep_stuck``).
    transaction.on_commit(lambda: _publish_solve(plan_solve_task, str(plan.pk)))
    return plan


def plan_solve(*, plan_id: str) -> TripPlan | None:
    """Solve a queued plan; every outcome is stored (solved, infeasible, failed)."""
    claimed = TripPlan.objects.filter(pk=plan_id, status=TripPlan.Status.QUEUED).update(
        status=TripPlan.Status.SOLVING, started_at=timezone.now()
    )
    plan = TripPlan.objects.filter(pk=plan_id).first()
    if plan is None or not claimed:
        return plan  # gone, or another worker has it
    from itineraries.planning.planner import Planner  # see plan_compute

    try:
        request = plan_request_build(plan.request)
        world = world_load(request)
        result = Planner(
            world, request, time_limit_s=settings.SOLVER_TIME_LIMIT_SECONDS
        ).run()
    except Exception as exc:  # stored for the traveller, logged for us
        if dependency_failed(exc):
            # PostgreSQL or Redis down: not the plan's fault. Queue it again (if the
            # database answers; else the stuck-plan sweep will) and let the task
            # retry.
            with contextlib.suppress(Exception):
                TripPlan.objects.filter(
                    pk=plan_id, status=TripPlan.Status.SOLVING
                ).update(status=TripPlan.Status.QUEUED)
            raise
        logger.exception("plan %s failed", plan_id)
        plan.status = TripPlan.Status.FAILED
        plan.error = f"{type(exc).__name__}: {exc}"
        plan.finished_at = timezone.now()
        plan.save(update_fields=["status", "error", "finished_at"])
        return plan
    plan_store_result(plan=plan, result=result)
    return plan


def plan_store_result(*, plan: TripPlan, result: PlanResult) -> TripPlan:
    plan.status = {
        "solved": TripPlan.Status.SOLVED,
        "infeasible": TripPlan.Status.INFEASIBLE,
        "failed": TripPlan.Status.FAILED,
    }[result.status]
    plan.days = result.days
    plan.totals = result.totals
    plan.explanation = render_all(result.explanation)
    plan.warnings = render_all(result.warnings)
    plan.stats = result.stats
    plan.route = result.route
    plan.fixes = result.fixes
    if result.status == "failed":
        plan.error = " ".join(plan.explanation.get("en", []))
    plan.finished_at = timezone.now()
    plan.save(
        update_fields=[
            "status",
            "days",
            "totals",
            "explanation",
            "warnings",
            "stats",
            "route",
            "fixes",
            "error",
            "finished_at",
        ]
    )
    return plan


def plan_fail(*, plan_id: str, message: str) -> None:
    TripPlan.objects.filter(pk=plan_id).exclude(
        status__in=[TripPlan.Status.SOLVED, TripPlan.Status.INFEASIBLE]
    ).update(status=TripPlan.Status.FAILED, error=message, finished_at=timezone.now())


# Shown to the traveller (API ``explanation`` and the plan page) when the sweep
# gives a plan up.
PLAN_STUCK_REASON = gettext_noop(
    "We could not finish this plan: planning was interrupted several times "
    "(a server was restarting). Please ask for the plan again."
)


def plans_sweep_stuck(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Plans left ``queued`` or ``solving`` past their deadline (queued or started
    more than ``PLAN_STUCK_AFTER_SECONDS`` ago: the solver's limit plus a margin):
    their message or their worker was lost. Each is queued again, at most
    ``PLAN_MAX_REQUEUES`` times, then marked ``failed`` with a reason in English and
    Spanish. Every change is one conditional UPDATE, so two sweeps never queue a
    plan twice. Counts per outcome."""
    from itineraries.tasks import plan_solve_task

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=float(settings.PLAN_STUCK_AFTER_SECONDS))
    stuck = TripPlan.objects.filter(
        status__in=[TripPlan.Status.QUEUED, TripPlan.Status.SOLVING]
    ).filter(
        Q(started_at__lte=cutoff) | Q(started_at__isnull=True, created_at__lte=cutoff)
    )
    counts = {"requeued": 0, "failed": 0}
    reason = {}
    for language in ("en", "es"):
        with translation.override(language):
            reason[language] = _(PLAN_STUCK_REASON)
    for plan_id, requeues in stuck.order_by("created_at").values_list("pk", "requeues")[
        :500
    ]:
        same = stuck.filter(pk=plan_id, requeues=requeues)
        if requeues >= settings.PLAN_MAX_REQUEUES:
            if same.update(
                status=TripPlan.Status.FAILED,
                error=reason["en"],
                explanation={lang: [text] for lang, text in reason.items()},
                finished_at=now,
            ):
                logger.warning("plan %s given up after %s requeues", plan_id, requeues)
                counts["failed"] += 1
        elif same.update(
            status=TripPlan.Status.QUEUED, started_at=now, requeues=requeues + 1
        ):
            logger.warning("plan %s stuck: queued again", plan_id)
            counts["requeued"] += 1
            transaction.on_commit(
                partial(_publish_solve, plan_solve_task, str(plan_id)), robust=True
            )
    return counts


def _publish_solve(task: Any, plan_id: str) -> None:
    """Queue a solve; a broker that is down is only logged (the sweep retries)."""
    try:
        task.apply_async((plan_id,), retry=False)
    except Exception:
        logger.warning("plan %s: could not queue its solve", plan_id, exc_info=True)


def _steps_by_id(plan: TripPlan) -> dict[str, tuple[dict, dict]]:
    return {step["id"]: (day, step) for day in plan.days or [] for step in day["steps"]}


def plan_replan(
    *, plan: TripPlan, keep: list[str], drop: list[str], user=None, agency=None
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
    data = replan_request(plan, keep=keep, drop=drop)
    return plan_create(data=data, user=user, agency=agency, parent=plan)


def replan_request(plan: TripPlan, *, keep: list[str], drop: list[str]) -> dict:
    """The request of a re-plan: what was dropped is excluded, what was kept is
    required; everything else in the plan is *pinned* — kept (its nights, rides,
    experiences and sights) unless it no longer fits, and then the new plan says
    what was left out. When a ride is dropped, the route may change: nights are
    not pinned."""
    steps = _steps_by_id(plan)
    data = dict(plan.request)
    include = list(data.get("include") or [])
    exclude = list(data.get("exclude") or [])
    keep_rides = list(data.get("keep_rides") or [])
    drop_rides = list(data.get("drop_rides") or [])
    keep_stays = list(data.get("keep_stays") or [])
    pinned: list = []
    pinned_rides: list[str] = []
    dropped = set(drop)

    def item_of(step: dict):
        if step["kind"] == "sight" and step.get("sight") and not step.get("included"):
            return f"sight:{step['sight']}"
        if step["kind"] == "activity" and step.get("listing"):
            return step["listing"]
        return None

    for step_id, (_day, step) in steps.items():
        if step_id in dropped:
            if step.get("ride"):
                drop_rides.append(step["ride"])
            elif item_of(step) is not None:
                exclude.append(item_of(step))
            elif step["kind"] == "stay" and step.get("listing"):
                exclude.append(step["listing"])
            continue
        hard = step_id in keep
        if step.get("ride"):
            (keep_rides if hard else pinned_rides).append(step["ride"])
        elif step["kind"] == "stay" and step.get("listing") and hard:
            keep_stays.append([step["listing"], step["slot"]["date"]])
        elif item_of(step) is not None:
            (include if hard else pinned).append(item_of(step))
    rides_dropped = any(steps[s][1].get("ride") for s in drop)
    keep_nights: list = []
    if not rides_dropped:
        keep_nights = [
            (day.get("night") or {}).get("place") for day in (plan.days or [])[:-1]
        ]
    include = [i for i in dict.fromkeys(include) if i not in exclude]
    data.update(
        include=include,
        exclude=list(dict.fromkeys(exclude)),
        keep_rides=list(dict.fromkeys(r for r in keep_rides if r not in drop_rides)),
        drop_rides=list(dict.fromkeys(drop_rides)),
        keep_stays=[s for s in keep_stays if s[0] not in exclude],
        keep_nights=keep_nights,
        pinned=[
            p for p in dict.fromkeys(pinned) if p not in exclude and p not in include
        ],
        pinned_rides=[r for r in dict.fromkeys(pinned_rides) if r not in drop_rides],
    )
    return data


# --- Whole-itinerary holds ----------------------------------------------------------
#
# A trip booking holds every bookable part of a solved plan (see
# ``selectors.plan_trip_parts``) in ONE transaction, all or nothing, with one expiry.
# The slots are taken in a fixed global order (listing id, date, start time): two trip
# holds wanting the same slots queue on the first one they share instead of
# deadlocking. The plan's row is locked first, so one plan is held once at a time.


class PlanNotHoldable(ApplicationError):
    status_code = 409
    code = "not_holdable"


class TripPartsUnavailable(ApplicationError):
    """Parts of the plan cannot be held: nothing was held. ``parts`` says which (step
    id, kind, title, listing, date, start time, reason)."""

    status_code = 409
    code = "unavailable"

    def __init__(self, message: str, *, parts: list[dict[str, Any]]) -> None:
        super().__init__(message, field="steps")
        self.parts = parts


class TripHoldExpired(BookingExpired):
    """The trip's hold ran out (or one of its parts is gone): every part still held
    was released. ``parts`` names the parts that were gone, if any."""

    def __init__(self, message: str, *, parts: list[dict[str, Any]]) -> None:
        super().__init__(message, field="id")
        self.parts = parts


class VisitorHoldLimit(PlanNotHoldable):
    """A visitor without an API key already holds another plan (``trip``): one hold
    at a time."""

    code = "one_hold_at_a_time"

    def __init__(self, message: str, *, trip: TripBooking) -> None:
        super().__init__(message, field="id")
        self.trip = trip


@dataclass(frozen=True)
class TripHold:
    trip: TripBooking
    manage_token: str  # only for an anonymous visitor (else ""): shown once


def _spec_problem(spec: TripPartSpec, reason: str) -> dict[str, Any]:
    return {
        "step_id": spec.step_id,
        "kind": spec.kind,
        "title": spec.title,
        "listing": spec.listing_id,
        "date": spec.day.isoformat(),
        "start_time": spec.start_time.strftime("%H:%M") if spec.start_time else None,
        "reason": str(reason),
    }


def _title_en(title: Any) -> str:
    return title.get("en", "") if isinstance(title, dict) else str(title)


def _trip_listings(ids: set[int]) -> dict[int, Listing]:
    return {listing.pk: listing for listing in listings_with_offer().filter(pk__in=ids)}


def hold_max_minutes(owner: TripOwner) -> int:
    """The longest hold ``owner`` may take: an agency's contract, else (website
    visitors, signed in or not, and keyless API calls) VISITOR_HOLD_MAX_MINUTES."""
    if owner.agency is not None:
        return agency_hold_max_minutes(owner.agency)
    return min(settings.VISITOR_HOLD_MAX_MINUTES, settings.HOLD_MAX_MINUTES)


def trip_hold_minutes(requested: int | None, owner: TripOwner) -> int:
    """The hold's length: HOLD_DEFAULT_MINUTES (at most ``owner``'s maximum) when
    none is asked; a longer one than ``owner`` may take is refused (ValidationError
    naming ``hold_minutes``), not shortened, so the client knows."""
    maximum = hold_max_minutes(owner)
    if requested is None:
        return min(settings.HOLD_DEFAULT_MINUTES, maximum)
    if not 1 <= requested <= maximum:
        if owner.agency is None:
            message = _(
                "Hold between 1 and %(max)s minutes: holds without an agency API key "
                "last at most %(max)s minutes."
            )
        else:
            message = _("Hold between 1 and %(max)s minutes (your agency's contract).")
        raise ValidationError({"hold_minutes": message % {"max": maximum}})
    return requested


def _visitor_hold_elsewhere(
    owner: TripOwner, plan: TripPlan, now: dt.datetime
) -> TripBooking | None:
    """The visitor's (or signed-in traveller's) hold of another plan still running,
    if any; agencies are not limited this way."""
    holds = TripBooking.objects.filter(
        status=TripBooking.Status.ON_HOLD, expires_at__gt=now
    ).exclude(plan=plan)
    if owner.agency is not None:
        return None
    if owner.user is not None:
        holds = holds.filter(user=owner.user)
    elif owner.visitor:
        holds = holds.filter(
            visitor_hash=owner.visitor, agency__isnull=True, user__isnull=True
        )
    else:
        return None
    return holds.order_by("-created_at").first()


def _visitor_lock(owner: TripOwner) -> None:
    """Serialise one visitor's holds until the transaction ends (PostgreSQL advisory
    lock), so that holds of two plans sent at once cannot both pass the one-hold
    check. SQLite runs one writing transaction at a time anyway."""
    if owner.agency is not None or connection.vendor != "postgresql":
        return
    ident = f"user-{owner.user.pk}" if owner.user is not None else owner.visitor
    if not ident:
        return
    key = int.from_bytes(
        hashlib.sha256(ident.encode()).digest()[:8], "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def one_hold_message(other: TripBooking, *, theirs: bool) -> str:
    """Why a visitor cannot hold another plan while ``other`` is on hold; it is
    named only to whoever is known to hold it (``theirs``)."""
    until = other.expires_at.astimezone(dt.UTC).strftime("%H:%M UTC")
    if theirs:
        return _(
            "You already hold trip booking %(id)s until %(until)s: confirm or "
            "release it before holding another plan (one hold at a time without an "
            "agency API key)."
        ) % {"id": other.pk, "until": until}
    return _(
        "A hold made from your connection runs until %(until)s: confirm or "
        "release it before holding another plan (one hold at a time without an "
        "agency API key)."
    ) % {"until": until}


def _one_hold_error(other: TripBooking, owner: TripOwner) -> VisitorHoldLimit:
    theirs = trip_booking_get_owned(trip_id=other.pk, owner=owner) is not None
    return VisitorHoldLimit(one_hold_message(other, theirs=theirs), trip=other)


def trip_hold(
    *,
    plan: TripPlan,
    owner: TripOwner,
    hold_minutes: int | None = None,
    lead_name: str = "",
    lead_email: str = "",
    lead_phone: str = "",
    language: str = "en",
    reseller_reference: str = "",
    now: dt.datetime | None = None,
) -> TripHold:
    """Hold every bookable part of a solved plan for the party of its request, all
    or nothing, until one ``expires_at``. Parts that cannot be held (sold out, closed,
    past the cut-off, no longer listed) raise :class:`TripPartsUnavailable` naming
    each of them, and nothing is held. A plan is held once at a time: while a trip
    booking of it is on hold or confirmed, another hold is refused (409).

    Without an agency API key a hold lasts at most VISITOR_HOLD_MAX_MINUTES and a
    visitor (``owner.visitor``, or the signed-in traveller) holds one plan at a time
    (VisitorHoldLimit, 409); an agency's holds last as long as its contract allows.

    An anonymous visitor gets a manage token (only its SHA-256 is stored), valid
    until MANAGE_TOKEN_DAYS_AFTER_TRIP days after the trip."""
    now = now or timezone.now()
    if not plan_open_to(plan, owner):
        raise NotFoundError(_("No such plan."), field="id")
    hold_minutes = trip_hold_minutes(hold_minutes, owner)
    if plan.status != TripPlan.Status.SOLVED:
        raise PlanNotHoldable(
            _("Only a solved plan can be held; this plan is %(status)s.")
            % {"status": plan.get_status_display().lower()},
            field="id",
        )
    specs, _local = plan_trip_parts(plan)
    if not specs:
        raise PlanNotHoldable(
            _("Nothing in this plan is booked ahead: every part is paid locally."),
            field="id",
        )
    listings = _trip_listings({spec.listing_id for spec in specs if spec.listing_id})
    adults = int(plan.request.get("adults", 1))
    children = int(plan.request.get("children", 0))
    token = secrets.token_urlsafe(32) if owner.anonymous else ""
    channel = Booking.Channel.AGENCY if owner.agency else Booking.Channel.WEBSITE
    with transaction.atomic():
        # One hold of a plan at a time; every trip hold locks its plan before any slot.
        TripPlan.objects.select_for_update().filter(pk=plan.pk).first()
        for stale in TripBooking.objects.filter(
            plan=plan, status=TripBooking.Status.ON_HOLD, expires_at__lte=now
        ):
            trip_refresh(trip=stale, now=now)
        active = (
            TripBooking.objects.filter(
                plan=plan,
                status__in=[TripBooking.Status.ON_HOLD, TripBooking.Status.CONFIRMED],
            )
            .order_by("-created_at")
            .first()
        )
        if active is not None:
            if trip_booking_get_owned(trip_id=active.pk, owner=owner) is not None:
                message = _(
                    "This plan is already %(status)s as trip booking %(id)s: confirm "
                    "or cancel that one (or re-plan and hold the new plan)."
                ) % {"status": active.get_status_display().lower(), "id": active.pk}
            else:
                message = _("This plan is already held or booked.")
            raise PlanNotHoldable(message, field="id")
        _visitor_lock(owner)
        other = _visitor_hold_elsewhere(owner, plan, now)
        if other is not None:
            raise _one_hold_error(other, owner)
        trip = TripBooking.objects.create(
            plan=plan,
            status=TripBooking.Status.ON_HOLD,
            agency=owner.agency,
            user=owner.user if owner.agency is None else None,
            manage_token_hash=manage_token_hash(token) if token else "",
            manage_token_expires_at=manage_token_expiry(plan) if token else None,
            visitor_hash=owner.visitor if owner.anonymous else "",
            lead_name=lead_name,
            lead_email=lead_email,
            lead_phone=lead_phone,
            language=language,
            reseller_reference=reseller_reference,
            expires_at=now + dt.timedelta(minutes=hold_minutes),
        )
        problems: list[dict[str, Any]] = []
        for spec in specs:
            listing = listings.get(spec.listing_id)
            try:
                if listing is None:
                    raise BookingUnavailable(_("This listing is no longer offered."))
                booking = booking_hold(
                    listing=listing,
                    day=spec.day,
                    start_time=spec.start_time,
                    units=party_units(listing, adults, children),
                    channel=channel,
                    hold_minutes=hold_minutes,
                    lead_name=lead_name,
                    lead_email=lead_email,
                    lead_phone=lead_phone,
                    reseller_reference=reseller_reference,
                    agency=owner.agency,
                    now=now,
                )
            except BookingUnavailable as exc:
                problems.append(_spec_problem(spec, exc.message))
                continue
            except ValidationError as exc:  # the party does not fit the listing
                problems.append(_spec_problem(spec, " ".join(exc.messages)))
                continue
            # After a failure the rest is still tried (to name every part at fault)
            # and everything is rolled back below.
            if not problems:
                TripBookingPart.objects.create(
                    trip=trip, booking=booking, step_id=spec.step_id
                )
        if problems:
            first = problems[0]
            raise TripPartsUnavailable(
                _(
                    "Nothing was held: step %(step)s '%(title)s' (listing %(listing)s) "
                    "on %(date)s cannot be booked: %(reason)s"
                )
                % {
                    "step": first["step_id"],
                    "title": _title_en(first["title"]),
                    "listing": first["listing"],
                    "date": first["date"],
                    "reason": first["reason"],
                }
                + (
                    " "
                    + _("%(n)s more part(s) cannot be booked either.")
                    % {"n": len(problems) - 1}
                    if len(problems) > 1
                    else ""
                ),
                parts=problems,
            )
    return TripHold(trip=trip, manage_token=token)


def trip_manage_token_new(*, trip: TripBooking) -> str:
    """A new manage token for ``trip`` (the emailed link; only its hash is kept),
    valid until MANAGE_TOKEN_DAYS_AFTER_TRIP days after the trip. The previous one
    stops working."""
    token = secrets.token_urlsafe(32)
    TripBooking.objects.filter(pk=trip.pk).update(
        manage_token_hash=manage_token_hash(token),
        manage_token_expires_at=manage_token_expiry(trip.plan),
    )
    return token


def _locked_part_bookings(trip: TripBooking) -> list[Booking]:
    """The trip's bookings, locked, in the order they were held (the global slot
    order), so confirming or releasing two trips cannot deadlock either."""
    ids = list(trip.parts.values_list("booking_id", flat=True))
    return list(
        Booking.objects.select_for_update(of=("self",))
        .select_related("listing", "slot")
        .filter(pk__in=ids)
        .order_by("pk")
    )


def _part_gone(booking: Booking, steps: dict[int, str]) -> dict[str, Any]:
    return {
        "step_id": steps.get(booking.pk, ""),
        "listing": booking.listing_id,
        "title": booking.listing.title_en,
        "date": booking.slot.date.isoformat(),
        "status": booking.status,
    }


def _trip_release(trip: TripBooking, bookings: list[Booking], now: dt.datetime):
    """Release every part still held and mark the trip EXPIRED (trip row locked)."""
    for booking in bookings:
        if booking.status == Booking.Status.ON_HOLD:
            # The providers' own expiry step (the one their sweep runs).
            booking_expire_hold(booking=booking, now=now, only_if_due=False)
    trip.status = TripBooking.Status.EXPIRED
    trip.save(update_fields=["status"])


def _trip_read(trip_id) -> TripBooking:
    trip = trip_booking_get(trip_id=trip_id)
    assert trip is not None
    return trip


def trip_refresh(*, trip: TripBooking, now: dt.datetime | None = None) -> TripBooking:
    """Make an on-hold trip's status follow its parts: past its expiry, or with a
    part gone (expired by the sweep, cancelled by its provider), every part still
    held is released and the trip is EXPIRED. Other trips are returned as they are."""
    now = now or timezone.now()
    if trip.status != TripBooking.Status.ON_HOLD:
        return trip
    past = trip.expires_at is not None and trip.expires_at <= now
    gone = (
        Booking.objects.filter(trip_part__trip=trip)
        .exclude(status=Booking.Status.ON_HOLD)
        .exists()
    )
    if not (past or gone):
        return trip
    with transaction.atomic():
        locked = TripBooking.objects.select_for_update().get(pk=trip.pk)
        if locked.status == TripBooking.Status.ON_HOLD:
            bookings = _locked_part_bookings(locked)
            if (locked.expires_at is not None and locked.expires_at <= now) or any(
                b.status != Booking.Status.ON_HOLD for b in bookings
            ):
                _trip_release(locked, bookings, now)
    return _trip_read(trip.pk)


def trip_expire_holds(*, now: dt.datetime | None = None) -> int:
    """The periodic sweep: trips on hold past their expiry (or with a part gone) are
    released and EXPIRED; returns how many."""
    now = now or timezone.now()
    due = (
        TripBooking.objects.filter(status=TripBooking.Status.ON_HOLD)
        .filter(
            Q(expires_at__lte=now)
            | Q(
                parts__booking__status__in=[
                    Booking.Status.EXPIRED,
                    Booking.Status.CANCELLED,
                    Booking.Status.DECLINED,
                ]
            )
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    expired = 0
    for trip_id in list(due):
        trip = TripBooking.objects.filter(pk=trip_id).first()
        if trip is not None:
            expired += trip_refresh(trip=trip, now=now).status == (
                TripBooking.Status.EXPIRED
            )
    return expired


def _expired_error(gone: list[dict[str, Any]], expired_at) -> TripHoldExpired:
    if gone:
        first = gone[0]
        message = _(
            "The trip booking can no longer be confirmed: step %(step)s '%(title)s' "
            "on %(date)s is %(status)s. Every other part was released."
        ) % {
            "step": first["step_id"],
            "title": first["title"],
            "date": first["date"],
            "status": first["status"],
        }
    else:
        message = _(
            "The hold expired at %(at)s: every part was released. Hold the plan again "
            "(or re-plan it)."
        ) % {"at": expired_at.isoformat() if expired_at else "?"}
    return TripHoldExpired(message, parts=gone)


def trip_confirm(
    *,
    trip: TripBooking,
    lead_name: str | None = None,
    lead_email: str | None = None,
    lead_phone: str | None = None,
    now: dt.datetime | None = None,
    on_confirmed: Callable[[TripBooking], None] | None = None,
) -> TripBooking:
    """Confirm every part together: instant ones become CONFIRMED, on-request ones
    PENDING (the provider answers later); the trip is then CONFIRMED. The lead
    traveller (given now or at the hold) is required and copied to every part.
    ``on_confirmed(trip)`` runs inside the confirming transaction (to queue its
    outbox email with it), only when this call confirmed the trip.

    If the hold ran out, or a part is gone, nothing is confirmed: the parts still
    held are released (committed), the trip is EXPIRED and TripHoldExpired raised.
    Confirming a confirmed trip again changes nothing (but the lead, if given)."""
    now = now or timezone.now()
    lead = {
        key: value
        for key, value in (
            ("lead_name", lead_name),
            ("lead_email", lead_email),
            ("lead_phone", lead_phone),
        )
        if value is not None
    }
    with transaction.atomic():
        locked = TripBooking.objects.select_for_update().get(pk=trip.pk)
        for key, value in lead.items():
            setattr(locked, key, value)
        if locked.status == TripBooking.Status.CONFIRMED:
            if lead:
                locked.save(update_fields=list(lead))
                Booking.objects.filter(trip_part__trip=locked).update(**lead)
            return _trip_read(locked.pk)
        if locked.status != TripBooking.Status.ON_HOLD:
            raise BookingStateError(
                _("A %(status)s trip booking cannot be confirmed.")
                % {"status": locked.get_status_display().lower()},
                field="id",
            )
        bookings = _locked_part_bookings(locked)
        steps = dict(locked.parts.values_list("booking_id", "step_id"))
        gone = [
            _part_gone(b, steps) for b in bookings if b.status != Booking.Status.ON_HOLD
        ]
        expired_at = locked.expires_at
        if not gone and expired_at is not None and expired_at > now:
            if not locked.lead_name.strip():
                raise ValidationError(
                    {"lead": _("name: The lead traveller's name is needed to confirm.")}
                )
            locked.expires_at = None
            locked.status = TripBooking.Status.CONFIRMED
            locked.confirmed_at = now
            locked.save(
                update_fields=["status", "confirmed_at", "expires_at", *lead.keys()]
            )
            Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
                lead_name=locked.lead_name,
                lead_email=locked.lead_email,
                lead_phone=locked.lead_phone,
            )
            for booking in bookings:
                booking_confirm(booking=booking, now=now)
            if on_confirmed is not None:
                on_confirmed(locked)
            return _trip_read(locked.pk)
        _trip_release(locked, bookings, now)
    # Raised after the commit, so the release is kept.
    raise _expired_error(gone, expired_at)


def trip_cancel(*, trip: TripBooking, now: dt.datetime | None = None) -> TripBooking:
    """Cancel every part under its own listing's policy (held and pending parts are
    refunded in full, confirmed ones as the policy says; ``refund_minor`` per part)
    and release their places. Cancelling twice changes nothing; an expired trip has
    nothing to cancel (TripHoldExpired, after its parts are released)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = TripBooking.objects.select_for_update().get(pk=trip.pk)
        if locked.status == TripBooking.Status.CANCELLED:
            return _trip_read(locked.pk)
        expired_at = locked.expires_at
        if locked.status == TripBooking.Status.EXPIRED:
            raise _expired_error([], expired_at)
        bookings = _locked_part_bookings(locked)
        if locked.status == TripBooking.Status.ON_HOLD and (
            expired_at is not None and expired_at <= now
        ):
            _trip_release(locked, bookings, now)
        else:
            for booking in bookings:
                if booking.status in (*Booking.HOLDING, Booking.Status.CONFIRMED):
                    booking_cancel(booking=booking, now=now)
            locked.status = TripBooking.Status.CANCELLED
            locked.cancelled_at = now
            locked.save(update_fields=["status", "cancelled_at"])
            return _trip_read(locked.pk)
    raise _expired_error([], expired_at)
