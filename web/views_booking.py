"""Booking pages of the traveller website: hold a solved plan, check out (lead
traveller, confirm), and manage the trip with its secret link (cancel a part or
everything, calendar file, printable page).

Views only parse, call the trip services (``itineraries.services``) and render.
Whose trip it is: a signed-in traveller owns the trips they hold; an anonymous
visitor owns a trip by its manage token, kept in their session after the hold and
emailed (as the manage link) at confirmation. The manage link's token is the
secret: it is looked up by its SHA-256, and anyone else gets 404.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from itineraries import services
from itineraries.models import TripBooking, TripPlan
from itineraries.selectors import (
    TripOwner,
    manage_token_hash,
    plan_get,
    plan_open_to,
    trip_booking_get,
    trip_booking_get_owned,
)
from providers.models import Booking
from providers.services import booking_cancel
from tourism.exceptions import ApplicationError, BookingStateError, NotFoundError
from web import emails
from web.booking_forms import LeadForm
from web.booking_selectors import (
    CANCELLABLE,
    language,
    local_text,
    money_text,
    trip_by_manage_token,
    trip_rows,
)
from web.ics import localised, trip_calendar

logger = logging.getLogger(__name__)

SESSION_TOKENS = "web_trip_tokens"
MAX_REMEMBERED = 20
ACTIVE = (TripBooking.Status.ON_HOLD, TripBooking.Status.CONFIRMED)
# The absolute expiry is also shown on the route's clock (Peru; Bolivia is 1 h on).
ROUTE_ZONE = ZoneInfo("America/Lima")


# --- Who owns what ------------------------------------------------------------------


def _user(request: HttpRequest):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _tokens(request: HttpRequest) -> dict[str, str]:
    tokens = request.session.get(SESSION_TOKENS)
    return tokens if isinstance(tokens, dict) else {}


def _remember(request: HttpRequest, trip_id, token: str) -> None:
    if not token:
        return
    tokens = {k: v for k, v in _tokens(request).items() if k != str(trip_id)}
    tokens[str(trip_id)] = token
    request.session[SESSION_TOKENS] = dict(list(tokens.items())[-MAX_REMEMBERED:])


def _owner(request: HttpRequest, trip_id=None) -> TripOwner:
    token = _tokens(request).get(str(trip_id), "") if trip_id is not None else ""
    return TripOwner(user=_user(request), token=token)


def _owned_trip(request: HttpRequest, trip_id) -> TripBooking:
    """The visitor's trip booking (their session's token, or theirs as a signed-in
    traveller), its status brought up to date; anyone else's is 404."""
    trip = trip_booking_get_owned(trip_id=trip_id, owner=_owner(request, trip_id))
    if trip is None:
        raise Http404(_("No such trip booking."))
    return services.trip_refresh(trip=trip)


def _managed_trip(token: str) -> TripBooking:
    trip = trip_by_manage_token(token)
    if trip is None:
        raise Http404(_("No such trip booking."))
    return services.trip_refresh(trip=trip)


def _private(response: HttpResponse) -> HttpResponse:
    """Pages whose URL is a secret: not cached, not indexed, no Referer leak."""
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _plan_url(plan_id) -> str:
    try:
        return reverse("web:plan_detail", args=[plan_id])
    except NoReverseMatch:
        return f"/plans/{plan_id}/"


def _checkout_url(trip_id) -> str:
    return reverse("web:trip_checkout", args=[trip_id])


def _manage_url(token: str) -> str:
    return reverse("web:trip_manage", args=[token])


# --- Holding a plan -----------------------------------------------------------------


def _visitor_trip_of(request: HttpRequest, plan: TripPlan) -> TripBooking | None:
    """The visitor's own active trip booking of ``plan``, if any."""
    for trip_id in TripBooking.objects.filter(plan=plan, status__in=ACTIVE).values_list(
        "pk", flat=True
    ):
        trip = trip_booking_get_owned(trip_id=trip_id, owner=_owner(request, trip_id))
        if trip is not None:
            trip = services.trip_refresh(trip=trip)
            if trip.status in ACTIVE:
                return trip
    return None


