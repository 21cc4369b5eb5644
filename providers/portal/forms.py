"""Forms of the provider portal: parsing and field errors only.

The rules (who may sign up, which listing fields fit which kind, overlapping prices,
capacity below what is sold) live in ``providers.services``; their field errors are
attached back to these forms by the views.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from catalogue.models import (
    WEEKDAYS,
    Country,
    Currency,
    Departure,
    Place,
    RouteLeg,
    Sight,
)
from catalogue.services import money_to_minor
from providers import services
from providers.models import (
    Booking,
    InterestTag,
    Listing,
    ListingUnit,
    PriceSchedule,
    Provider,
    ValueChain,
)

WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
WEEKDAY_CHOICES = [(day, WEEKDAY_LABELS[day]) for day in WEEKDAYS]


def _days_label(days: list[str]) -> str:
    if len(days) == len(WEEKDAYS):
        return str(_("daily"))
    return ", ".join(str(WEEKDAY_LABELS[day]) for day in days)


DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# ISO (what date pickers send) or day first, as written in Peru and Bolivia: never
# Django's default month-first guesses.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _number(*, min_value: int = 0, max_value: int | None = None) -> forms.NumberInput:
    attrs: dict[str, Any] = {"min": min_value, "inputmode": "numeric"}
    if max_value is not None:
        attrs["max"] = max_value
    return forms.NumberInput(attrs=attrs)


class MoneyField(forms.DecimalField):
    """A price typed as "45.50" (or "45,50"), for conversion to minor units."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal("999999.99"))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 8})
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str) and "," in value and "." not in value:
            value = value.replace(",", ".")
        return super().to_python(value)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {}  # no step/min attributes on a text input


