"""Signed webhooks for agencies (writes): registration, events, delivery, replay.

Events
------
Every status change of a booking made by an agency (``providers.signals.
booking_status_changed``) becomes one ``WebhookDelivery`` per active endpoint of that
agency, all with the same event id, written in the same transaction as the change
(an outbox: a broker or cache outage at commit time loses nothing), and is POSTed
after the commit as JSON::

    {"id": "<event uuid>", "event": "booking.status_changed",
     "created": "2027-03-01T12:00:00Z",
     "data": {"bookingUuid": "…", "supplierReference": "K7MX2QPA",
              "resellerReference": "…", "status": "CONFIRMED",
              "previousStatus": "ON_HOLD", "noShow": false,
              "cancellationReason": null, "productId": "42",
              "utcUpdatedAt": "2027-03-01T12:00:00Z"}}

``status``/``previousStatus`` use OCTO's names, exactly as the OCTO API
(``octo.render.STATUSES``) shows the booking; a new hold has ``previousStatus: null``.
Declined on-request bookings are ``REJECTED``. OCTO has no no-show state: like the
OCTO API, a no-show stays ``CONFIRMED`` (it stood and was not redeemed), and the
webhook says what happened with ``noShow: true`` (the event of marking a no-show is
``CONFIRMED`` → ``CONFIRMED``, ``noShow: true``); every other event has
``noShow: false``. A change of date, units or product (``PATCH``) keeps the status
and is sent with ``status`` equal to ``previousStatus``. ``cancellationReason`` is the
``reason`` the agency sent when it
cancelled (null otherwise). Deliveries are at least once and may arrive out
of order (retries): deduplicate on ``id`` (also in ``X-Tourism-Delivery``) and order by
``data.utcUpdatedAt``.

Headers and signature
---------------------
``Content-Type: application/json``, ``X-Tourism-Event: booking.status_changed``,
``X-Tourism-Delivery: <event id>``, ``Idempotency-Key: <event id>`` (the same on every
retry and replay of the event: keep the keys you processed and skip repeats) and,
Stripe-style,
``X-Tourism-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC keyed with
the endpoint's secret (the whole ``whsec_…`` string, UTF-8) over
``f"{t}.".encode() + raw_body``. To verify (``verify_signature`` does exactly this):
take the raw request body *before* parsing JSON, recompute the HMAC for the ``t`` in
the header, compare it in constant time with every ``v1`` (there may be several), and
refuse a ``t`` more than 5 minutes away from your clock (replay protection; the
timestamp is signed, so it cannot be changed without breaking the signature).

Delivery and retries
--------------------
Answers 2xx mean delivered (redirects are not followed: register the final URL).
Anything else (timeout, refused connection, non-2xx, an address the SSRF guard
refuses) is recorded on the delivery and retried after
``WEBHOOK_RETRY_BASE_SECONDS × 2^(attempt−1)`` (+0–10 % jitter) until
``WEBHOOK_MAX_ATTEMPTS`` attempts; then the delivery is FAILED and counts as one
consecutive failure of the endpoint. ``WEBHOOK_DISABLE_AFTER`` failed deliveries in a
row disable the endpoint and email the agency (Spanish and English); one success
resets the count.

One delivery is never attempted by two workers at once: a task names the attempt it
makes (``attempt``), and claims it with one conditional UPDATE (still pending, exactly
``attempt − 1`` attempts made, due) that also moves ``next_attempt_at`` a lease ahead.
A duplicate or late message finds the row changed and does nothing, and a result is
only written if the row still holds the same attempt. The beat sweep
(``webhook_deliver_due``) claims the deliveries whose message was lost
(``WEBHOOK_SWEEP_GRACE_SECONDS`` after they were due) and attempts them itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, WebhookDelivery, WebhookEndpoint
from octo.render import STATUSES
from outbox.services import message_enqueue, write_result
from providers.models import Booking
from tourism.net import clean_http_url, guarded_client

log = logging.getLogger(__name__)

EVENT_BOOKING_STATUS_CHANGED = "booking.status_changed"
SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Tourism-Signature"
EVENT_HEADER = "X-Tourism-Event"
DELIVERY_HEADER = "X-Tourism-Delivery"
DEFAULT_TOLERANCE_S = 300
MAX_ENDPOINTS_PER_AGENCY = 10
MAX_BACKOFF = dt.timedelta(hours=1)
JITTER = 0.1  # retries wait up to 10 % longer than base × 2^(attempt − 1)
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_RESPONSE_BYTES = 64 * 1024  # of the agency's answer we read (and discard)
ERROR_MAX_LENGTH = 500

# Our booking states in OCTO's names: the very mapping the OCTO API answers with, so a
# webhook never contradicts GET /api/octo/bookings/{uuid} (see the docstring).
OCTO_STATUS: dict[str, str] = STATUSES


# --- Signatures ---------------------------------------------------------------------


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def compute_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed with ``secret``."""
    message = f"{timestamp}.".encode() + _as_bytes(body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes | str, *, timestamp: int) -> str:
    """The ``X-Tourism-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC>``."""
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes | str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``header`` (``X-Tourism-Signature``) signs the raw ``body`` with
    ``secret`` at a time no more than ``tolerance_s`` seconds from ``now`` (default:
    the clock). Agencies can copy this function as it is."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c.strip()) for c in candidates)


