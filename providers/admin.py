"""Staff admin for providers: approval, listings, availability, bookings, feeds."""

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from providers import services
from providers.models import (
    Booking,
    CalendarFeed,
    ExternalBlock,
    Listing,
    ListingPhoto,
    ListingUnit,
    OctoConnection,
    OctoProductLink,
    PriceSchedule,
    Provider,
    ProviderMember,
    Slot,
    SyncConflict,
    ValueChain,
)


class ProviderMemberInline(admin.TabularInline):
    model = ProviderMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "home_place", "status", "is_demo")
    list_filter = (
        "status",
        "kind",
        "country",
        "value_chains",
        "community_run",
        "is_demo",
    )
    search_fields = ("name", "slug", "email", "contact_name")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("value_chains",)
    inlines = [ProviderMemberInline]
    actions = ["approve", "suspend"]
    readonly_fields = ("approved_at", "created_at")

    @admin.action(
        description=_("Approve selected providers (their listings go public)")
    )
    def approve(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            services.provider_approve(provider=provider)
        self.message_user(request, _("Approved."), messages.SUCCESS)

    @admin.action(description=_("Suspend selected providers"))
    def suspend(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            services.provider_suspend(provider=provider)
        self.message_user(request, _("Suspended."), messages.WARNING)


class ListingUnitInline(admin.TabularInline):
    model = ListingUnit
    extra = 0


class ListingPhotoInline(admin.TabularInline):
    model = ListingPhoto
    extra = 0


class CalendarFeedInline(admin.TabularInline):
    model = CalendarFeed
    extra = 0
    # Feeds are https addresses; also silences Django 6's change of the default.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = (
        "name",
        "url",
        "is_active",
        "last_success_at",
        "last_error",
        "next_run_at",
    )
    readonly_fields = ("last_success_at", "last_error", "next_run_at")


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = (
        "title_en",
        "provider",
        "kind",
        "place",
        "end_place",
        "confirmation",
        "is_active",
    )
    list_filter = ("kind", "confirmation", "is_active", "is_demo", "place__country")
    search_fields = ("title_en", "title_es", "provider__name", "place__slug")
    list_select_related = ("provider", "place", "end_place")
    autocomplete_fields = ("provider", "place", "end_place", "route_leg", "sights")
    filter_horizontal = ("departures",)
    inlines = [ListingUnitInline, ListingPhotoInline, CalendarFeedInline]


@admin.register(PriceSchedule)
class PriceScheduleAdmin(admin.ModelAdmin):
    list_display = ("unit", "starts", "ends", "price_minor")
    list_select_related = ("unit__listing",)


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = (
        "listing",
        "date",
        "start_time",
        "capacity",
        "held",
        "booked",
        "blocked",
        "closed",
    )
    list_filter = ("closed", "listing__kind")
    search_fields = ("listing__title_en",)
    date_hierarchy = "date"
    list_select_related = ("listing",)
    # Counters change only through services (holds, bookings, sync).
    readonly_fields = ("held", "booked", "blocked")


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = (
        "uuid",
        "listing",
        "status",
        "channel",
        "persons",
        "total_minor",
        "currency",
        "test_mode",
        "created_at",
    )
    list_filter = ("status", "channel", "test_mode", "currency")
    search_fields = (
        "uuid",
        "lead_name",
        "lead_email",
        "reseller_reference",
        "listing__title_en",
    )
    list_select_related = ("listing",)
    readonly_fields = [f.name for f in Booking._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "listing",
        "is_active",
        "last_success_at",
        "consecutive_failures",
        "next_run_at",
    )
    list_filter = ("is_active",)
    search_fields = ("url", "name", "listing__title_en", "last_error")
    readonly_fields = (
        "etag",
        "last_modified",
        "content_hash",
        "last_event_count",
        "last_attempt_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "sync_started_at",
    )


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ("slot", "feed", "sold", "blocked", "detected_at", "resolved_at")
    list_filter = ("resolved_at",)
    list_select_related = ("slot__listing", "feed")


admin.site.register(ValueChain)
admin.site.register(ExternalBlock)


class OctoProductLinkInline(admin.TabularInline):
    model = OctoProductLink
    extra = 0
    autocomplete_fields = ("listing",)


@admin.register(OctoConnection)
class OctoConnectionAdmin(admin.ModelAdmin):
    list_display = ("name", "provider", "is_active", "last_success_at", "last_error_at")
    list_filter = ("is_active",)
    search_fields = ("name", "provider__name", "base_url", "last_error")
    exclude = ("api_key",)  # never shown back; set through the provider's portal
    readonly_fields = (
        "last_attempt_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "next_run_at",
    )
    inlines = [OctoProductLinkInline]
