"""Planning pages: the plan form, the itinerary, one-click fixes and re-planning.

A plan's pages live under its secret link, ``/plans/<id>/<key>/``: ``key`` is the
plan's secret (made with the plan, only its hash stored; fixes and re-plans keep
it), so the id alone opens nothing. A signed-in traveller's own plans open for them
whatever the key. Making plans is rate-limited per visitor and globally (429 with
``Retry-After`` and the reason on the page)."""

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
from tourism.exceptions import ApplicationError, RateLimited
from web import selectors
from web.forms import PlanForm, _messages
from web.limits import plans_admit, retry_later


def _user(request: HttpRequest):
    return request.user if request.user.is_authenticated else None


def plan_or_404(request: HttpRequest, plan_id, key: str) -> TripPlan:
    """The plan if its secret is ``key`` (or it is the signed-in traveller's own);
    404 otherwise, as for an unknown id."""
    plan = plan_selectors.plan_get(plan_id=plan_id)
    owner = plan_selectors.TripOwner(user=_user(request), plan_secret=key)
    if plan is None or not plan_selectors.plan_open_to(plan, owner):
        raise Http404(_("No such plan."))
    return plan


def _to_plan(plan: TripPlan, key: str) -> HttpResponse:
    return redirect("web:plan_detail", plan_id=plan.pk, key=key)


@require_http_methods(["GET", "POST"])
def plan_form(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST or None)
    if request.method == "POST":
        refusal = plans_admit(request)
        if refusal is None and form.is_valid():
            secret = services.plan_secret_new()
            try:
                with transaction.atomic():
                    plan = services.plan_create(
                        data=form.payload, user=_user(request), secret=secret
                    )
            except RateLimited as exc:
                refusal = exc
            else:
                return _to_plan(plan, secret)
        if refusal is not None:
            form.add_error(None, refusal.message)
            response = render(request, "web/plan/form.html", {"form": form}, status=429)
            return retry_later(response, refusal)
    return render(request, "web/plan/form.html", {"form": form})


def _detail(
    request: HttpRequest,
    plan: TripPlan,
    key: str,
    *,
    errors: list[str] | None = None,
    status=200,
) -> HttpResponse:
    context = selectors.plan_page(plan, currency=request.GET.get("currency"))
    context["plan_key"] = key
    context["parent_key"] = key if _same_secret(plan.parent_id, plan) else ""
    context["errors"] = errors or []
    context["book_button"] = _book_button_exists()
    response = render(request, "web/plan/detail.html", context, status=status)
    response["Referrer-Policy"] = "same-origin"  # the URL holds the plan's secret
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _same_secret(parent_id, plan: TripPlan) -> bool:
    """Whether the plan's parent opens with the plan's key (re-plans keep it)."""
    return bool(
        parent_id
        and plan.secret_hash
        and TripPlan.objects.filter(pk=parent_id, secret_hash=plan.secret_hash).exists()
    )


def _limited(
    request: HttpRequest, plan: TripPlan, key: str, refusal: RateLimited
) -> HttpResponse:
    response = _detail(request, plan, key, errors=[refusal.message], status=429)
    return retry_later(response, refusal)


def _book_button_exists() -> bool:
    """The booking part of the site (its button template and URL) is there."""
    try:
        get_template("web/booking/_book_button.html")
        reverse("web:plan_book", args=[uuid.uuid4(), "key"])
    except (TemplateDoesNotExist, NoReverseMatch):
        return False
    return True


@require_http_methods(["GET"])
def plan_detail(request: HttpRequest, plan_id, key: str) -> HttpResponse:
    return _detail(request, plan_or_404(request, plan_id, key), key)


@require_POST
def plan_fix(request: HttpRequest, plan_id, key: str) -> HttpResponse:
    """One-click fix of a plan: the same request with one day more, starting a day
    earlier, or with the budget raised to the cheapest plan's cost."""
    plan = plan_or_404(request, plan_id, key)
    if (refusal := plans_admit(request)) is not None:
        return _limited(request, plan, key, refusal)
    data = selectors.fixed_request(plan, request.POST.get("fix", ""))
    if data is None:
        return _detail(request, plan, key, errors=[_("Unknown fix.")], status=400)
    serializer = PlanRequestSerializer(data=data)
    if not serializer.is_valid():
        return _detail(
            request, plan, key, errors=_messages(serializer.errors), status=400
        )
    try:
        with transaction.atomic():
            new = services.plan_create(data=data, user=_user(request), parent=plan)
    except RateLimited as exc:
        return _limited(request, plan, key, exc)
    return _to_plan(new, key)


@require_POST
def plan_replan(request: HttpRequest, plan_id, key: str) -> HttpResponse:
    """Re-plan from the page's choices: steps to keep, to remove, and activities to
    swap for another offered in the same place (remove one, must-see the other)."""
    plan = plan_or_404(request, plan_id, key)
    if (refusal := plans_admit(request)) is not None:
        return _limited(request, plan, key, refusal)
    keep = [s for s in request.POST.getlist("keep") if s]
    drop = [s for s in request.POST.getlist("drop") if s]
    include: list[int] = []
    steps = {s["id"]: s for d in plan.days or [] for s in d["steps"]}
    for name, value in request.POST.items():
        if not name.startswith("swap_") or not value:
            continue
        step = steps.get(name.removeprefix("swap_"))
        listing = _swap_listing(value, step)
        if step is None or listing is None:
            return _detail(
                request,
                plan,
                key,
                errors=[_("That experience cannot be swapped in here.")],
                status=400,
            )
        drop.append(step["id"])
        include.append(listing)
    if not keep and not drop:
        return _detail(
            request,
            plan,
            key,
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
    except RateLimited as exc:
        return _limited(request, plan, key, exc)
    except ApplicationError as exc:
        return _detail(request, plan, key, errors=[str(exc.message)], status=400)
    return _to_plan(new, key)


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