# --- Endpoints ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NewWebhook:
    """An endpoint as registered; show ``secret`` to the agency now."""

    endpoint: WebhookEndpoint
    secret: str


def webhook_secret_new() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


def webhook_url_clean(url: str) -> str:
    """The URL stripped, or ValidationError/URLNotAllowed naming ``url``: http(s) only,
    and a host that resolves to public addresses only (the same rules as calendar
    feeds; checked again whenever a delivery connects)."""
    return clean_http_url(
        url, max_length=WebhookEndpoint._meta.get_field("url").max_length
    )


def webhook_register(*, agency: Agency, url: str) -> NewWebhook:
    """Register ``url`` to receive the agency's booking events, with a new signing
    secret (returned once here; kept to sign)."""
    url = webhook_url_clean(url)
    with transaction.atomic():
        # Lock the agency row: two concurrent registrations count and check together.
        list(
            Agency.objects.select_for_update()
            .filter(pk=agency.pk)
            .order_by()
            .values_list("pk", flat=True)
        )
        existing = WebhookEndpoint.objects.filter(agency=agency)
        if existing.filter(url=url).exists():
            raise ValidationError({"url": _("This address is already registered.")})
        if existing.count() >= MAX_ENDPOINTS_PER_AGENCY:
            raise ValidationError(
                {
                    "url": _("At most %(n)s webhooks per agency; delete one first.")
                    % {"n": MAX_ENDPOINTS_PER_AGENCY}
                }
            )
        secret = webhook_secret_new()
        endpoint = WebhookEndpoint.objects.create(agency=agency, url=url, secret=secret)
    return NewWebhook(endpoint=endpoint, secret=secret)


