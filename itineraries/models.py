"""Trip plans: what a traveller asked for and what the planner answered."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TripPlan(models.Model):
    """One plan request and its result. The id is a random UUID: knowing it is what
    lets a traveller read the plan (it is the secret of their link); agencies and
    signed-in travellers also own their plans."""

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
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("solving started"), null=True, blank=True)
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
