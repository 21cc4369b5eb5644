"""Staff admin for the route catalogue; facts show its source and verified flag."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from catalogue import services
from catalogue.models import (
    CatalogueAudit,
    Country,
    Crossing,
    CrossingHours,
    Departure,
    EntryRequirement,
    ExchangeRate,
    Place,
    RouteLeg,
    Sight,
    SightHours,
    SightTag,
    Transfer,
)

FACT_FIELDS = ("source", "verified", "note")


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_es", "currency", "timezone", "verified")
    search_fields = ("code", "name_en", "name_es")


@admin.register(EntryRequirement)
class EntryRequirementAdmin(admin.ModelAdmin):
    """Documents and visas per nationality (or group) and destination country."""

    list_display = (
        "destination",
        "nationality",
        "group",
        "visa_required",
        "andean_id_accepted",
        "verified",
    )
    list_filter = ("destination", "group", "visa_required", "verified")
    search_fields = ("nationality", "notes_en", "notes_es", "source")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """A new rate is a new row (history); the latest set_on is the current rate."""

    list_display = ("currency", "per_usd", "set_on", "verified")
    list_filter = ("currency",)
    ordering = ("-set_on",)
    readonly_fields = ("created_at",)


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_en", "country", "kind", "altitude_m", "verified")
    list_filter = ("country", "kind", "verified")
    search_fields = ("slug", "name_en", "name_es", "source", "note")
    list_select_related = ("country",)


class CrossingHoursInline(admin.TabularInline):
    model = CrossingHours
    extra = 0
    fields = ("side", "opens", "closes", *FACT_FIELDS)


@admin.register(Crossing)
class CrossingAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_en", "kind", "status", "status_since", "verified")
    list_filter = ("kind", "status", "verified")
    search_fields = ("slug", "name_en", "name_es", "status_note")
    list_select_related = ("side_a", "side_b")
    readonly_fields = ("status_since",)
    inlines = [CrossingHoursInline]
    actions = ["mark_open", "mark_disrupted", "mark_closed"]

    def save_model(
        self, request: HttpRequest, obj: Crossing, form: ModelForm, change: bool
    ) -> None:
        if change and {"status", "status_note"} & set(form.changed_data):
            status, note = obj.status, obj.status_note
            obj.status = form.initial.get("status", obj.status)
            services.crossing_status_set(crossing=obj, status=status, note=note)
        super().save_model(request, obj, form, change)

    def _mark(
        self, request: HttpRequest, queryset: QuerySet[Crossing], status: str
    ) -> None:
        for crossing in queryset:
            services.crossing_status_set(
                crossing=crossing, status=status, note=crossing.status_note
            )
        self.message_user(request, _("Status updated."))

    @admin.action(description=_("Mark selected crossings open"))
    def mark_open(self, request: HttpRequest, queryset: QuerySet[Crossing]) -> None:
        self._mark(request, queryset, Crossing.Status.OPEN)

    @admin.action(description=_("Mark selected crossings disrupted"))
    def mark_disrupted(
        self, request: HttpRequest, queryset: QuerySet[Crossing]
    ) -> None:
        self._mark(request, queryset, Crossing.Status.DISRUPTED)

    @admin.action(description=_("Mark selected crossings closed"))
    def mark_closed(self, request: HttpRequest, queryset: QuerySet[Crossing]) -> None:
        self._mark(request, queryset, Crossing.Status.CLOSED)


class DepartureInline(admin.TabularInline):
    model = Departure
    extra = 0
    fields = (
        "code",
        "operator",
        "departure_time",
        "duration_min",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "season_start",
        "season_end",
        "valid_from",
        "valid_until",
        "every_min",
        "last_departure_time",
        "price_minor",
        "currency",
        "seats",
        "verified",
    )


@admin.register(RouteLeg)
class RouteLegAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "origin",
        "destination",
        "mode",
        "duration_min",
        "crossing",
        "crossing_first_side",
        "verified",
    )
    list_filter = ("mode", "verified", "origin__country", "crossing")
    search_fields = ("slug", "origin__name_en", "destination__name_en", "source")
    list_select_related = ("origin", "destination", "crossing", "crossing_first_side")
    autocomplete_fields = ("origin", "destination", "crossing_first_side")
    inlines = [DepartureInline]


@admin.register(Departure)
class DepartureAdmin(admin.ModelAdmin):
    list_display = (
        "leg",
        "code",
        "operator",
        "departure_time",
        "price_minor",
        "currency",
        "seats",
        "verified",
    )
    list_filter = ("leg__mode", "currency", "verified", "operator")
    search_fields = ("code", "operator", "leg__slug", "source")
    list_select_related = ("leg__origin", "leg__destination")


class SightHoursFormSet(BaseInlineFormSet):
    """A sight open at all hours has no rows; any other sight has at least one."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if self.instance.always_open and kept:
            raise ValidationError(
                _("A sight open at all hours has no opening hours: delete the rows.")
            )
        if not self.instance.always_open and not kept:
            raise ValidationError(
                _(
                    "Give at least one row of opening hours (a daytime placeholder "
                    "with 'opening hours known' unticked when they are not known), "
                    "or tick 'open at all hours'."
                )
            )