def webhook_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log; queued deliveries are dropped."""
    endpoint.delete()


def webhook_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Re-enable a disabled endpoint with a clean failure count (events that happened
    while it was disabled are not sent; replay them from the delivery log)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=True, consecutive_failures=0, disabled_at=None, disabled_reason=""
    )
    endpoint.refresh_from_db()
    return endpoint


# --- Events -------------------------------------------------------------------------


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def booking_event_payload(
    *,
    booking: Booking,
    old: str | None,
    new: str,
    event_id: uuid.UUID,
    now: dt.datetime,
) -> dict[str, object]:
    return {
        "id": str(event_id),
        "event": EVENT_BOOKING_STATUS_CHANGED,
        "created": _utc(now),
        "data": {
            "bookingUuid": str(booking.uuid),
            "supplierReference": booking.supplier_reference,
            "resellerReference": booking.reseller_reference or None,
            "status": OCTO_STATUS.get(new, str(new).upper()),
            "previousStatus": OCTO_STATUS.get(old, str(old).upper()) if old else None,
            "noShow": new == Booking.Status.NO_SHOW,
            # The reason the agency gave when it cancelled (null otherwise).
            "cancellationReason": booking.cancel_reason or None,
            "productId": str(booking.listing_id),
            # The change was committed just before this event is made; the
            # booking's ``updated_at`` is not rewritten by status-only saves.
            "utcUpdatedAt": _utc(max(booking.updated_at, now)),
        },
    }


def booking_status_changed_event(
    *,
    booking_id: int,
    old: str | None,
    new: str,
    now: dt.datetime | None = None,
) -> list[WebhookDelivery]:
    """One pending delivery per active endpoint of the booking's agency, each sent by
    a task once committed. Nothing for bookings without an (active) agency."""
    # The endpoints first, in one query: most status changes (website bookings,
    # agencies without webhooks) stop here, on the booking's hot path.
    endpoints = list(
        WebhookEndpoint.objects.filter(
            is_active=True, agency__is_active=True, agency__bookings__pk=booking_id
        ).order_by("pk")
    )
    if not endpoints:
        return []
    booking = Booking.objects.select_related("agency").get(pk=booking_id)
    now = now or timezone.now()
    event_id = uuid.uuid4()
    payload = booking_event_payload(
        booking=booking, old=old, new=new, event_id=event_id, now=now
    )
    with transaction.atomic():
        deliveries = [
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event_id=event_id,
                event=EVENT_BOOKING_STATUS_CHANGED,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return deliveries


def _enqueue(delivery_ids: Iterable[int], *, force: bool = False) -> None:
    """Send first attempts to the queue; a broker outage is only logged (the sweep
    finds the deliveries later)."""
    from agencies.tasks import webhook_deliver_task

    for delivery_id in delivery_ids:
        try:
            webhook_deliver_task.delay(delivery_id, 1, force)
        except Exception:
            log.exception("could not enqueue webhook delivery %s", delivery_id)


def webhook_delivery_replay(
    *, delivery: WebhookDelivery, now: dt.datetime | None = None
) -> WebhookDelivery | None:
    """Send a delivered or failed event again, as a new delivery (same event id and
    payload, so the agency can deduplicate; the old row stays in the log). None when
    the endpoint is disabled (re-enable it first) or the delivery is still pending
    (its retries are running)."""
    if delivery.status == WebhookDelivery.Status.PENDING:
        return None
    if not WebhookEndpoint.objects.filter(
        pk=delivery.endpoint_id, is_active=True
    ).exists():
        return None
    with transaction.atomic():
        replay = WebhookDelivery.objects.create(
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event=delivery.event,
            payload=delivery.payload,
            next_attempt_at=now or timezone.now(),
        )
        transaction.on_commit(lambda: _enqueue([replay.pk]), robust=True)
    return replay


def sweep_grace() -> dt.timedelta:
    """How long after it was due the sweep takes a pending delivery (its own message
    was lost: broker outage, a worker killed mid-attempt)."""
    return dt.timedelta(seconds=float(settings.WEBHOOK_SWEEP_GRACE_SECONDS))


def webhook_deliveries_claim_due(
    *, now: dt.datetime | None = None, limit: int = 500
) -> list[tuple[int, int]]:
    """Pending deliveries overdue by ``sweep_grace()`` (their message was lost), moved a
    lease ahead so the next sweep leaves them alone; (id, attempt to make) pairs, to
    enqueue with ``force``."""
    now = now or timezone.now()
    grace = sweep_grace()
    due = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - grace))
        .order_by(F("next_attempt_at").asc(nulls_first=True), "pk")
    )
    with transaction.atomic():
        rows = list(
            due.select_for_update(skip_locked=True, of=("self",)).values_list(
                "pk", "attempts"
            )[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _a in rows]).update(
            next_attempt_at=now + _lease()
        )
    return [(pk, attempts + 1) for pk, attempts in rows]


def webhook_deliver_due(
    *, now: dt.datetime | None = None, batch: int = 20, budget_s: float = 15.0
) -> int:
    """The sweep: claim the overdue deliveries a batch at a time and make their next
    attempt here, one after another, for at most ``budget_s`` seconds (well inside
    the task's soft time limit; the next sweep goes on). Attempting them in the
    sweep rather than enqueueing a task each keeps a backlog (after an outage) from
    flooding a queue that is already behind with messages that would be claimed
    again before they run. A failed attempt's retry is scheduled as a task (best
    effort; else the next sweep). How many were attempted."""
    from agencies.tasks import webhook_deliver_task

    started = time.monotonic()
    attempted = 0
    while time.monotonic() - started < budget_s:
        due = webhook_deliveries_claim_due(now=now, limit=batch)
        for delivery_id, attempt in due:
            result = webhook_delivery_attempt(
                delivery_id=delivery_id, attempt=attempt, force=True
            )
            attempted += 1
            if result.retry_in is not None:
                try:
                    webhook_deliver_task.apply_async(
                        (delivery_id, attempt + 1),
                        countdown=result.retry_in,
                        retry=False,
                    )
                except Exception:  # the broker is down: the next sweep retries
                    log.warning("could not schedule webhook retry %s", delivery_id)
        if len(due) < batch:
            break
    return attempted


# --- Delivery -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AttemptResult:
    delivery_id: int
    status: str  # delivered | retry | failed | skipped
    message: str = ""
    status_code: int | None = None
    retry_in: float | None = None  # seconds until the next attempt (status "retry")

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _lease() -> dt.timedelta:
    """How long a claimed attempt may take before the sweep may try again."""
    return dt.timedelta(seconds=float(settings.WEBHOOK_TIMEOUT_SECONDS) * 2 + 60)


def retry_delay(attempt: int, *, jitter: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based):
    base × 2^(attempt − 1), plus up to 10 % jitter, at most ``MAX_BACKOFF``."""
    base = float(settings.WEBHOOK_RETRY_BASE_SECONDS) * 2 ** min(attempt - 1, 30)
    factor = 1 + (random.uniform(0, JITTER) if jitter is None else jitter)
    return min(base * factor, MAX_BACKOFF.total_seconds())


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"


