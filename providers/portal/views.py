"""The provider portal: thin server-rendered views (parse → one service or selector
→ render). No JavaScript is needed; every change is a POST with CSRF followed by a
redirect.

Tenant rule: the provider comes from ``selectors.provider_for_user`` and every
object from a provider-scoped selector, so another provider's object is a plain 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseFormSet, Form
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from providers import octo_pull, selectors, services
from providers.models import Booking, Listing, Provider
from providers.portal import forms
from providers.sync.services import calendar_feed_create, listing_ical_token_rotate
from providers.tasks import octo_connection_sync_task
from tourism.exceptions import ApplicationError
from tourism.net import FetchError

# A new account is signed in directly (no password check to pass through the
# lockout backend first).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

PortalView = Callable[..., HttpResponse]


def provider_required(view: PortalView) -> PortalView:
    """Anonymous → the login page; signed in without a provider → a page saying how
    to sign up; otherwise the view gets the user's provider."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        provider = selectors.provider_for_user(request.user)
        if provider is None:
            return render(request, "providers/portal/no_provider.html")
        return view(request, provider, *args, **kwargs)

    return wrapper


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _listing_or_404(provider: Provider, listing_id: int) -> Listing:
    listing = selectors.listing_get_for_provider(
        provider=provider, listing_id=listing_id
    )
    if listing is None:
        raise Http404
    return listing


def _booking_or_404(provider: Provider, booking_uuid: Any) -> Booking:
    booking = selectors.booking_get_for_provider(
        provider=provider, booking_uuid=str(booking_uuid)
    )
    if booking is None:
        raise Http404
    return booking