def _hold(request: HttpRequest, plan: TripPlan) -> HttpResponse:
    """Hold every bookable part of ``plan`` and go to the checkout; the parts that
    cannot be held are named, with a re-plan without them."""
    own = _visitor_trip_of(request, plan)
    if own is not None:
        return redirect(_checkout_url(own.pk))
    user = _user(request)
    initial = {}
    if user is not None:
        initial = {
            "lead_name": user.get_full_name() or "",
            "lead_email": user.email or "",
        }
    try:
        held = services.trip_hold(
            plan=plan, owner=TripOwner(user=user), language=language(), **initial
        )
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except services.TripPartsUnavailable as exc:
        lang = language()
        parts = [
            {
                **part,
                "title": localised(part.get("title"), lang),
                "when": part["date"]
                + (f" {part['start_time']}" if part.get("start_time") else ""),
            }
            for part in exc.parts
        ]
        return render(
            request,
            "web/booking/unavailable.html",
            {"plan": plan, "parts": parts, "plan_url": _plan_url(plan.pk)},
            status=409,
        )
    except services.PlanNotHoldable as exc:
        return render(
            request,
            "web/booking/unavailable.html",
            {"plan": plan, "message": exc.message, "plan_url": _plan_url(plan.pk)},
            status=409,
        )
    _remember(request, held.trip.pk, held.manage_token)
    return redirect(_checkout_url(held.trip.pk))


@require_POST
def plan_book(request: HttpRequest, plan_id) -> HttpResponse:
    plan = plan_get(plan_id=plan_id)
    if plan is None or not plan_open_to(plan, TripOwner(user=_user(request))):
        raise Http404(_("No such plan."))
    return _hold(request, plan)


@require_POST
def plan_replan_without(request: HttpRequest, plan_id) -> HttpResponse:
    """Re-plan dropping the parts that could not be held; on to the new plan."""
    plan = plan_get(plan_id=plan_id)
    if plan is None or not plan_open_to(plan, TripOwner(user=_user(request))):
        raise Http404(_("No such plan."))
    drop = [step_id[:40] for step_id in request.POST.getlist("drop")][:50]
    try:
        new = services.plan_replan(plan=plan, keep=[], drop=drop, user=_user(request))
    except ApplicationError as exc:
        return render(
            request,
            "web/booking/unavailable.html",
            {"plan": plan, "message": exc.message, "plan_url": _plan_url(plan.pk)},
            status=400,
        )
    return redirect(_plan_url(new.pk))


@require_POST
def trip_hold_again(request: HttpRequest, trip_id) -> HttpResponse:
    """An expired (or cancelled) hold: hold the same plan again."""
    trip = _owned_trip(request, trip_id)
    if trip.status in ACTIVE:
        return redirect(_checkout_url(trip.pk))
    return _hold(request, trip.plan)


@require_POST
def trip_release(request: HttpRequest, trip_id) -> HttpResponse:
    """Give up a hold before confirming: every part is released at once."""
    trip = _owned_trip(request, trip_id)
    if trip.status == TripBooking.Status.ON_HOLD:
        # Had it run out meanwhile, it is released all the same.
        with contextlib.suppress(services.TripHoldExpired):
            services.trip_cancel(trip=trip)
        messages.success(request, _("The hold is released: nothing was booked."))
    return redirect(_checkout_url(trip.pk))


# --- Checkout -----------------------------------------------------------------------


def _checkout_page(
    request: HttpRequest, trip: TripBooking, form: LeadForm, *, status: int = 200
) -> HttpResponse:
    seconds = 0
    if trip.status == TripBooking.Status.ON_HOLD and trip.expires_at:
        seconds = max(0, int((trip.expires_at - timezone.now()).total_seconds()))
    context = {
        "trip": trip,
        "form": form,
        "seconds_left": seconds,
        "expires_utc": trip.expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        if trip.expires_at
        else "",
        "expires_lima": local_text(trip.expires_at.astimezone(ROUTE_ZONE))
        if trip.expires_at
        else "",
        "plan_url": _plan_url(trip.plan_id),
        "manage_token": _tokens(request).get(str(trip.pk), ""),
        **trip_rows(trip),
    }
    return _private(
        render(request, "web/booking/checkout.html", context, status=status)
    )