def webhook_delivery_attempt(
    *,
    delivery_id: int,
    attempt: int,
    force: bool = False,
    now: dt.datetime | None = None,
) -> AttemptResult:
    """Make attempt number ``attempt`` of a delivery, if it is still the next one to
    make and due (``force``: due or not, for the sweep). Records the outcome and, on
    failure, when to retry (``retry_in``; the caller schedules it). Never raises for
    a failing endpoint."""
    now = now or timezone.now()
    pending = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        attempts=attempt - 1,
    )
    if not force:
        pending = pending.filter(next_attempt_at__lte=now + dt.timedelta(seconds=1))
    if pending.filter(endpoint__is_active=False).update(
        status=WebhookDelivery.Status.FAILED,
        next_attempt_at=None,
        last_error=_("The webhook is disabled; this event was not sent."),
    ):
        return AttemptResult(delivery_id, "failed", _("The webhook is disabled."))
    if attempt > settings.WEBHOOK_MAX_ATTEMPTS:  # the last attempt was cut short
        if pending.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None):
            delivery = WebhookDelivery.objects.select_related("endpoint__agency").get(
                pk=delivery_id
            )
            _endpoint_failed(delivery.endpoint, now)
            return AttemptResult(delivery_id, "failed", delivery.last_error)
        return AttemptResult(delivery_id, "skipped", _("Not due or already handled."))
    # The claim: one conditional UPDATE, so only one worker makes this attempt.
    if not pending.update(attempts=attempt, next_attempt_at=now + _lease()):
        return AttemptResult(delivery_id, "skipped", _("Not due or already handled."))
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:  # the endpoint was deleted meanwhile
        return AttemptResult(delivery_id, "skipped", _("The delivery is gone."))
    status_code, error = _post(delivery)
    mine = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, attempts=attempt
    )
    if error is None:
        # Retried while the database is down: a delivery left pending would be
        # POSTed again once its lease runs out.
        if write_result(
            lambda: mine.update(
                status=WebhookDelivery.Status.DELIVERED,
                last_status_code=status_code,
                last_error="",
                next_attempt_at=None,
                delivered_at=now,
            )
        ):
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).exclude(
                consecutive_failures=0
            ).update(consecutive_failures=0)
        return AttemptResult(delivery_id, "delivered", status_code=status_code)
    log.warning(
        "webhook delivery %s attempt %s to %s failed: %s",
        delivery_id,
        attempt,
        delivery.endpoint.url,
        error,
    )
    if attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
        if mine.update(
            status=WebhookDelivery.Status.FAILED,
            last_status_code=status_code,
            last_error=error,
            next_attempt_at=None,
        ):
            _endpoint_failed(delivery.endpoint, now)
        return AttemptResult(delivery_id, "failed", error, status_code)
    delay = retry_delay(attempt)
    mine.update(
        last_status_code=status_code,
        last_error=error,
        next_attempt_at=now + dt.timedelta(seconds=delay),
    )
    return AttemptResult(delivery_id, "retry", error, status_code, retry_in=delay)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str | None]:
    """POST the signed payload; (status code, None) when delivered, else (status
    code or None, the error to record)."""
    body = json.dumps(
        delivery.payload, separators=(",", ":"), ensure_ascii=False
    ).encode()
    timestamp = int(time.time())  # the real clock: receivers check it against theirs
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.event_id),
        IDEMPOTENCY_HEADER: str(delivery.event_id),
        SIGNATURE_HEADER: signature_header(
            delivery.endpoint.secret, body, timestamp=timestamp
        ),
    }
    timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    # A client per attempt: no pooled connection outlives the check made when it was
    # opened (every connection goes through the SSRF guard), and building one costs
    # milliseconds next to a network round trip.
    try:
        with (
            guarded_client(timeout=timeout) as client,
            client.stream(
                "POST",
                delivery.endpoint.url,
                content=body,
                headers=headers,
                follow_redirects=False,
            ) as response,
        ):
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    break  # the status is all we need
                if time.monotonic() - started > timeout:
                    raise httpx.ReadTimeout("slow body")
            code = response.status_code
    except httpx.TimeoutException:
        return None, _("No answer within %(s)s seconds.") % {"s": timeout}
    except httpx.HTTPError as exc:
        return None, _short(
            _("The address could not be reached: %(error)s")
            % {"error": str(exc) or type(exc).__name__}
        )
    if 200 <= code < 300:
        return code, None
    if 300 <= code < 400:
        return code, _(
            "HTTP %(status)s: redirects are not followed; register the final address."
        ) % {"status": code}
    return code, _("HTTP %(status)s.") % {"status": code}