def _attach(
    exc: ValidationError,
    form: Form,
    formsets: dict[str, BaseFormSet] | None = None,
) -> None:
    """A service's field errors onto the form; ``units.2.code`` keys onto row 2 of
    the ``units`` formset; unknown fields become the form's own errors."""
    formsets = formsets or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        prefix, _dot, rest = key.partition(".")
        if prefix in formsets:
            formset = formsets[prefix]
            row, _dot, field = rest.partition(".")
            if row.isdigit() and int(row) < len(formset.forms):
                target = formset.forms[int(row)]
                target.add_error(field if field in target.fields else None, errors)
                continue
        form.add_error(key if key in form.fields else None, errors)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- Sign-up --------------------------------------------------------------------------


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Create a login (unless signed in already) and a provider waiting for approval."""
    if request.user.is_authenticated and selectors.provider_for_user(request.user):
        return redirect("portal:dashboard")
    with_account = not request.user.is_authenticated
    form = forms.SignupForm(request.POST or None, with_account=with_account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.provider_signup(
                user=None if with_account else request.user,
                email=data["email"],
                password=data.get("password"),
                name=data["name"],
                kind=data["kind"],
                country=data["country"],
                home_place=data["home_place"],
                contact_name=data["contact_name"],
                phone=data["phone"],
                value_chains=data["value_chains"],
                community_run=data["community_run"],
            )
        except ValidationError as exc:
            _attach(exc, form)
        else:
            if with_account:
                login(request, member.user, backend=MODEL_BACKEND)
            messages.success(
                request,
                _("Welcome! Prepare your listings: staff will approve your account."),
            )
            return redirect("portal:dashboard")
    return render(
        request,
        "providers/portal/signup.html",
        {"form": form, "with_account": with_account},
    )


# --- Dashboard ------------------------------------------------------------------------


@provider_required
def dashboard(request: HttpRequest, provider: Provider) -> HttpResponse:
    today = selectors.provider_today(provider=provider)
    board = selectors.dashboard_for_provider(provider=provider, today=today)
    return render(
        request,
        "providers/portal/dashboard.html",
        {"provider": provider, "board": board, "kinds": Listing.Kind.choices},
    )


# --- Listing editor -------------------------------------------------------------------


def _editor(
    request: HttpRequest, provider: Provider, listing: Listing | None, kind: str
) -> HttpResponse:
    """Create (``listing`` None) or edit a listing with its units and prices."""
    if listing is None:
        initial = forms.ListingForm.initial_new(provider)
        units: list = []
        unit_initial: list[dict[str, Any]] = [
            {"code": "adult", "name_en": "Adult", "name_es": "Adulto"}
        ]
        price_initial: list[dict[str, Any]] = []
    else:
        initial = forms.ListingForm.initial_for(listing)
        units = list(selectors.unit_list_for_listing(listing=listing))
        unit_initial = [forms.UnitForm.initial_for(unit) for unit in units]
        price_initial = [
            forms.PriceForm.initial_for(schedule)
            for schedule in selectors.price_schedule_list_for_listing(listing=listing)
        ]
    data = request.POST if request.method == "POST" else None
    form = forms.ListingForm(data, initial=initial, kind=kind)
    unit_formset = forms.UnitFormSet(data, initial=unit_initial, prefix="units")
    price_formset = forms.PriceFormSet(
        data,
        initial=price_initial,
        prefix="prices",
        form_kwargs={"units": units},
    )
    formsets = {"units": unit_formset}
    if listing is not None:
        formsets["prices"] = price_formset
    if (
        data is not None
        and form.is_valid()
        and all(f.is_valid() for f in formsets.values())
    ):
        currency = form.cleaned_data["currency"]
        try:
            saved = services.listing_save(
                provider=provider,
                listing=listing,
                kind=kind,
                values=form.values(),
                departures=form.cleaned_data.get("departures"),
                units=forms.unit_inputs(unit_formset, currency),
                prices=(
                    forms.price_inputs(price_formset, currency)
                    if listing is not None
                    else []
                ),
            )
        except ValidationError as exc:
            _attach(exc, form, formsets)
        else:
            messages.success(request, _("Saved."))
            return redirect("portal:listing-edit", listing_id=saved.pk)
    if data is not None:
        messages.error(request, _("Nothing was saved: please correct the errors."))
    return render(
        request,
        "providers/portal/listing_form.html",
        {
            "provider": provider,
            "listing": listing,
            "kind": kind,
            "kind_label": Listing.Kind(kind).label,
            "form": form,
            "unit_formset": unit_formset,
            "price_formset": price_formset if listing is not None else None,
        },
    )


@provider_required
def listing_new(request: HttpRequest, provider: Provider) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in Listing.Kind.values:
        return render(
            request,
            "providers/portal/listing_kind.html",
            {"provider": provider, "kinds": Listing.Kind.choices},
        )
    return _editor(request, provider, None, kind)


@provider_required
def listing_edit(
    request: HttpRequest, provider: Provider, listing_id: int
) -> HttpResponse:
    listing = _listing_or_404(provider, listing_id)
    return _editor(request, provider, listing, listing.kind)


@provider_required
def listing_photos(
    request: HttpRequest, provider: Provider, listing_id: int
) -> HttpResponse:
    listing = _listing_or_404(provider, listing_id)
    form = forms.PhotoForm(
        request.POST or None, request.FILES or None, use_required_attribute=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.photo_add(
                listing=listing,
                upload=form.cleaned_data["image"],
                alt_en=form.cleaned_data["alt_en"],
                alt_es=form.cleaned_data["alt_es"],
            )
        except ValidationError as exc:
            _attach(exc, form)
        else:
            messages.success(request, _("Photo added."))
            return redirect("portal:listing-photos", listing_id=listing.pk)
    return render(
        request,
        "providers/portal/listing_photos.html",
        {
            "provider": provider,
            "listing": listing,
            "form": form,
            "photos": selectors.photo_list_for_listing(listing=listing),
        },
    )


@provider_required
def photo_delete(
    request: HttpRequest, provider: Provider, listing_id: int, photo_id: int
) -> HttpResponse:
    listing = _listing_or_404(provider, listing_id)
    photo = selectors.photo_get_for_listing(listing=listing, photo_id=photo_id)
    if photo is None:
        raise Http404
    if response := _post_only(request):
        return response
    services.photo_delete(photo=photo)
    messages.success(request, _("Photo removed."))
    return redirect("portal:listing-photos", listing_id=listing.pk)


# --- Calendar -------------------------------------------------------------------------


def _calendar_url(listing: Listing, month: dt.date, week: int | None) -> str:
    query = {"month": month.strftime("%Y-%m")}
    if week:
        query["week"] = str(week)
    return f"{reverse('portal:calendar', args=[listing.pk])}?{urlencode(query)}"


@provider_required
def calendar(request: HttpRequest, provider: Provider, listing_id: int) -> HttpResponse:
    """A month of slots with a small form per slot (capacity, close, reopen)."""
    listing = _listing_or_404(provider, listing_id)
    month_form = forms.MonthForm(request.GET)
    month_form.is_valid()
    month = month_form.cleaned_data.get("month") or selectors.provider_today(
        provider=provider
    ).replace(day=1)
    week = month_form.cleaned_data.get("week")
    slot_form = None
    if request.method == "POST":
        slot_form = forms.SlotForm(request.POST)
        if slot_form.is_valid():
            data = slot_form.cleaned_data
            if data["start_time"] not in selectors.slot_keys(listing, data["date"]):
                slot_form.add_error(
                    "date", _("This listing is not offered at that date and time.")
                )
            else:
                try:
                    services.slot_set(
                        listing=listing,
                        day=data["date"],
                        start_time=data["start_time"],
                        capacity=data["capacity"] if data["action"] == "save" else None,
                        closed={"close": True, "reopen": False}.get(data["action"]),
                    )
                except ValidationError as exc:
                    _attach(exc, slot_form)
                else:
                    messages.success(request, _("Availability updated."))
                    anchor = f"#d{data['date']:%Y%m%d}"
                    return HttpResponseRedirect(
                        _calendar_url(listing, month, week) + anchor
                    )
    month_view = selectors.calendar_month(listing=listing, month=month, week=week)
    error = None
    if slot_form is not None and slot_form.errors:
        error = {
            "date": slot_form.cleaned_data.get("date"),
            "start_time": slot_form.cleaned_data.get("start_time"),
            "messages": [m for errors in slot_form.errors.values() for m in errors],
        }
    return render(
        request,
        "providers/portal/calendar.html",
        {
            "provider": provider,
            "listing": listing,
            "cal": month_view,
            "month_form": month_form,
            "error": error,
            "week_query": f"&week={month_view.week}" if month_view.week else "",
        },
        status=400 if error else 200,
    )


# --- Calendar feeds -------------------------------------------------------------------


@provider_required
def feeds(request: HttpRequest, provider: Provider, listing_id: int) -> HttpResponse:
    listing = _listing_or_404(provider, listing_id)
    if request.method == "POST" and request.POST.get("action") == "rotate":
        listing_ical_token_rotate(listing=listing)
        messages.success(
            request, _("New export address made: the old one no longer works.")
        )
        return redirect("portal:feeds", listing_id=listing.pk)
    form = forms.FeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            calendar_feed_create(
                listing=listing,
                url=form.cleaned_data["url"],
                name=form.cleaned_data["name"],
                blocks_units=form.cleaned_data["blocks_units"],
            )
        except ValidationError as exc:
            _attach(exc, form)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Calendar added: it is read within minutes."))
            return redirect("portal:feeds", listing_id=listing.pk)
    export_url = request.build_absolute_uri(f"/providers/ical/{listing.ical_token}.ics")
    return render(
        request,
        "providers/portal/feeds.html",
        {
            "provider": provider,
            "listing": listing,
            "feeds": selectors.feed_list_for_listing(listing=listing),
            "form": form,
            "export_url": export_url,
        },
    )


# --- Bookings -------------------------------------------------------------------------


@provider_required
def bookings(request: HttpRequest, provider: Provider) -> HttpResponse:
    form = forms.BookingFilterForm(request.GET)
    status, day = None, None
    if form.is_valid():
        status = form.cleaned_data["status"] or None
        day = form.cleaned_data["date"]
    found = selectors.booking_list_for_provider(
        provider=provider, status=status, day=day
    )
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return render(
        request,
        "providers/portal/bookings.html",
        {
            "provider": provider,
            "form": form,
            "page": page,
            "rows": selectors.booking_rows(bookings=page.object_list),
            "query": query,
        },
    )


@provider_required
def booking_detail(
    request: HttpRequest, provider: Provider, booking_uuid: Any
) -> HttpResponse:
    booking = _booking_or_404(provider, booking_uuid)
    (row,) = selectors.booking_rows(bookings=[booking])
    return render(
        request,
        "providers/portal/booking_detail.html",
        {
            "provider": provider,
            "row": row,
            "booking": booking,
            "Status": Booking.Status,
        },
    )


BOOKING_ACTIONS: dict[str, tuple[Callable[[Booking], Booking], Any]] = {
    "accept": (
        lambda b: services.booking_accept(booking=b),
        gettext_lazy("Booking accepted: the traveller is told by email."),
    ),
    "decline": (
        lambda b: services.booking_decline(booking=b),
        gettext_lazy("Booking declined: the traveller is told by email."),
    ),
    "redeemed": (
        lambda b: services.booking_mark_attendance(booking=b, showed_up=True),
        gettext_lazy("Marked as redeemed."),
    ),
    "no-show": (
        lambda b: services.booking_mark_attendance(booking=b, showed_up=False),
        gettext_lazy("Marked as no-show."),
    ),
}


@provider_required
def booking_action(
    request: HttpRequest, provider: Provider, booking_uuid: Any, action: str
) -> HttpResponse:
    """Accept / decline an on-request booking, mark redeemed / no-show."""
    booking = _booking_or_404(provider, booking_uuid)
    if action not in BOOKING_ACTIONS:
        raise Http404
    if response := _post_only(request):
        return response
    perform, done = BOOKING_ACTIONS[action]
    try:
        perform(booking)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, str(done))
    default = reverse("portal:booking-detail", args=[booking.uuid])
    return HttpResponseRedirect(_safe_next(request, default))


# --- Manifest -------------------------------------------------------------------------


@provider_required
def manifest(request: HttpRequest, provider: Provider) -> HttpResponse:
    """The printable list of who comes on a day."""
    form = forms.ManifestForm(request.GET)
    day = None
    if form.is_valid():
        day = form.cleaned_data["date"]
    day = day or selectors.provider_today(provider=provider)
    rows = selectors.manifest_rows(provider=provider, day=day)
    return render(
        request,
        "providers/portal/manifest.html",
        {
            "provider": provider,
            "form": form,
            "day": day,
            "rows": rows,
            "persons": sum(row.booking.persons for row in rows),
        },
    )


# --- OCTO connection (the provider's own reservation system) ---------------------


@provider_required
def octo(request: HttpRequest, provider: Provider) -> HttpResponse:
    """The provider's OCTO connections with their sync status; add one."""
    form = forms.OctoConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = octo_pull.octo_connection_create(
                provider=provider, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            octo_connection_sync_task.delay_on_commit(connection.pk)
            messages.success(
                request, _("Connected: the products are read in a moment.")
            )
            return redirect("portal:octo-detail", connection_id=connection.pk)
    return render(
        request,
        "providers/portal/octo.html",
        {
            "provider": provider,
            "connections": selectors.octo_connection_list_for_provider(
                provider=provider
            ),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@provider_required
def octo_detail(
    request: HttpRequest, provider: Provider, connection_id: int
) -> HttpResponse:
    """Link listings to the supplier's products; sync now."""
    connection = selectors.octo_connection_get_for_provider(
        provider=provider, connection_id=connection_id
    )
    if connection is None:
        raise Http404
    form = forms.OctoLinkForm(
        request.POST or None,
        listings=selectors.listing_list_for_provider(provider=provider),
        products=connection.products,
    )
    if request.method == "POST" and request.POST.get("action") == "sync":
        octo_connection_sync_task.delay_on_commit(connection.pk)
        messages.success(request, _("Sync started."))
        return redirect("portal:octo-detail", connection_id=connection.pk)
    if request.method == "POST" and form.is_valid():
        listing = _listing_or_404(provider, form.cleaned_data["listing"])
        product_id, option_id = form.cleaned_data["product"].split("|", 1)
        try:
            octo_pull.octo_product_link(
                connection=connection,
                listing=listing,
                product_id=product_id,
                option_id=option_id,
            )
        except (ApplicationError, octo_pull.OctoError, FetchError) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            octo_connection_sync_task.delay_on_commit(connection.pk)
            messages.success(request, _("Linked: availability is pulled in a moment."))
            return redirect("portal:octo-detail", connection_id=connection.pk)
    return render(
        request,
        "providers/portal/octo_detail.html",
        {
            "provider": provider,
            "connection": connection,
            "links": connection.links.select_related("listing"),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
