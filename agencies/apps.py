from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "agencies"
    verbose_name = _("Travel agencies")

    def ready(self) -> None:
        from agencies.signals import booking_status_changed_receiver
        from providers.signals import booking_status_changed

        booking_status_changed.connect(
            booking_status_changed_receiver,
            dispatch_uid="agencies.webhooks.booking_status_changed",
        )