# --- Failures -----------------------------------------------------------------------


def _endpoint_failed(endpoint: WebhookEndpoint, now: dt.datetime) -> None:
    """Count one more failed delivery in a row; disable the endpoint (and tell the
    agency, once: an outbox e-mail in the same transaction) when that makes
    ``WEBHOOK_DISABLE_AFTER``."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    limit = settings.WEBHOOK_DISABLE_AFTER
    reason = _(
        "Disabled after %(n)s deliveries in a row failed (last: %(when)s UTC)."
    ) % {"n": limit, "when": now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")}
    with transaction.atomic():
        disabled = WebhookEndpoint.objects.filter(
            pk=endpoint.pk, is_active=True, consecutive_failures__gte=limit
        ).update(is_active=False, disabled_at=now, disabled_reason=reason[:300])
        if disabled:  # only the worker that flipped it queues the email
            log.warning("webhook %s disabled: %s", endpoint.pk, reason)
            _notify_disabled(endpoint, now)


DISABLED_SUBJECT = "Webhook desactivado / Webhook disabled: {url}"
DISABLED_BODY_ES = """\
Hola {agency}:

Desactivamos su webhook {url} porque sus últimas {n} entregas fallaron, cada una \
después de {attempts} intentos. Último error: {error}

Mientras esté desactivado no le enviamos eventos de reservas. Cuando su servidor \
responda de nuevo con un código 2xx, pídanos que lo reactivemos, o elimínelo y \
regístrelo otra vez (DELETE y POST /api/v1/webhooks/; recibirá un nuevo secreto). \
Podemos reenviar los eventos que no le llegaron."""
DISABLED_BODY_EN = """\
Hello {agency},

We disabled your webhook {url} because its last {n} deliveries failed, each after \
{attempts} attempts. Last error: {error}

While it is disabled we send it no booking events. Once your server answers with a \
2xx code again, ask us to re-enable it, or delete it and register it again (DELETE \
and POST /api/v1/webhooks/; you will get a new secret). We can send again the events \
you missed."""
SEPARATOR = "\n\n" + "-" * 60 + "\n\n"


def _notify_disabled(endpoint: WebhookEndpoint, now: dt.datetime) -> None:
    """Queue a plain-text email, Spanish then English, to the agency's contact
    address (staff, ADMINS, when it has none), in the current transaction."""
    endpoint = WebhookEndpoint.objects.select_related("agency").get(pk=endpoint.pk)
    last = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .exclude(last_error="")
        .order_by("-pk")
        .values_list("last_error", flat=True)
        .first()
    ) or "—"
    message_enqueue(
        builder=webhook_disabled_email,
        key=f"webhook:{endpoint.pk}:disabled:{now.isoformat()}",
        payload={
            "agency": endpoint.agency.name,
            "url": endpoint.url,
            "n": settings.WEBHOOK_DISABLE_AFTER,
            "attempts": settings.WEBHOOK_MAX_ATTEMPTS,
            "error": last,
            "to": endpoint.agency.contact_email,
        },
    )


def webhook_disabled_email(payload: Mapping[str, Any]) -> EmailMessage | None:
    """The outbox's builder of the webhook-disabled email."""
    context = {k: payload[k] for k in ("agency", "url", "n", "attempts", "error")}
    subject = DISABLED_SUBJECT.format(**context)
    body = (
        DISABLED_BODY_ES.format(**context)
        + SEPARATOR
        + DISABLED_BODY_EN.format(**context)
        + "\n"
    )
    if payload.get("to"):
        return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [payload["to"]])
    if not settings.ADMINS:
        return None
    return EmailMessage(
        settings.EMAIL_SUBJECT_PREFIX + subject,
        body,
        settings.SERVER_EMAIL,
        [address for _name, address in settings.ADMINS],
    )
