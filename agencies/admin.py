"""Staff manage agencies, their members and API keys; keys are made here and shown
once in a message, revoked with an action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, AgencyMember, ApiKey, WebhookEndpoint
from agencies.services import api_key_create, api_key_revoke


class AgencyMemberInline(admin.TabularInline):
    model = AgencyMember
    extra = 0
    autocomplete_fields = ["user"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = (
        "name",
        "prefix",
        "rate_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # made by the "new API key" action, which shows the key once


class WebhookInline(admin.TabularInline):
    model = WebhookEndpoint
    extra = 0
    fields = ("url", "is_active", "consecutive_failures", "disabled_at")
    readonly_fields = ("consecutive_failures", "disabled_at")
    show_change_link = True


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "contact_email",
        "commission_bps",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "contact_email")
    inlines = [AgencyMemberInline, ApiKeyInline, WebhookInline]
    actions = ["new_api_key"]

    @admin.action(description=_("Make a new API key (shown once)"))
    def new_api_key(self, request: HttpRequest, queryset: QuerySet[Agency]) -> None:
        for agency in queryset:
            new = api_key_create(agency=agency, name="admin")
            self.message_user(
                request,
                _("New API key for %(agency)s (copy it now, it is not stored): %(key)s")
                % {"agency": agency.name, "key": new.key},
                messages.WARNING,
            )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "agency", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("agency__name", "prefix", "name")
    fields = (
        "agency",
        "name",
        "prefix",
        "rate_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("agency", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, _("%(n)s key(s) revoked.") % {"n": queryset.count()})
