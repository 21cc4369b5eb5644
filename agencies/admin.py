"""Staff manage agencies, their members and API keys; keys are made here and shown
once in a message, revoked with an action. Webhooks: re-enable disabled endpoints, read
the delivery log and replay deliveries."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agencies.models import (
    Agency,
    AgencyMember,
    ApiKey,
    WebhookDelivery,
    WebhookEndpoint,
)
from agencies.services import api_key_create, api_key_revoke
from agencies.webhooks import webhook_delivery_replay, webhook_enable


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
    readonly_fields = ("url", "is_active", "consecutive_failures", "disabled_at")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Agencies register webhooks through the API (URL checked, secret made and
        # shown once); staff re-enable them with the action on the webhook list.
        return False


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "contact_email",
        "commission_bps",
        "hold_max_minutes",
        "is_active",
        "is_sandbox",
        "created_at",
    )
    list_filter = ("is_active", "is_sandbox")
    readonly_fields = ("is_sandbox",)
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


# --- Webhooks -----------------------------------------------------------------------


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = (
        "url",
        "agency",
        "is_active",
        "consecutive_failures",
        "disabled_at",
        "created_at",
    )
    list_filter = ("is_active", "agency")
    search_fields = ("url", "agency__name")
    list_select_related = ("agency",)
    fields = (
        "agency",
        "url",
        "is_active",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_at",
    )
    readonly_fields = fields  # the secret is never shown; URLs change through the API
    actions = ["enable", "disable"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registered by the agency through the API

    @admin.action(description=_("Re-enable (reset the failure count)"))
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_enable(endpoint=endpoint)
        self.message_user(
            request, _("%(n)s webhook(s) enabled.") % {"n": len(queryset)}
        )

    @admin.action(description=_("Disable"))
    def disable(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> None:
        count = queryset.filter(is_active=True).update(
            is_active=False,
            disabled_at=timezone.now(),
            disabled_reason=_("Disabled by staff."),
        )
        self.message_user(request, _("%(n)s webhook(s) disabled.") % {"n": count})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with a replay action."""

    list_display = (
        "created_at",
        "event",
        "agency",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event", "endpoint__agency")
    search_fields = ("event_id", "endpoint__url", "endpoint__agency__name")
    list_select_related = ("endpoint__agency",)
    date_hierarchy = "created_at"
    fields = (
        "endpoint",
        "event",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "payload_json",
    )
    readonly_fields = fields
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("agency"), ordering="endpoint__agency__name")
    def agency(self, delivery: WebhookDelivery) -> Agency:
        return delivery.endpoint.agency

    @admin.display(description=_("payload"))
    def payload_json(self, delivery: WebhookDelivery) -> str:
        text = json.dumps(delivery.payload, indent=2, ensure_ascii=False)
        return format_html("<pre>{}</pre>", text)

    @admin.action(
        description=_("Replay (send again as a new delivery)"),
        permissions=["change"],
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replayed, skipped = 0, 0
        for delivery in queryset.select_related("endpoint"):
            if webhook_delivery_replay(delivery=delivery) is None:
                skipped += 1
            else:
                replayed += 1
        self.message_user(
            request, _("%(n)s delivery(ies) queued again.") % {"n": replayed}
        )
        if skipped:
            self.message_user(
                request,
                _(
                    "%(n)s skipped: still being retried, or the webhook is disabled "
                    "(re-enable it first)."
                )
                % {"n": skipped},
                messages.WARNING,
            )
