"""Staff admin for the route catalogue; facts show its source and verified flag."""

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
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
    list_display = ("slug", "origin", "destination", "mode", "duration_min", "verified")
    list_filter = ("mode", "verified", "origin__country", "crossing")
    search_fields = ("slug", "origin__name_en", "destination__name_en", "source")
    list_select_related = ("origin", "destination")
    autocomplete_fields = ("origin", "destination")
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


@admin.register(CatalogueAudit)
class CatalogueAuditAdmin(admin.ModelAdmin):
    list_display = ("created_at", "__str__")
    readonly_fields = ("created_at", "findings", "unverified_counts")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
