"""Trip plans: what a traveller asked for and what the planner answered."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TripPlan(models.Model):
    """One plan request and its result. Its owner reads, re-plans and holds it:
    the agency whose API key made it, the signed-in traveller who made it, or whoever
    holds the plan's secret (given once to the creator without an API key, part of
    the website's plan URL; only its SHA-256 is stored). Re-plans keep their plan's
    secret. The id alone opens nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SOLVING = "solving", _("Solving")
        SOLVED = "solved", _("Solved")
        INFEASIBLE = "infeasible", _("No plan possible")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    request = models.JSONField(_("request"))
    days = models.JSONField(_("days"), default=list, blank=True)
    totals = models.JSONField(_("totals"), default=dict, blank=True)
    explanation = models.JSONField(
        _("explanation"),
        default=dict,
        blank=True,
        help_text='{"en": [...], "es": [...]}',
    )
    warnings = models.JSONField(_("warnings"), default=dict, blank=True)
    stats = models.JSONField(_("solver figures"), default=dict, blank=True)
    route = models.JSONField(
        _("route"),
        default=dict,
        blank=True,
        help_text='{"via": "copacabana", "crossing": "kasani"}',
    )
    fixes = models.JSONField(
        _("one-click fixes"),
        default=list,
        blank=True,
        help_text="Changes of the request that were solved before being offered.",
    )
    error = models.TextField(_("error"), blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replans",
        verbose_name=_("re-planned from"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trip_plans",
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trip_plans",
    )
    secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # When solving started; also when the stuck-plan sweep last queued it again.
    started_at = models.DateTimeField(_("solving started"), null=True, blank=True)
    # How often the sweep queued the plan again (``plans_sweep_stuck``).
    requeues = models.PositiveSmallIntegerField(_("times queued again"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("trip plan")
        verbose_name_plural = _("trip plans")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        r = self.request or {}
        route = f"{r.get('origin')} → {r.get('destination')}"
        return f"{route} {r.get('start_date')} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (
            self.Status.SOLVED,
            self.Status.INFEASIBLE,
            self.Status.FAILED,
        )


class TripBooking(models.Model):
    """A whole-itinerary hold: every bookable part of a solved plan (stays,
    activities, departures, across providers) held together, all or nothing, with one
    expiry; confirmed and cancelled together. Each part is a ``providers.Booking``.

    It belongs to the agency whose API key made it, or to the traveller who made it
    on the website (signed in, or holding the manage link whose hash is stored)."""

    class Status(models.TextChoices):
        ON_HOLD = "on_hold", _("On hold")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(
        TripPlan, on_delete=models.PROTECT, related_name="trip_bookings"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trip_bookings",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trip_bookings",
    )
    manage_token_hash = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False
    )
    # The manage token stops working then (MANAGE_TOKEN_DAYS_AFTER_TRIP after the
    # trip's last day).
    manage_token_expires_at = models.DateTimeField(
        _("manage link expires at"), null=True, blank=True
    )
    # Who held it without an account or API key (SHA-256 of the website session, or
    # of the client's address for a keyless API call): one hold at a time each.
    visitor_hash = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False
    )
    lead_name = models.CharField(_("lead traveller"), max_length=160, blank=True)
    lead_email = models.EmailField(_("email"), blank=True)
    lead_phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    reseller_reference = models.CharField(
        _("reseller reference"), max_length=100, blank=True
    )
    expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("trip booking")
        verbose_name_plural = _("trip bookings")
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class TripBookingPart(models.Model):
    """One booked part of a trip booking: which plan step it is, and its booking."""

    trip = models.ForeignKey(
        TripBooking, on_delete=models.CASCADE, related_name="parts"
    )
    booking = models.OneToOneField(
        "providers.Booking", on_delete=models.PROTECT, related_name="trip_part"
    )
    step_id = models.CharField(_("plan step"), max_length=40)

    class Meta:
        ordering = ["trip", "pk"]
        verbose_name = _("trip booking part")
        verbose_name_plural = _("trip booking parts")
        constraints = [
            models.UniqueConstraint(
                fields=["trip", "step_id"], name="trip_part_step_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trip_id} {self.step_id}"