def _lead_initial(request: HttpRequest, trip: TripBooking) -> dict[str, str]:
    user = _user(request)
    return {
        "name": trip.lead_name or (user.get_full_name() if user else ""),
        "email": trip.lead_email or (user.email if user else ""),
        "phone": trip.lead_phone,
    }


@require_http_methods(["GET", "POST"])
def trip_checkout(request: HttpRequest, trip_id) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
    token = _tokens(request).get(str(trip.pk), "")
    if request.method == "GET":
        if trip.status == TripBooking.Status.CONFIRMED and token:
            return redirect(_manage_url(token))
        return _checkout_page(
            request, trip, LeadForm(initial=_lead_initial(request, trip))
        )
    form = LeadForm(request.POST)
    if trip.status == TripBooking.Status.CONFIRMED and token:
        return redirect(_manage_url(token))  # confirmed already (a second click)
    if trip.status != TripBooking.Status.ON_HOLD:
        return _checkout_page(request, trip, form, status=409)
    if not form.is_valid():
        return _checkout_page(request, trip, form, status=400)
    lead = form.cleaned_data
    # The confirmation email is queued in the outbox in the transaction that
    # confirms the trip (with a manage link made then when the visitor has none).
    link = {"token": token}

    def queue_email(confirmed: TripBooking) -> None:
        if not link["token"] or confirmed.manage_token_hash != manage_token_hash(
            link["token"]
        ):
            # A signed-in traveller's trip: its manage link is made now (only its
            # hash is stored), so it can be managed from the email on any device.
            link["token"] = secrets.token_urlsafe(32)
            TripBooking.objects.filter(pk=confirmed.pk).update(
                manage_token_hash=manage_token_hash(link["token"])
            )
        emails.trip_confirmed_queue(
            trip_id=confirmed.pk,
            manage_url=request.build_absolute_uri(_manage_url(link["token"])),
            language=language(),
        )

    try:
        trip = services.trip_confirm(
            trip=trip,
            lead_name=lead["name"],
            lead_email=lead["email"],
            lead_phone=lead["phone"],
            on_confirmed=queue_email,
        )
    except services.TripHoldExpired as exc:
        messages.error(request, exc.message)
        trip = trip_booking_get(trip_id=trip.pk)
        return _checkout_page(request, trip, form, status=409)
    except BookingStateError as exc:
        messages.error(request, exc.message)
        return _checkout_page(
            request, trip_booking_get(trip_id=trip.pk), form, status=409
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _checkout_page(request, trip, form, status=400)
    if not link["token"] or trip.manage_token_hash != manage_token_hash(
        link["token"]
    ):  # confirmed meanwhile (another click) but this visitor has no link yet
        with transaction.atomic():
            queue_email(trip)
    if link["token"] != token:
        _remember(request, trip.pk, link["token"])
    token = link["token"]
    if trip.parts.filter(booking__status=Booking.Status.PENDING).exists():
        messages.success(
            request,
            _(
                "Booked. Some parts are confirmed on request: their providers answer "
                "soon, and we email you. Your manage link is in your email too."
            ),
        )
    else:
        messages.success(
            request,
            _("Booked and confirmed. We emailed you the link to this page."),
        )
    return redirect(_manage_url(token))


# --- Managing a trip (the token is the secret) ----------------------------------------


def _manage_context(request: HttpRequest, trip: TripBooking, token: str) -> dict:
    return {
        "trip": trip,
        "token": token,
        "plan_url": _plan_url(trip.plan_id),
        "checkout_url": _checkout_url(trip.pk),
        "all_cancellable": trip.status in ACTIVE,
        **trip_rows(trip),
    }


@require_GET
def trip_manage(request: HttpRequest, token: str) -> HttpResponse:
    trip = _managed_trip(token)
    if trip.user_id is None:
        _remember(request, trip.pk, token)  # continue to its checkout if on hold
    return _private(
        render(
            request, "web/booking/manage.html", _manage_context(request, trip, token)
        )
    )


def _part_of(trip: TripBooking, part_id: int):
    for part in trip.parts.all():
        if part.pk == part_id:
            return part
    raise Http404(_("No such part of this trip."))


@require_http_methods(["GET", "POST"])
def trip_part_cancel(request: HttpRequest, token: str, part_id: int) -> HttpResponse:
    """Cancel one part of a confirmed trip under its own policy: GET shows what it
    refunds, POST cancels."""
    trip = _managed_trip(token)
    part = _part_of(trip, part_id)
    context = _manage_context(request, trip, token)
    row = next(p for p in context["parts"] if p["id"] == part.pk)
    if not row["cancellable"]:
        messages.error(
            request,
            _("This part cannot be cancelled on its own (it is %(status)s).")
            % {"status": row["status_display"].lower()}
            if trip.status == TripBooking.Status.CONFIRMED
            else _("Only a confirmed trip can be cancelled part by part."),
        )
        return redirect(_manage_url(token))
    if request.method == "GET":
        return _private(
            render(request, "web/booking/cancel_part.html", {**context, "part": row})
        )
    try:
        booking = booking_cancel(booking=part.booking)
    except BookingStateError as exc:
        messages.error(request, exc.message)
        return redirect(_manage_url(token))
    messages.success(
        request,
        _("'%(title)s' is cancelled: %(refund)s will be refunded.")
        % {
            "title": row["title"],
            "refund": money_text(booking.refund_minor or 0, booking.currency),
        },
    )
    left = trip.parts.exclude(booking__status__in=Booking.ENDED).exists()
    if not left:
        services.trip_cancel(trip=trip)  # nothing left: the trip is cancelled
    return redirect(_manage_url(token))


@require_http_methods(["GET", "POST"])
def trip_cancel_all(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel every part: GET shows each part's refund, POST cancels."""
    trip = _managed_trip(token)
    context = _manage_context(request, trip, token)
    if trip.status not in ACTIVE:
        messages.error(
            request,
            _("This trip is %(status)s: there is nothing to cancel.")
            % {"status": trip.get_status_display().lower()},
        )
        return redirect(_manage_url(token))
    if request.method == "GET":
        live = [p for p in context["parts"] if p["status"] in CANCELLABLE]
        return _private(
            render(request, "web/booking/cancel_all.html", {**context, "live": live})
        )
    try:
        services.trip_cancel(trip=trip)
    except services.TripHoldExpired as exc:
        messages.error(request, exc.message)
        return redirect(_manage_url(token))
    messages.success(request, _("Your trip is cancelled. Each part's refund is shown."))
    return redirect(_manage_url(token))


@require_GET
def trip_ics(request: HttpRequest, token: str) -> HttpResponse:
    trip = _managed_trip(token)
    response = HttpResponse(
        trip_calendar(trip, language=language()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="trip.ics"'
    return _private(response)


@require_GET
def trip_print(request: HttpRequest, token: str) -> HttpResponse:
    trip = _managed_trip(token)
    lang = language()
    days = []
    for day in trip.plan.days or []:
        steps = [
            {
                "id": step["id"],
                "kind": step["kind"],
                "title": localised(step.get("title"), lang),
                "starts": local_text(_iso(step["start"])) if step.get("start") else "",
                "ends": local_text(_iso(step["end"])) if step.get("end") else "",
            }
            for step in day["steps"]
        ]
        date = formats.date_format(dt.date.fromisoformat(day["date"]), "l j F Y")
        days.append({"date": date, "steps": steps})
    context = {**_manage_context(request, trip, token), "days": days}
    return _private(render(request, "web/booking/print.html", context))


def _iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
