"""The outbox: every e-mail the service sends on a state change is first a row,
written in the same database transaction as the change (so it exists exactly when
the change does), then sent by a worker (``outbox.services``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Given up")
        DISCARDED = "discarded", _("Nothing to send")

    # The idempotency key: one row per message whatever retries or duplicate events
    # happen, and the e-mail's Message-ID, so receivers can de-duplicate too.
    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    # The dotted path of the function that builds the e-mail from the payload.
    kind = models.CharField(_("kind"), max_length=150)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the next attempt is due; while an attempt runs, the end of its lease.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"
