"""Booking pages of the traveller website: hold a solved plan, check out (lead
traveller, confirm), and manage the trip (cancel a part or everything, calendar
file, printable page).

Views only parse, call the trip services (``itineraries.services``) and render.
Whose trip it is: a signed-in traveller owns the trips they hold; an anonymous
visitor owns a trip by its manage token, kept in their session while they check
out. At confirmation the token is emailed as the manage link
(``/trips/manage/<token>/``). Opening that link gives the browser's session access
to the trip for MANAGE_SESSION_MINUTES and redirects to ``/trips/<id>/manage/``, so
the token leaves the address bar (and the logs of the pages that follow); the
token itself stops working MANAGE_TOKEN_DAYS_AFTER_TRIP days after the trip
(a clear page says so). Tokens are compared by their SHA-256; anyone else gets 404.

Holds without an account last at most VISITOR_HOLD_MAX_MINUTES, one at a time per
session, and are rate-limited per visitor (429 with ``Retry-After``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import logging
import time
from zoneinfo import ZoneInfo

from django.conf import settings
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
    trip_booking_get,
    visitor_hash,
)
from providers.models import Booking
from providers.services import booking_cancel
from tourism.exceptions import (
    ApplicationError,
    BookingStateError,
    NotFoundError,
    RateLimited,
)
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
from web.limits import holds_admit, plans_admit, retry_later
from web.views_plan import plan_or_404

logger = logging.getLogger(__name__)

SESSION_TOKENS = "web_trip_tokens"  # {trip id: manage token} of this session's holds
SESSION_GRANTS = "web_trip_grants"  # {trip id: {"token", "until"}}: manage access
SESSION_PLAN_KEYS = "web_plan_keys"  # {plan id: key} of the plans booked here
MAX_REMEMBERED = 20
ACTIVE = (TripBooking.Status.ON_HOLD, TripBooking.Status.CONFIRMED)
# The absolute expiry is also shown on the route's clock (Peru; Bolivia is 1 h on).
ROUTE_ZONE = ZoneInfo("America/Lima")


# --- Who owns what ------------------------------------------------------------------


def _user(request: HttpRequest):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _session_dict(request: HttpRequest, name: str) -> dict:
    value = request.session.get(name)
    return value if isinstance(value, dict) else {}


def _session_put(request: HttpRequest, name: str, key, value) -> None:
    """Remember ``value`` under ``key`` in the session dict ``name`` (the latest
    MAX_REMEMBERED entries)."""
    entries = {k: v for k, v in _session_dict(request, name).items() if k != str(key)}
    entries[str(key)] = value
    request.session[name] = dict(list(entries.items())[-MAX_REMEMBERED:])


def _session_drop(request: HttpRequest, name: str, key) -> None:
    entries = _session_dict(request, name)
    if str(key) in entries:
        request.session[name] = {k: v for k, v in entries.items() if k != str(key)}


def _tokens(request: HttpRequest) -> dict[str, str]:
    return _session_dict(request, SESSION_TOKENS)


def _remember(request: HttpRequest, trip_id, token: str) -> None:
    if token:
        _session_put(request, SESSION_TOKENS, trip_id, token)


def _grant(request: HttpRequest, trip_id, token: str) -> None:
    """Let this browser manage the trip for MANAGE_SESSION_MINUTES (the manage
    link was opened, or the trip was just confirmed here)."""
    until = time.time() + 60 * settings.MANAGE_SESSION_MINUTES
    _session_put(request, SESSION_GRANTS, trip_id, {"token": token, "until": until})


def _remember_plan_key(request: HttpRequest, plan_id, key: str) -> None:
    if key:
        _session_put(request, SESSION_PLAN_KEYS, plan_id, key)


def _visitor(request: HttpRequest) -> str:
    """Who an anonymous visitor is, for the one-hold-at-a-time rule: their
    session (made now if they have none yet)."""
    if request.session.session_key is None:
        request.session.save()
    return visitor_hash(f"session-{request.session.session_key}")


def _token_opens(trip: TripBooking, token: str, now: dt.datetime) -> bool:
    return bool(
        token
        and trip.agency_id is None
        and trip.manage_token_hash
        and hmac.compare_digest(trip.manage_token_hash, manage_token_hash(token))
        and (trip.manage_token_expires_at is None or trip.manage_token_expires_at > now)
    )


class AccessEnded(Exception):
    """The session had access to a trip that it has no longer: ``page`` says why
    (the manage link expired, or the browser's access timed out)."""

    def __init__(self, page: HttpResponse) -> None:
        super().__init__()
        self.page = page


def _ended(request: HttpRequest, reason: str, trip: TripBooking | None, status: int):
    context = {
        "reason": reason,
        "expired_on": trip.manage_token_expires_at if trip else None,
        "minutes": settings.MANAGE_SESSION_MINUTES,
    }
    page = render(request, "web/booking/link_ended.html", context, status=status)
    return _private(page)


def _access(request: HttpRequest, trip: TripBooking) -> bool:
    """Whether this visitor may see and act on ``trip``: the signed-in traveller who
    holds it, the session that holds it (its token), or a session the manage link
    was opened in, while that access runs. AccessEnded when the link expired or
    the access timed out."""
    if trip.agency_id is not None:
        return False
    now = timezone.now()
    user = _user(request)
    if user is not None and trip.user_id == user.pk:
        return True
    if _token_opens(trip, _tokens(request).get(str(trip.pk), ""), now):
        return True
    grant = _session_dict(request, SESSION_GRANTS).get(str(trip.pk))
    if not isinstance(grant, dict):
        return False
    token = str(grant.get("token", ""))
    if not (
        trip.manage_token_hash
        and hmac.compare_digest(trip.manage_token_hash, manage_token_hash(token))
    ):
        return False  # a newer link replaced it
    if not _token_opens(trip, token, now):
        raise AccessEnded(_ended(request, "expired", trip, 410))
    if float(grant.get("until", 0)) <= time.time():
        raise AccessEnded(_ended(request, "timed_out", trip, 403))
    return True


def _session_token(request: HttpRequest, trip_id) -> str:
    """The manage token this session knows for the trip (its hold, or its
    access from the manage link)."""
    token = _tokens(request).get(str(trip_id))
    if token:
        return token
    grant = _session_dict(request, SESSION_GRANTS).get(str(trip_id))
    return str(grant.get("token", "")) if isinstance(grant, dict) else ""


def _owned_trip(request: HttpRequest, trip_id) -> TripBooking:
    """The visitor's trip booking (see :func:`_access`), its status brought up to
    date; anyone else's is 404."""
    trip = trip_booking_get(trip_id=trip_id)
    if trip is None or not _access(request, trip):
        raise Http404(_("No such trip booking."))
    return services.trip_refresh(trip=trip)


def _private(response: HttpResponse) -> HttpResponse:
    """Pages about one traveller's trip: not cached, not indexed, no Referer leak."""
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _plan_url(request: HttpRequest, plan_id) -> str:
    """The plan's page, when this session knows its key (it booked it here); else
    empty (the pages then offer no link back)."""
    key = _session_dict(request, SESSION_PLAN_KEYS).get(str(plan_id))
    if not key:
        return ""
    try:
        return reverse("web:plan_detail", args=[plan_id, key])
    except NoReverseMatch:
        return ""


def _checkout_url(trip_id) -> str:
    return reverse("web:trip_checkout", args=[trip_id])


def _manage_url(trip_id) -> str:
    return reverse("web:trip_manage", args=[trip_id])


def _manage_link(token: str) -> str:
    """The emailed link: opening it gives the browser access to the trip."""
    return reverse("web:trip_manage_link", args=[token])


def with_access(view):
    """Answer AccessEnded's page (expired link, access timed out)."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except AccessEnded as ended:
            return ended.page

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- Holding a plan -----------------------------------------------------------------


def _visitor_trip_of(request: HttpRequest, plan: TripPlan) -> TripBooking | None:
    """The visitor's own active trip booking of ``plan``, if any."""
    for trip_id in TripBooking.objects.filter(plan=plan, status__in=ACTIVE).values_list(
        "pk", flat=True
    ):
        trip = trip_booking_get(trip_id=trip_id)
        with contextlib.suppress(AccessEnded):
            if trip is not None and _access(request, trip):
                trip = services.trip_refresh(trip=trip)
                if trip.status in ACTIVE:
                    return trip
    return None


def _unavailable(
    request: HttpRequest, plan: TripPlan, key: str, status: int, **context
) -> HttpResponse:
    context = {
        "plan": plan,
        "plan_key": key,
        "plan_url": reverse("web:plan_detail", args=[plan.pk, key])
        if key
        else _plan_url(request, plan.pk),
        **context,
    }
    return render(request, "web/booking/unavailable.html", context, status=status)


def _hold(
    request: HttpRequest, plan: TripPlan, *, key: str = "", token: str = ""
) -> HttpResponse:
    """Hold every bookable part of ``plan`` and go to the checkout; the parts that
    cannot be held are named, with a re-plan without them. ``key`` is the plan's
    secret, ``token`` the manage token of an earlier trip of it (hold again)."""
    own = _visitor_trip_of(request, plan)
    if own is not None:
        return redirect(_checkout_url(own.pk))
    if (refusal := holds_admit(request)) is not None:
        page = _unavailable(request, plan, key, 429, message=refusal.message)
        return retry_later(page, refusal)
    user = _user(request)
    initial = {}
    if user is not None:
        initial = {
            "lead_name": user.get_full_name() or "",
            "lead_email": user.email or "",
        }
    owner = TripOwner(
        user=user,
        plan_secret=key,
        token=token,
        visitor="" if user is not None else _visitor(request),
    )
    try:
        held = services.trip_hold(
            plan=plan, owner=owner, language=language(), **initial
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
        return _unavailable(request, plan, key, 409, parts=parts)
    except services.VisitorHoldLimit as exc:
        own, message = "", exc.message
        with contextlib.suppress(AccessEnded):
            if _access(request, exc.trip):  # this session's hold: name it
                own = _checkout_url(exc.trip.pk)
                message = services.one_hold_message(exc.trip, theirs=True)
        return _unavailable(request, plan, key, 409, message=message, own_hold_url=own)
    except services.PlanNotHoldable as exc:
        return _unavailable(request, plan, key, 409, message=exc.message)
    _remember(request, held.trip.pk, held.manage_token)
    _remember_plan_key(request, plan.pk, key)
    return redirect(_checkout_url(held.trip.pk))


@require_POST
def plan_book(request: HttpRequest, plan_id, key: str) -> HttpResponse:
    return _hold(request, plan_or_404(request, plan_id, key), key=key)


@require_POST
def plan_replan_without(request: HttpRequest, plan_id, key: str) -> HttpResponse:
    """Re-plan dropping the parts that could not be held; on to the new plan."""
    plan = plan_or_404(request, plan_id, key)
    if (refusal := plans_admit(request)) is not None:
        page = _unavailable(request, plan, key, 429, message=refusal.message)
        return retry_later(page, refusal)
    drop = [step_id[:40] for step_id in request.POST.getlist("drop")][:50]
    try:
        new = services.plan_replan(plan=plan, keep=[], drop=drop, user=_user(request))
    except RateLimited as exc:
        return retry_later(
            _unavailable(request, plan, key, 429, message=exc.message), exc
        )
    except ApplicationError as exc:
        return _unavailable(request, plan, key, 400, message=exc.message)
    return redirect("web:plan_detail", plan_id=new.pk, key=key)


@require_POST
@with_access
def trip_hold_again(request: HttpRequest, trip_id) -> HttpResponse:
    """An expired (or cancelled) hold: hold the same plan again."""
    trip = _owned_trip(request, trip_id)
    if trip.status in ACTIVE:
        return redirect(_checkout_url(trip.pk))
    key = _session_dict(request, SESSION_PLAN_KEYS).get(str(trip.plan_id), "")
    return _hold(request, trip.plan, key=key, token=_session_token(request, trip.pk))


@require_POST
@with_access
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
        "plan_url": _plan_url(request, trip.plan_id),
        "manage_url": _manage_url(trip.pk)
        if trip.status == TripBooking.Status.CONFIRMED
        else "",
        **trip_rows(trip),
    }
    return _private(
        render(request, "web/booking/checkout.html", context, status=status)
    )


def _to_manage(request: HttpRequest, trip: TripBooking) -> HttpResponse:
    """A confirmed trip: on to its manage page. The session's hold token becomes a
    manage access of MANAGE_SESSION_MINUTES, like the emailed link's."""
    token = _tokens(request).get(str(trip.pk), "")
    if token:
        if _token_opens(trip, token, timezone.now()):
            _grant(request, trip.pk, token)
        _session_drop(request, SESSION_TOKENS, trip.pk)
    return redirect(_manage_url(trip.pk))


def _lead_initial(request: HttpRequest, trip: TripBooking) -> dict[str, str]:
    user = _user(request)
    return {
        "name": trip.lead_name or (user.get_full_name() if user else ""),
        "email": trip.lead_email or (user.email if user else ""),
        "phone": trip.lead_phone,
    }


@require_http_methods(["GET", "POST"])
@with_access
def trip_checkout(request: HttpRequest, trip_id) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
    if trip.status == TripBooking.Status.CONFIRMED:
        return _to_manage(request, trip)  # confirmed (a second click, too)
    if request.method == "GET":
        return _checkout_page(
            request, trip, LeadForm(initial=_lead_initial(request, trip))
        )
    form = LeadForm(request.POST)
    if trip.status != TripBooking.Status.ON_HOLD:
        return _checkout_page(request, trip, form, status=409)
    if not form.is_valid():
        return _checkout_page(request, trip, form, status=400)
    lead = form.cleaned_data
    # The confirmation email is queued in the outbox in the transaction that
    # confirms the trip (with a manage link made then when the visitor has none).
    token = _tokens(request).get(str(trip.pk), "")
    link = {"token": token}

    def queue_email(confirmed: TripBooking) -> None:
        if not link["token"] or confirmed.manage_token_hash != manage_token_hash(
            link["token"]
        ):
            # A signed-in traveller's trip: its manage link is made now (only its
            # hash is stored), so it can be managed from the email on any device.
            link["token"] = services.trip_manage_token_new(trip=confirmed)
        emails.trip_confirmed_queue(
            trip_id=confirmed.pk,
            manage_url=request.build_absolute_uri(_manage_link(link["token"])),
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
    return _to_manage(request, trip)


# --- Managing a trip ------------------------------------------------------------------


def _manage_context(request: HttpRequest, trip: TripBooking) -> dict:
    return {
        "trip": trip,
        "plan_url": _plan_url(request, trip.plan_id),
        "checkout_url": _checkout_url(trip.pk),
        "all_cancellable": trip.status in ACTIVE,
        **trip_rows(trip),
    }


@require_GET
def trip_manage_link(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed manage link: this browser may manage the trip for
    MANAGE_SESSION_MINUTES, and the token leaves the address by a redirect. An
    expired link says so (410); an unknown one is 404."""
    trip = trip_by_manage_token(token)
    if trip is None:
        raise Http404(_("No such trip booking."))
    if not _token_opens(trip, token, timezone.now()):
        return _ended(request, "expired", trip, 410)
    request.session.cycle_key()  # a new session id now that it opens a trip
    _grant(request, trip.pk, token)
    response = _private(redirect(_manage_url(trip.pk)))
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@with_access
def trip_manage(request: HttpRequest, trip_id) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
    return _private(
        render(request, "web/booking/manage.html", _manage_context(request, trip))
    )


def _part_of(trip: TripBooking, part_id: int):
    for part in trip.parts.all():
        if part.pk == part_id:
            return part
    raise Http404(_("No such part of this trip."))


@require_http_methods(["GET", "POST"])
@with_access
def trip_part_cancel(request: HttpRequest, trip_id, part_id: int) -> HttpResponse:
    """Cancel one part of a confirmed trip under its own policy: GET shows what it
    refunds, POST cancels."""
    trip = _owned_trip(request, trip_id)
    part = _part_of(trip, part_id)
    context = _manage_context(request, trip)
    row = next(p for p in context["parts"] if p["id"] == part.pk)
    if not row["cancellable"]:
        messages.error(
            request,
            _("This part cannot be cancelled on its own (it is %(status)s).")
            % {"status": row["status_display"].lower()}
            if trip.status == TripBooking.Status.CONFIRMED
            else _("Only a confirmed trip can be cancelled part by part."),
        )
        return redirect(_manage_url(trip.pk))
    if request.method == "GET":
        return _private(
            render(request, "web/booking/cancel_part.html", {**context, "part": row})
        )
    try:
        booking = booking_cancel(booking=part.booking)
    except BookingStateError as exc:
        messages.error(request, exc.message)
        return redirect(_manage_url(trip.pk))
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
    return redirect(_manage_url(trip.pk))


@require_http_methods(["GET", "POST"])
@with_access
def trip_cancel_all(request: HttpRequest, trip_id) -> HttpResponse:
    """Cancel every part: GET shows each part's refund, POST cancels."""
    trip = _owned_trip(request, trip_id)
    context = _manage_context(request, trip)
    if trip.status not in ACTIVE:
        messages.error(
            request,
            _("This trip is %(status)s: there is nothing to cancel.")
            % {"status": trip.get_status_display().lower()},
        )
        return redirect(_manage_url(trip.pk))
    if request.method == "GET":
        live = [p for p in context["parts"] if p["status"] in CANCELLABLE]
        return _private(
            render(request, "web/booking/cancel_all.html", {**context, "live": live})
        )
    try:
        services.trip_cancel(trip=trip)
    except services.TripHoldExpired as exc:
        messages.error(request, exc.message)
        return redirect(_manage_url(trip.pk))
    messages.success(request, _("Your trip is cancelled. Each part's refund is shown."))
    return redirect(_manage_url(trip.pk))


@require_GET
@with_access
def trip_ics(request: HttpRequest, trip_id) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
    response = HttpResponse(
        trip_calendar(trip, language=language()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="trip.ics"'
    return _private(response)


@require_GET
@with_access
def trip_print(request: HttpRequest, trip_id) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
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
    context = {**_manage_context(request, trip), "days": days}
    return _private(render(request, "web/booking/print.html", context))


def _iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
