"""Celery application. Workers: ``celery -A tourism.celery_app worker -l INFO -Q
celery`` for the default queue and ``… -Q sync`` for syncs (CELERY_TASK_ROUTES),
or ``-Q celery,sync`` on one worker.

Workers come back after the broker goes away (``worker_reconnect`` settings in
tourism/settings.py and the kombu fix below); docker-compose restarts them if they
exit anyway.
"""

import os

from celery import Celery
from kombu import Connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tourism.settings")


def _close_default_channel_once() -> None:
    """Work around the worker's exit on broker loss under load ("Unrecoverable
    error: AttributeError('NoneType' object has no attribute 'hostname')", kombu
    5.7 / Celery 5.7, Redis transport).

    When Redis drops, the consumer first ``collect()``s the connection: closing
    its default channel tries to put the unacknowledged messages back, which fails
    (Redis is down) and leaves ``_default_channel`` set, and then the transport is
    dropped (``transport.client = None``). The consumer then ``close()``s the same
    connection: the default channel is closed a second time, tries again to restore
    the unacknowledged messages, builds a new Redis pool from ``transport.client``,
    which is None now, and the AttributeError escapes ``ignore_errors`` and stops
    the worker. It takes unacknowledged messages (acks_late, a busy worker) at the
    moment of the outage: "under load".

    Forgetting the default channel as soon as it is closed (whether closing
    succeeded or not) makes the second close a no-op. Nothing is lost: the
    unacknowledged messages stay in Redis's ``unacked`` hash and are restored by
    the next worker (visibility timeout), and the outbox and plan sweeps do not
    depend on them anyway."""
    original = Connection.maybe_close_channel
    if getattr(original, "closes_default_once", False):
        return

    def maybe_close_channel(self: Connection, channel: object) -> None:
        if channel is not None and channel is self._default_channel:
            self._default_channel = None
        original(self, channel)

    maybe_close_channel.closes_default_once = True  # type: ignore[attr-defined]
    Connection.maybe_close_channel = maybe_close_channel  # type: ignore[method-assign]


_close_default_channel_once()

app = Celery("tourism")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
