"""Travel agencies that book through the API: the organisation, its people, its API
keys (stored hashed), and the webhooks it registers for booking status changes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Agency(models.Model):
    name = models.CharField(_("name"), max_length=160, unique=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # What the agency keeps of the retail price, in basis points (1,000 = 10 %).
    # The OCTO ``net`` price is retail minus this commission, rounded down.
    commission_bps = models.PositiveIntegerField(
        _("commission (basis points)"),
        default=0,
        help_text=_("1000 = 10 %. The agency's net price is retail minus this."),
    )
    # The agency's contract: how long its holds (OCTO reservations, whole-itinerary
    # holds) may last. Empty: HOLD_MAX_MINUTES, which is also the ceiling.
    hold_max_minutes = models.PositiveIntegerField(
        _("longest hold (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("The agency's contract. Empty: the default (HOLD_MAX_MINUTES)."),
    )
    # A sandbox agency tries the API: its keys are tk_test_…, its bookings are tests
    # (they take no real places and notify no provider; its webhooks still fire).
    is_sandbox = models.BooleanField(
        _("sandbox"),
        default=False,
        editable=False,
        help_text=_(
            "Test agency: its bookings take no real places, reach no provider "
            "and show on no manifest."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_bps__lte=10_000), name="agency_commission_le_100"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.hold_max_minutes and self.hold_max_minutes > settings.HOLD_MAX_MINUTES:
            raise ValidationError(
                {
                    "hold_max_minutes": _(
                        "At most %(max)s minutes (HOLD_MAX_MINUTES), the longest "
                        "hold anyone may have."
                    )
                    % {"max": settings.HOLD_MAX_MINUTES}
                }
            )


class AgencyMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agencies"
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)

    class Meta:
        verbose_name = _("agency member")
        verbose_name_plural = _("agency members")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "user"], name="agency_member_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency}"


class ApiKey(models.Model):
    """``tk_<prefix>_<secret>``: the prefix finds the row, the SHA-256 of the whole key
    proves it. The key itself is shown once, when it is made, and never stored."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    hashed = models.CharField(max_length=64, editable=False)
    rate_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        null=True,
        blank=True,
        help_text=_("Empty: the default (API_KEY_RATE_LIMIT)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["agency", "-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.agency}: {self.name} (tk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEndpoint(models.Model):
    """A URL the agency wants booking status changes POSTed to, signed with ``secret``
    (HMAC-SHA256). Disabled after repeated failed deliveries."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("URL"), max_length=1000)
    secret = models.CharField(_("signing secret"), max_length=80, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["agency", "pk"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how its delivery went (the admin's log)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event = models.CharField(_("event"), max_length=60)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint} ({self.status})"