def minor_to_decimal(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


# --- Accounts -------------------------------------------------------------------------


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with the email address (it is the username), in any letter case."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")
        self.fields["username"].widget.attrs.update(
            {"type": "email", "autocomplete": "email"}
        )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    password_confirm = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    name = forms.CharField(
        label=_("Name of your family, association or business"), max_length=160
    )
    kind = forms.ChoiceField(label=_("You are"), choices=Provider.Kind.choices)
    country = forms.ModelChoiceField(
        label=_("Country"), queryset=Country.objects.order_by("code")
    )
    home_place = forms.ModelChoiceField(
        label=_("Home place"),
        queryset=Place.objects.select_related("country").order_by("name_en"),
        help_text=_("The town, village or island where you receive travellers."),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=120)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    value_chains = forms.ModelMultipleChoiceField(
        label=_("What you produce or offer"),
        queryset=ValueChain.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    community_run = forms.BooleanField(
        label=_("Owned and run by a community, family or cooperative"),
        required=False,
    )

    def __init__(self, *args: Any, with_account: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].label_from_instance = lambda c: c.name
        self.fields["home_place"].label_from_instance = lambda p: (
            f"{p.name} ({p.country.name})"
        )
        self.fields["value_chains"].label_from_instance = lambda v: v.name
        self.with_account = with_account
        if not with_account:
            del self.fields["password"], self.fields["password_confirm"]

    def login_fields(self) -> list[forms.BoundField]:
        names = ("email", "password", "password_confirm") if self.with_account else ()
        return [self[name] for name in names]

    def provider_fields(self) -> list[forms.BoundField]:
        login = {field.name for field in self.login_fields()}
        return [self[name] for name in self.fields if name not in login]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "password_confirm" in self.fields:
            first, second = cleaned.get("password"), cleaned.get("password_confirm")
            if first and second and first != second:
                self.add_error("password_confirm", _("The passwords do not match."))
        return cleaned


# --- Listings -------------------------------------------------------------------------


class ListingForm(forms.Form):
    """Every editable listing field; ``__init__`` keeps those of one kind."""

    place = forms.ModelChoiceField(
        label=_("Place"),
        queryset=Place.objects.select_related("country").order_by("name_en"),
    )
    # Activities and guides: a walk may end in another place than it starts.
    end_place = forms.ModelChoiceField(
        label=_("Where does it end?"),
        queryset=Place.objects.select_related("country").order_by("name_en"),
        required=False,
        empty_label=_("Where it starts"),
        help_text=_("Leave empty if it ends where it starts."),
    )
    sights = forms.ModelMultipleChoiceField(
        label=_("Sights it visits"),
        queryset=Sight.objects.select_related("place").order_by(
            "place__name_en", "name_en"
        ),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_(
            "Travellers who book this are not sent to these sights again on the "
            "same trip. Say in the description whether the entry fee is included."
        ),
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=160)
    title_es = forms.CharField(label=_("Title (Spanish)"), max_length=160)
    description_en = forms.CharField(
        label=_("Description (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    description_es = forms.CharField(
        label=_("Description (Spanish)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    tags = forms.MultipleChoiceField(
        label=_("Interests"),
        choices=InterestTag.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    default_capacity = forms.IntegerField(
        label=_("Capacity (persons)"),
        min_value=1,
        max_value=10_000,
        help_text=_("Persons per night or per start time unless a day says otherwise"),
        widget=_number(min_value=1),
    )
    confirmation = forms.ChoiceField(
        label=_("Confirmation"),
        choices=Listing.Confirmation.choices,
        widget=forms.RadioSelect,
    )
    booking_cutoff_hours = forms.IntegerField(
        label=_("Bookings close (hours before the start)"),
        min_value=0,
        max_value=24 * 365,
        widget=_number(),
    )
    cancellation_cutoff_hours = forms.IntegerField(
        label=_("Free cancellation until (hours before the start)"),
        min_value=0,
        max_value=24 * 365,
        widget=_number(),
    )
    cancellation_refund_percent = forms.IntegerField(
        label=_("Refund after that (%)"),
        min_value=0,
        max_value=100,
        widget=_number(max_value=100),
    )
    is_active = forms.BooleanField(
        label=_("Active (offered to travellers)"), required=False
    )
    # Stays
    stay_type = forms.ChoiceField(
        label=_("Type of stay"),
        choices=[("", "—"), *Listing.StayType.choices],
        required=False,
    )
    rooms = forms.IntegerField(
        label=_("Rooms"), min_value=0, max_value=1000, required=False, widget=_number()
    )
    beds = forms.IntegerField(
        label=_("Beds"), min_value=0, max_value=1000, required=False, widget=_number()
    )
    # Activities and guides
    duration_min = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=1,
        max_value=60 * 24 * 14,
        required=False,
        widget=_number(min_value=1),
    )
    start_times = forms.CharField(
        label=_("Start times"),
        required=False,
        help_text=_(
            "Local times separated by commas, e.g. 09:00, 14:30. Empty: open hours."
        ),
    )
    opens = forms.TimeField(
        label=_("Opens"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    closes = forms.TimeField(
        label=_("Closes"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    days = forms.MultipleChoiceField(
        label=_("Days of operation"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every day."),
    )
    season_start = forms.CharField(
        label=_("Season from (MM-DD)"),
        max_length=5,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "04-01", "size": 5}),
    )
    season_end = forms.CharField(
        label=_("Season until (MM-DD)"),
        max_length=5,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "10-31", "size": 5}),
    )
    min_party = forms.IntegerField(
        label=_("Minimum party"),
        min_value=1,
        max_value=1000,
        initial=1,
        widget=_number(min_value=1),
    )
    max_party = forms.IntegerField(
        label=_("Maximum party"),
        min_value=1,
        max_value=1000,
        required=False,
        widget=_number(min_value=1),
    )
    difficulty = forms.ChoiceField(
        label=_("Difficulty"),
        choices=[("", "—"), *Listing.Difficulty.choices],
        required=False,
    )
    strenuous = forms.BooleanField(
        label=_("Strenuous (hard at altitude)"), required=False
    )
    altitude_m = forms.IntegerField(
        label=_("Highest altitude (m)"),
        min_value=-500,
        max_value=9000,
        required=False,
        widget=_number(min_value=-500, max_value=9000),
    )
    # Transport
    route_leg = forms.ModelChoiceField(
        label=_("Route"),
        queryset=RouteLeg.objects.select_related("origin", "destination"),
        required=False,
    )
    departures = forms.ModelMultipleChoiceField(
        label=_("Departures you run"),
        queryset=Departure.objects.select_related("leg__origin", "leg__destination"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Guides
    languages = forms.MultipleChoiceField(
        label=_("Languages you guide in"),
        choices=services.GUIDE_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    GROUPS = (
        (
            _("What you offer"),
            (
                "title_en",
                "title_es",
                "description_en",
                "description_es",
                "place",
                "end_place",
                "sights",
                "tags",
            ),
        ),
        (_("Stay"), ("stay_type", "rooms", "beds")),
        (
            _("When"),
            (
                "duration_min",
                "start_times",
                "opens",
                "closes",
                "days",
                "season_start",
                "season_end",
            ),
        ),
        (_("Route"), ("route_leg", "departures")),
        (_("Guiding"), ("languages",)),
        (
            _("Who can come"),
            (
                "default_capacity",
                "min_party",
                "max_party",
                "difficulty",
                "strenuous",
                "altitude_m",
            ),
        ),
        (
            _("Booking and cancellation"),
            (
                "currency",
                "confirmation",
                "booking_cutoff_hours",
                "cancellation_cutoff_hours",
                "cancellation_refund_percent",
                "is_active",
            ),
        ),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        keep = {*services.LISTING_COMMON_FIELDS, *services.LISTING_KIND_FIELDS[kind]}
        if kind == Listing.Kind.TRANSPORT:
            keep.add("departures")
            keep.discard("place")  # the route's origin
            self.fields["route_leg"].required = True
        if kind == Listing.Kind.STAY:
            self.fields["stay_type"].required = True
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name in ("place", "end_place"):
            if name in self.fields:
                self.fields[name].label_from_instance = lambda p: (
                    f"{p.name} ({p.country.name})"
                )
        if "sights" in self.fields:
            self.fields["sights"].label_from_instance = lambda s: (
                f"{s.place.name}: {s.name}"
            )
        if "departures" in self.fields:
            self.fields["departures"].label_from_instance = lambda d: (
                f"{d.leg.origin.name} → {d.leg.destination.name} "
                f"{d.departure_time:%H:%M} · {d.operator} "
                f"({_days_label(d.weekdays)})"
            )

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        result = []
        for legend, names in self.GROUPS:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                result.append((legend, fields))
        return result

    def clean_start_times(self) -> list[str]:
        raw = self.cleaned_data.get("start_times") or ""
        times = set()
        for part in raw.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                times.add(dt.time.fromisoformat(part.zfill(5)).strftime("%H:%M"))
            except ValueError as exc:
                raise forms.ValidationError(
                    _("“%(value)s” is not a time like 09:00."),
                    params={"value": part},
                ) from exc
        return sorted(times)

    def values(self) -> dict[str, Any]:
        """The cleaned listing fields for ``services.listing_save``."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "departures"
        }

    @staticmethod
    def initial_for(listing: Listing) -> dict[str, Any]:
        names = (
            *services.LISTING_COMMON_FIELDS,
            *services.LISTING_KIND_FIELDS[listing.kind],
        )
        initial = {name: getattr(listing, name) for name in names}
        initial["start_times"] = ", ".join(listing.start_times or [])
        if listing.kind == Listing.Kind.TRANSPORT:
            initial["departures"] = [d.pk for d in listing.departures.all()]
        if "sights" in initial:
            initial["sights"] = [sight.pk for sight in listing.sights.all()]
        return initial

    @staticmethod
    def initial_new(provider: Provider) -> dict[str, Any]:
        return {
            "place": provider.home_place_id,
            "currency": provider.country.currency,
            "default_capacity": 4,
            "confirmation": Listing.Confirmation.INSTANT,
            "booking_cutoff_hours": 24,
            "cancellation_cutoff_hours": 48,
            "cancellation_refund_percent": 0,
            "is_active": True,
            "min_party": 1,
        }


class UnitForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.SlugField(
        label=_("Code"),
        max_length=24,
        help_text=_("e.g. adult, child"),
        widget=forms.TextInput(attrs={"size": 8}),
    )
    name_en = forms.CharField(
        label=_("Name (English)"),
        max_length=60,
        widget=forms.TextInput(attrs={"size": 12}),
    )
    name_es = forms.CharField(
        label=_("Name (Spanish)"),
        max_length=60,
        widget=forms.TextInput(attrs={"size": 12}),
    )
    min_age = forms.IntegerField(
        label=_("From age"),
        min_value=0,
        max_value=120,
        required=False,
        widget=_number(max_value=120),
    )
    max_age = forms.IntegerField(
        label=_("To age"),
        min_value=0,
        max_value=120,
        required=False,
        widget=_number(max_value=120),
    )
    price = MoneyField(label=_("Price"), help_text=_("e.g. 45.50"))
    occupies_capacity = forms.BooleanField(
        label=_("Takes a place"), required=False, initial=True
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        low, high = cleaned.get("min_age"), cleaned.get("max_age")
        if low is not None and high is not None and high < low:
            self.add_error("max_age", _("Cannot be lower than the minimum age."))
        return cleaned

    @staticmethod
    def initial_for(unit: ListingUnit) -> dict[str, Any]:
        return {
            "id": unit.pk,
            "code": unit.code,
            "name_en": unit.name_en,
            "name_es": unit.name_es,
            "min_age": unit.min_age,
            "max_age": unit.max_age,
            "price": minor_to_decimal(unit.price_minor),
            "occupies_capacity": unit.occupies_capacity,
        }


class BaseUnitFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        kept = 0
        for form in self.forms:
            if not form.has_changed() and not form.cleaned_data.get("id"):
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            code = form.cleaned_data.get("code")
            if code in seen:
                form.add_error("code", _("Two units use this code."))
            if code:
                seen.add(code)
                kept += 1
        if kept == 0:
            raise forms.ValidationError(_("Add at least one unit with its price."))


UnitFormSet = forms.formset_factory(
    UnitForm, formset=BaseUnitFormSet, extra=1, can_delete=True, max_num=20
)


class PriceForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    starts = forms.DateField(
        label=_("From"), widget=DateInput, input_formats=DATE_FORMATS
    )
    ends = forms.DateField(
        label=_("Until"), widget=DateInput, input_formats=DATE_FORMATS
    )
    price = MoneyField(label=_("Price"))

    def __init__(self, *args: Any, units: list[ListingUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", "—")] + [
            (unit.pk, f"{unit.name} ({unit.code})") for unit in units
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if starts and ends and ends < starts:
            self.add_error("ends", _("Must be on or after the start."))
        return cleaned

    @staticmethod
    def initial_for(schedule: PriceSchedule) -> dict[str, Any]:
        return {
            "id": schedule.pk,
            "unit": schedule.unit_id,
            "starts": schedule.starts,
            "ends": schedule.ends,
            "price": minor_to_decimal(schedule.price_minor),
        }


PriceFormSet = forms.formset_factory(PriceForm, extra=1, can_delete=True, max_num=100)


def unit_inputs(formset: forms.BaseFormSet, currency: str) -> list[services.UnitInput]:
    """One input per formset form, in order (errors come back by row)."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):  # an untouched extra form, or removed
            rows.append(
                services.UnitInput(
                    id=data.get("id") if data else None,
                    code="",
                    name_en="",
                    name_es="",
                    price_minor=0,
                    delete=True,
                )
            )
            continue
        rows.append(
            services.UnitInput(
                id=data.get("id"),
                code=data["code"],
                name_en=data["name_en"],
                name_es=data["name_es"],
                min_age=data.get("min_age"),
                max_age=data.get("max_age"),
                price_minor=money_to_minor(data["price"], currency),
                occupies_capacity=data.get("occupies_capacity", False),
            )
        )
    return rows


def price_inputs(
    formset: forms.BaseFormSet, currency: str
) -> list[services.PriceInput]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            rows.append(
                services.PriceInput(
                    id=data.get("id") if data else None,
                    unit_id=0,
                    starts=dt.date.min,
                    ends=dt.date.min,
                    price_minor=0,
                    delete=True,
                )
            )
            continue
        rows.append(
            services.PriceInput(
                id=data.get("id"),
                unit_id=data["unit"],
                starts=data["starts"],
                ends=data["ends"],
                price_minor=money_to_minor(data["price"], currency),
            )
        )
    return rows


class PhotoForm(forms.Form):
    image = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG, PNG or WebP, at most 8 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp"}
        ),
    )
    alt_en = forms.CharField(
        label=_("What it shows (English)"), max_length=160, required=False
    )
    alt_es = forms.CharField(
        label=_("What it shows (Spanish)"), max_length=160, required=False
    )


# --- Calendar, bookings, manifest, feeds ---------------------------------------------


class MonthForm(forms.Form):
    month = forms.CharField(required=False)
    week = forms.IntegerField(required=False, min_value=1, max_value=5)

    def clean_month(self) -> dt.date | None:
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        try:
            year, month = raw.split("-")
            if len(year) != 4 or not 2000 <= int(year) <= 2100:
                raise ValueError(raw)
            return dt.date(int(year), int(month), 1)
        except ValueError as exc:
            raise forms.ValidationError(_("Use a month like 2026-12.")) from exc


class SlotForm(forms.Form):
    ACTIONS = (("save", _("Save")), ("close", _("Close")), ("reopen", _("Reopen")))

    date = forms.DateField(input_formats=["%Y-%m-%d"])
    start_time = forms.TimeField(required=False, input_formats=["%H:%M"])
    capacity = forms.IntegerField(
        label=_("Capacity"), min_value=0, max_value=10_000, required=False
    )
    action = forms.ChoiceField(choices=ACTIONS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("action") == "save" and cleaned.get("capacity") is None:
            self.add_error("capacity", _("Give the capacity."))
        return cleaned


class BookingFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), *Booking.Status.choices],
        required=False,
    )
    date = forms.DateField(
        label=_("Date"), required=False, widget=DateInput, input_formats=DATE_FORMATS
    )


class ManifestForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), required=False, widget=DateInput, input_formats=DATE_FORMATS
    )


class FeedForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        required=False,
        help_text=_("e.g. Airbnb, Booking.com"),
    )
    url = forms.CharField(  # checked by the sync service (webcal://, public hosts)
        label=_("Calendar address (iCal URL)"),
        max_length=1000,
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )
    blocks_units = forms.IntegerField(
        label=_("Persons blocked per event"),
        min_value=1,
        max_value=10_000,
        required=False,
        help_text=_("Empty: an event blocks the whole listing that day"),
    )


class OctoConnectionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("e.g. Bókun"))
    base_url = forms.CharField(  # checked by the SSRF guard in the service
        label=_("OCTO base URL"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://…/octo"}),
    )
    api_key = forms.CharField(
        label=_("API key"), max_length=500, widget=forms.PasswordInput
    )


class OctoLinkForm(forms.Form):
    listing = forms.TypedChoiceField(label=_("Your listing"), coerce=int)
    product = forms.ChoiceField(label=_("Their product and option"))

    def __init__(
        self,
        *args: Any,
        listings: Iterable[Any],
        products: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["listing"].choices = [(x.pk, x.title) for x in listings]
        self.fields["product"].choices = [
            (f"{p['id']}|{option}", f"{p['name'] or p['id']} · {option}")
            for p in products
            for option in p["options"]
        ]