class SightHoursInline(admin.TabularInline):
    model = SightHours
    formset = SightHoursFormSet
    extra = 0
    fields = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "opens", "closes")


class TagListFilter(admin.SimpleListFilter):
    """Tags are a JSON list: filtered in Python (SQLite cannot look inside it)."""

    title = _("interest tags")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(SightTag.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Sight]) -> QuerySet:
        tag = self.value()
        if not tag:
            return queryset
        ids = [pk for pk, tags in queryset.values_list("pk", "tags") if tag in tags]
        return queryset.filter(pk__in=ids)


class SightAdminForm(ModelForm):
    tags = forms.MultipleChoiceField(
        label=_("interest tags"),
        choices=SightTag.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Sight
        fields = ["tags"]  # the admin adds the fieldsets' fields

    def clean_tags(self) -> list[str]:
        return list(self.cleaned_data.get("tags") or [])


@admin.register(Sight)
class SightAdmin(admin.ModelAdmin):
    form = SightAdminForm
    list_display = (
        "slug",
        "name_en",
        "place",
        "visit_min",
        "effort",
        "fee_minor",
        "fee_currency",
        "hours_known",
        "confirm_locally",
        "verified",
    )
    list_filter = (
        "place",
        TagListFilter,
        "effort",
        "verified",
        "hours_known",
        "confirm_locally",
    )
    search_fields = (
        "slug",
        "route_facts_id",
        "name_en",
        "name_es",
        "place__name_en",
        "source",
        "note",
    )
    list_select_related = ("place",)
    autocomplete_fields = ("place",)
    inlines = [SightHoursInline]
    fieldsets = (
        (None, {"fields": ("slug", "route_facts_id", "place")}),
        (
            _("Texts"),
            {"fields": ("name_en", "name_es", "description_en", "description_es")},
        ),
        (
            _("Where"),
            {"fields": ("latitude", "longitude", "altitude_m")},
        ),
        (
            _("Visit"),
            {
                "fields": (
                    "visit_min",
                    "always_open",
                    "hours_known",
                    "tags",
                    "effort",
                    "confirm_locally",
                    "min_nights_at_altitude",
                )
            },
        ),
        (
            _("Fee"),
            {
                "fields": (
                    "fee_minor",
                    "fee_currency",
                    "fee_year",
                    "fee_ticket",
                    "fee_note",
                )
            },
        ),
        (_("Provenance"), {"fields": FACT_FIELDS}),
    )


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "origin",
        "destination",
        "mode",
        "minutes",
        "price_minor",
        "currency",
        "price_per",
        "frequency",
        "verified",
    )
    list_filter = ("mode", "frequency", "currency", "verified", "origin__country")
    search_fields = (
        "slug",
        "origin__slug",
        "origin__name_en",
        "destination__slug",
        "destination__name_en",
        "source",
        "note",
    )
    list_select_related = ("origin", "destination")
    autocomplete_fields = ("origin", "destination")


@admin.register(CatalogueAudit)
class CatalogueAuditAdmin(admin.ModelAdmin):
    list_display = ("created_at", "__str__")
    readonly_fields = ("created_at", "findings", "unverified_counts")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
