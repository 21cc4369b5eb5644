"""The outbox: a message exists exactly when the change that queued it commits, is
sent once (one conditional UPDATE claims it), retried with backoff, given up after
OUTBOX_MAX_ATTEMPTS (visible in the admin), and found by the sweep when its task is
lost. E-mails go to Django's locmem backend (``mailoutbox``); failures come from an
SMTP backend pointed at a closed local port (a real refused connection)."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.test import TestCase
from django.utils import timezone

from outbox.models import Message
from outbox.services import (
    message_deliver,
    message_enqueue,
    message_id,
    message_retry,
    messages_deliver_due,
    retry_delay,
)

pytestmark = pytest.mark.django_db


def note_email(payload):
    """A builder: one e-mail to ``payload["to"]``; None when there is no one."""
    if not payload.get("to"):
        return None
    return EmailMessage(
        payload.get("subject", "Hola"),
        f"body {payload.get('secret_link', '')}",
        "noreply@example.org",
        [payload["to"]],
    )


def broken_email(payload):
    raise ValueError("template missing")


@pytest.fixture
def smtp_down(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port


def later(seconds: float = 3600) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def test_a_message_exists_only_if_its_transaction_commits(mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        message_enqueue(builder=note_email, key="k:rolled-back", payload={"to": "a@x"})
        raise RuntimeError("the change failed")
    assert not Message.objects.filter(key="k:rolled-back").exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        message_enqueue(builder=note_email, key="k:kept", payload={"to": "a@x"})
    (mail,) = mailoutbox
    message = Message.objects.get(key="k:kept")
    assert message.status == Message.Status.SENT and message.attempts == 1
    assert message.kind == "tests.outbox.test_outbox.note_email"
    assert mail.extra_headers["X-Idempotency-Key"] == "k:kept"
    assert mail.extra_headers["Message-ID"] == message_id("k:kept")
    assert message_id("k:kept") != message_id("k:other")


def test_the_same_key_is_one_message_sent_once(mailoutbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(3):
            message_enqueue(builder=note_email, key="k:once", payload={"to": "a@x"})
    assert Message.objects.filter(key="k:once").count() == 1
    assert message_deliver(key="k:once", now=later()) == "skipped"
    assert messages_deliver_due(now=later()) == {}
    assert len(mailoutbox) == 1


def test_a_builder_must_be_importable_by_its_name():
    def local(payload):
        return None

    with pytest.raises(ValueError, match="importable"):
        message_enqueue(builder=local, key="k:local", payload={})


def test_mail_server_down_retries_with_backoff_then_gives_up(
    smtp_down, settings, mailoutbox
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    with TestCase.captureOnCommitCallbacks(execute=True):
        message_enqueue(builder=note_email, key="k:down", payload={"to": "a@x"})
    message = Message.objects.get(key="k:down")
    assert (message.status, message.attempts) == (Message.Status.PENDING, 1)
    assert "refused" in message.last_error.lower()
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert 25 < wait <= 30  # base × 2^0
    # Not due yet: the sweep leaves it alone.
    assert messages_deliver_due() == {}
    assert message_deliver(key="k:down", now=later(31)) == "retry"
    message.refresh_from_db()
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert 55 < wait <= 60  # base × 2^1
    assert message_deliver(key="k:down", now=later(61)) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 3)
    assert message.next_attempt_at is None
    assert messages_deliver_due(now=later()) == {}
    assert retry_delay(20) == 3600  # capped at an hour


def test_staff_retry_a_given_up_message_once_the_server_is_back(
    smtp_down, settings, mailoutbox, admin_client
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        message_enqueue(builder=note_email, key="k:admin", payload={"to": "a@x"})
    message = Message.objects.get(key="k:admin")
    assert message.status == Message.Status.FAILED
    page = admin_client.get("/admin/outbox/message/", {"status__exact": "failed"})
    assert page.status_code == 200 and "k:admin" in page.content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(
            "/admin/outbox/message/",
            {"action": "retry", "_selected_action": [message.pk]},
            follow=True,
        )
    assert "1 message queued again." in response.content.decode()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(mailoutbox) == 1
    assert message_retry(message=message) is False  # only given-up ones


def test_a_builder_error_is_recorded_and_retried(mailoutbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        message_enqueue(builder=broken_email, key="k:broken", payload={})
    message = Message.objects.get(key="k:broken")
    assert message.status == Message.Status.PENDING
    assert message.last_error == "ValueError: template missing"
    assert mailoutbox == []


def test_nothing_to_send_is_discarded_and_secrets_are_erased(mailoutbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        message_enqueue(builder=note_email, key="k:none", payload={"to": ""})
        message_enqueue(
            builder=note_email,
            key="k:secret",
            payload={"to": "a@x", "secret_link": "https://x/manage/TOKEN"},
        )
    assert Message.objects.get(key="k:none").status == Message.Status.DISCARDED
    (mail,) = mailoutbox
    assert "TOKEN" in mail.body
    assert Message.objects.get(key="k:secret").payload == {"to": "a@x"}


def test_the_sweep_sends_what_was_never_published_and_expired_leases(
    settings, mailoutbox
):
    """A task lost (never published: broker down) and a claim whose worker died
    (its lease ran out): the sweep sends both, oldest first, once."""
    settings.OUTBOX_LEASE_SECONDS = 60
    with TestCase.captureOnCommitCallbacks(execute=False):
        message_enqueue(builder=note_email, key="k:lost", payload={"to": "a@x"})
        message_enqueue(builder=note_email, key="k:dead", payload={"to": "b@x"})
    Message.objects.filter(key="k:dead").update(
        attempts=1, next_attempt_at=timezone.now() + dt.timedelta(seconds=60)
    )
    assert messages_deliver_due(now=later(30)) == {"sent": 1}
    assert [m.to for m in mailoutbox] == [["a@x"]]
    assert messages_deliver_due(now=later(90)) == {"sent": 1}
    assert [m.to for m in mailoutbox] == [["a@x"], ["b@x"]]
    assert Message.objects.get(key="k:dead").attempts == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_message(settings, mailoutbox):
    """Eight threads (each its own PostgreSQL connection) deliver the same due
    message at once: one claims it and sends, the others skip."""
    Message.objects.create(
        key="k:race",
        kind="tests.outbox.test_outbox.note_email",
        payload={"to": "a@x"},
        next_attempt_at=timezone.now(),
    )
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(message_deliver(key="k:race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 7
    assert len(mailoutbox) == 1
    assert Message.objects.get(key="k:race").attempts == 1
