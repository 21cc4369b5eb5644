from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "agencies"
    verbose_name = _("Travel agencies")

    def ready(self) -> None:
        from agencies.models import Agency, ApiKey, WebhookEndpoint
        from agencies.selectors import api_key_cache, webhook_presence_cache
        from agencies.signals import booking_status_changed_receiver
        from tourism.localcache import invalidate_on_change

        invalidate_on_change(api_key_cache, ApiKey, Agency)
        invalidate_on_change(webhook_presence_cache, WebhookEndpoint)
        from providers.signals import booking_status_changed

        booking_status_changed.connect(
            booking_status_changed_receiver,
            dispatch_uid="agencies.webhooks.booking_status_changed",
        )
