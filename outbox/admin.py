"""Outgoing messages in the admin: what is pending, sent, given up; retry."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from outbox.models import Message
from outbox.services import message_retry


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("key",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Message._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return [f for f in self.readonly_fields if f != "id"]

    @admin.action(description=_("Try the given-up messages again"))
    def retry(self, request, queryset) -> None:
        count = sum(
            message_retry(message=m)
            for m in queryset.filter(status=Message.Status.FAILED)
        )
        self.message_user(
            request,
            ngettext(
                "%(n)d message queued again.", "%(n)d messages queued again.", count
            )
            % {"n": count},
            messages.SUCCESS,
        )
