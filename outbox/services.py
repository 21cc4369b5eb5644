"""The outbox (writes): queue a message in the caller's transaction, deliver it once.

Protocol
--------
1. ``message_enqueue`` inserts a ``Message`` row in the current transaction, keyed
   by an idempotency key (a second insert with the same key is ignored), and asks
   for a delivery right after the commit (``transaction.on_commit``): a Celery task,
   or at once with eager tasks / the in-memory broker. If publishing fails (broker
   down) the row simply stays pending.
2. ``message_deliver`` claims the row with ONE conditional UPDATE (still pending,
   due, then its ``next_attempt_at`` moved a lease ahead and ``attempts`` + 1): of
   two workers holding the same key, only one sends. It builds the e-mail with the
   row's builder (``kind``: the dotted path of a function payload → e-mail or None,
   which reads the database then, off the request), sends it with the key as its
   ``Message-ID`` and ``X-Idempotency-Key``, and marks the row sent (that UPDATE
   is retried for a while if the database is down, so a sent e-mail is not sent
   again). A failure is recorded and retried
   after ``OUTBOX_RETRY_BASE_SECONDS × 2^(attempts−1)`` (≤ 1 h) until
   ``OUTBOX_MAX_ATTEMPTS``; then the row is FAILED (given up), listed in the admin
   where staff can retry it.
3. ``messages_deliver_due`` (Celery beat, every ``OUTBOX_SWEEP_SECONDS``) delivers
   every row that is due: retries, rows whose task was never published or lost
   (Redis down, a worker killed), and claims whose lease ran out.

Delivery is at least once; only a worker killed between the SMTP server accepting
the e-mail and the row being marked sent (a window of milliseconds) sends twice, with
the same Message-ID.

Payload keys starting with ``secret_`` (a manage link) are erased once the row is
sent, given up or discarded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from outbox.models import Message

log = logging.getLogger(__name__)

# A builder: the payload → the e-mail to send, or None (nothing to send: the booking
# is gone, no recipient). A row names its builder by dotted path (``kind``).
Builder = Callable[[Mapping[str, Any]], EmailMessage | None]
MAX_BACKOFF = dt.timedelta(hours=1)
ERROR_MAX_LENGTH = 1000
SECRET_PREFIX = "secret_"


def builder_path(builder: Builder) -> str:
    path = f"{builder.__module__}.{builder.__qualname__}"
    try:
        found = import_string(path)
    except ImportError:
        found = None
    if found is not builder:
        raise ValueError(f"{path} is not importable by that name")
    return path


def message_enqueue(*, builder: Builder, key: str, payload: Mapping[str, Any]) -> None:
    """Queue a message, which ``builder(payload)`` makes at delivery, in the current
    transaction (it exists if and only if the transaction commits); delivered right
    after the commit. A key already queued is left as it is. The payload is JSON:
    ids rather than rows."""
    kind = builder_path(builder)
    Message.objects.bulk_create(
        [
            Message(
                key=key,
                kind=kind,
                payload=dict(payload),
                next_attempt_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: publish([key]), robust=True)


def publish(keys: Iterable[str]) -> None:
    """Deliver now through a Celery task (at once in this process with eager tasks
    or the in-memory broker, which no worker reads). A broker that cannot be
    reached is only logged: the sweep sends the row later."""
    from outbox.tasks import outbox_deliver_task

    conf = outbox_deliver_task.app.conf
    inline = conf.task_always_eager or str(conf.broker_url).startswith("memory://")
    for key in keys:
        try:
            if inline:
                message_deliver(key=key)
            else:
                # retry=False: a broker that is down fails now instead of holding
                # up the request that committed the change.
                outbox_deliver_task.apply_async((key,), retry=False)
        except Exception:
            log.warning("outbox message %s left for the sweep", key, exc_info=True)


def retry_delay(attempts: int) -> float:
    """Seconds to wait after ``attempts`` failed attempts: base × 2^(attempts−1),
    at most an hour."""
    base = float(settings.OUTBOX_RETRY_BASE_SECONDS) * 2 ** min(attempts - 1, 30)
    return min(base, MAX_BACKOFF.total_seconds())


def message_id(key: str) -> str:
    """A Message-ID made from the idempotency key (the same on every attempt)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _public(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if not k.startswith(SECRET_PREFIX)}


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text[:ERROR_MAX_LENGTH]


