"""Planning pages: the plan form, the itinerary, one-click fixes and re-planning."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from itineraries import selectors as plan_selectors
from itineraries import services
from itineraries.apis import PlanRequestSerializer
from itineraries.models import TripPlan
from providers.models import Listing
from providers.selectors import listing_list_bookable
from tourism.exceptions import ApplicationError
from web import selectors
from web.forms import PlanForm, _messages


def _user(request: HttpRequest):
    return request.user if request.user.is_authenticated else None


def _plan_or_404(plan_id) -> TripPlan:
    plan = plan_selectors.plan_get(plan_id=plan_id)
    if plan is None:
        raise Http404(_("No such plan."))
    return plan


@require_http_methods(["GET", "POST"])
def plan_form(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            plan = services.plan_create(data=form.payload, user=_user(request))
        return redirect("web:plan_detail", plan_id=plan.pk)
    return render(request, "web/plan/form.html", {"form": form})


def _detail(
    request: HttpRequest, plan: TripPlan, *, errors: list[str] | None = None, status=200
) -> HttpResponse:
    context = selectors.plan_page(plan, currency=request.GET.get("currency"))
    context["errors"] = errors or []
    context["book_button"] = _book_button_exists()
    return render(request, "web/plan/detail.html", context, status=status)


def _book_button_exists() -> bool:
    """The booking part of the site (its button template and URL) is there."""
    try:
        get_template("web/booking/_book_button.html")
        reverse("web:plan_book", args=[uuid.uuid4()])
    except (TemplateDoesNotExist, NoReverseMatch):
        return False
    return True


@require_http_methods(["GET"])
def plan_detail(request: HttpRequest, plan_id) -> HttpResponse:
    return _detail(request, _plan_or_404(plan_id))


@require_POST
def plan_fix(request: HttpRequest, plan_id) -> HttpResponse:
    """One-click fix of a plan: the same request with one day more, starting a day
    earlier, or with the budget raised to the cheapest plan's cost."""
    plan = _plan_or_404(plan_id)
    data = selectors.fixed_request(plan, request.POST.get("fix", ""))
    if data is None:
        return _detail(request, plan, errors=[_("Unknown fix.")], status=400)
    serializer = PlanRequestSerializer(data=data)
    if not serializer.is_valid():
        return _detail(request, plan, errors=_messages(serializer.errors), status=400)
    with transaction.atomic():
        new = services.plan_create(data=data, user=_user(request), parent=plan)
    return redirect("web:plan_detail", plan_id=new.pk)


@require_POST
def plan_replan(request: HttpRequest, plan_id) -> HttpResponse:
    """Re-plan from the page's choices: steps to keep, to remove, and activities to
    swap for another offered in the same place (remove one, must-see the other)."""
    plan = _plan_or_404(plan_id)
    keep = [s for s in request.POST.getlist("keep") if s]
    drop = [s for s in request.POST.getlist("drop") if s]
    include: list[int] = []
    steps = {s["id"]: s for d in plan.days or [] for s in d["steps"]}
    for key, value in request.POST.items():
        if not key.startswith("swap_") or not value:
            continue
        step = steps.get(key.removeprefix("swap_"))
        listing = _swap_listing(value, step)
        if step is None or listing is None:
            return _detail(
                request,
                plan,
                errors=[_("That experience cannot be swapped in here.")],
                status=400,
            )
        drop.append(step["id"])
        include.append(listing)
    if not keep and not drop:
        return _detail(
            request,
            plan,
            errors=[_("Choose steps to keep, remove or swap first.")],
            status=400,
        )
    base: Any = plan
    if include:
        # The service re-plans from the plan's request: the swapped-in experiences
        # become must-see items of that request (the stored plan is not changed).
        base = TripPlan.objects.get(pk=plan.pk)
        request_data = dict(base.request)
        request_data["include"] = list(
            dict.fromkeys([*(request_data.get("include") or []), *include])
        )
        base.request = request_data
    try:
        with transaction.atomic():
            new = services.plan_replan(
                plan=base,
                keep=keep,
                drop=list(dict.fromkeys(drop)),
                user=_user(request),
            )
    except ApplicationError as exc:
        return _detail(request, plan, errors=[str(exc.message)], status=400)
    return redirect("web:plan_detail", plan_id=new.pk)


def _swap_listing(value: str, step: dict | None) -> int | None:
    """The bookable activity ``value`` when it is offered where ``step`` happens."""
    if step is None or step.get("kind") != "activity" or not value.isdigit():
        return None
    listing = (
        listing_list_bookable(kind=Listing.Kind.ACTIVITY)
        .filter(pk=int(value), place__slug=step.get("place"))
        .first()
    )
    return listing.pk if listing else None