def write_result(update: Callable[[], int]) -> int:
    """Run ``update``, retried while the database is unreachable (up to
    ``OUTBOX_MARK_RETRY_SECONDS``): the message went out, and a row left pending
    would be sent again once its lease runs out (webhooks record their outcome
    through this too)."""
    deadline = time.monotonic() + float(settings.OUTBOX_MARK_RETRY_SECONDS)
    pause = 0.2
    while True:
        try:
            return update()
        except DatabaseError:
            if time.monotonic() > deadline:
                raise
            log.warning("outbox: database unreachable, retrying", exc_info=True)
            from django.db import connection

            connection.close_if_unusable_or_obsolete()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def message_deliver(*, key: str, now: dt.datetime | None = None) -> str:
    """Make the next attempt of the message ``key`` if it is pending and due:
    ``sent``, ``retry``, ``failed`` (given up), ``discarded`` (nothing to send) or
    ``skipped`` (not due, already handled, or another worker has it)."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=float(settings.OUTBOX_LEASE_SECONDS))
    claimed = Message.objects.filter(
        key=key,
        status=Message.Status.PENDING,
        next_attempt_at__lte=now + dt.timedelta(seconds=1),
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease)
    if not claimed:
        return "skipped"
    message = Message.objects.get(key=key)
    mine = Message.objects.filter(
        pk=message.pk, status=Message.Status.PENDING, attempts=message.attempts
    )
    try:
        email = import_string(message.kind)(message.payload)
    except DatabaseError:
        raise  # nothing can be recorded now; the lease runs out and it is retried
    except Exception as exc:
        log.exception("outbox message %s could not be built", key)
        return _failed(message, mine, exc)
    if email is None:
        mine.update(
            status=Message.Status.DISCARDED,
            next_attempt_at=None,
            payload=_public(message.payload),
        )
        return "discarded"
    email.extra_headers = {
        **email.extra_headers,
        "Message-ID": message_id(key),
        "X-Idempotency-Key": key,
    }
    try:
        email.send()
    except Exception as exc:  # the mail server is down or refused it
        log.warning("outbox message %s: %s", key, exc)
        return _failed(message, mine, exc)
    write_result(
        lambda: mine.update(
            status=Message.Status.SENT,
            sent_at=timezone.now(),
            next_attempt_at=None,
            last_error="",
            payload=_public(message.payload),
        )
    )
    return "sent"


def _failed(message: Message, mine: Any, exc: Exception) -> str:
    error = _short(f"{type(exc).__name__}: {exc}")
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        mine.update(
            status=Message.Status.FAILED,
            next_attempt_at=None,
            last_error=error,
            payload=_public(message.payload),
        )
        log.error("outbox message %s given up: %s", message.key, error)
        return "failed"
    delay = retry_delay(message.attempts)
    mine.update(
        last_error=error,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
    )
    return "retry"


def messages_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[str]:
    """Keys of pending messages due for ``OUTBOX_SWEEP_GRACE_SECONDS`` (the task
    published at commit normally takes them first), oldest first."""
    now = now or timezone.now()
    grace = dt.timedelta(seconds=float(settings.OUTBOX_SWEEP_GRACE_SECONDS))
    return list(
        Message.objects.filter(
            status=Message.Status.PENDING, next_attempt_at__lte=now - grace
        )
        .order_by("next_attempt_at", "pk")
        .values_list("key", flat=True)[:limit]
    )


def messages_deliver_due(
    *, now: dt.datetime | None = None, limit: int = 500, budget_s: float = 15.0
) -> dict[str, int]:
    """The sweep: deliver what is due (at most ``limit`` messages or ``budget_s``
    seconds per run, well inside the task's soft time limit; the next run goes
    on). Counts per outcome."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    for key in messages_due(now=now, limit=limit):
        outcome = message_deliver(key=key, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
        if time.monotonic() - started > budget_s:
            break
    return counts


def message_retry(*, message: Message) -> bool:
    """Staff: try a given-up message again (a fresh count of attempts)."""
    updated = Message.objects.filter(
        pk=message.pk, status=Message.Status.FAILED
    ).update(status=Message.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    if updated:
        transaction.on_commit(lambda: publish([message.key]), robust=True)
    return bool(updated)
