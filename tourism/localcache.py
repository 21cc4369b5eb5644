"""Per-process caches of hot rows that rarely change (bookable listings with their
units and prices, agencies' API keys), kept correct across processes.

Each cache has a version token in the shared cache (Redis in production, the
process's own memory in the embedded default). A reader trusts only local entries
stored under the current token. In a request, the first read fetches every cache's
token at once (one round trip) and keeps them for the rest of the request; outside
requests (tasks, commands) each read fetches its token. A writer changes the token
when it saves (``invalidate``), and again once its transaction commits, so an entry
loaded from not-yet-committed data never outlives the commit. Entries also expire
after ``ttl`` seconds, which bounds staleness for writes that bypass the model
signals (``QuerySet.update``, raw SQL, another program).

Cached values are shared by every request of the process: callers must treat them
as read-only. ``LOCAL_CACHES`` (on by default with Redis) turns the caches on: a
local-memory cache cannot carry the tokens from one process to another.

When the shared cache (Redis) cannot be reached, reads go to the database (``load``,
nothing stored) and a writer's token change is skipped with a warning: other
processes may then serve entries up to ``ttl`` seconds old.

Not covered: an entry loaded inside the writing transaction itself, after its
first bump, survives a rollback of that transaction until ``ttl`` (no code path
reads a cached row inside a transaction that changes it).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from tourism.unavailable import CACHE_ERRORS

log = logging.getLogger(__name__)

V = TypeVar("V")

# Every cache made (module-level singletons in the code; a few more in tests).
_caches: list[VersionedLocalCache] = []

# The version tokens read during the current request (None outside requests: Celery
# tasks and commands read the shared cache every time).
_request_tokens: ContextVar[dict[str, str] | None] = ContextVar(
    "localcache_request_tokens", default=None
)


def _request_started(**kwargs: object) -> None:
    _request_tokens.set({})


def _request_finished(**kwargs: object) -> None:
    _request_tokens.set(None)


request_started.connect(_request_started, dispatch_uid="localcache-request-started")
request_finished.connect(_request_finished, dispatch_uid="localcache-request-finished")


def clear_all() -> None:
    """Empty every cache of this process (test isolation)."""
    for item in _caches:
        item.clear()


class VersionedLocalCache(Generic[V]):
    """``get(key, load)``: the value stored for ``key`` under the current version and
    younger than ``ttl`` seconds, else ``load()``, stored unless it is None (so
    unknown keys, which anyone can make up, never push real entries out); the least
    recently used entries are evicted beyond ``maxsize``."""

    def __init__(
        self,
        name: str,
        *,
        ttl: float = 60.0,
        maxsize: int = 1024,
        per_request: bool = True,
    ) -> None:
        self.name = name
        self.per_request = per_request
        self.ttl = ttl
        self.maxsize = maxsize
        self._key = f"localcache:{name}:version"
        self._entries: OrderedDict[Hashable, tuple[str, float, V]] = OrderedDict()
        self._lock = threading.Lock()
        _caches.append(self)

    def version(self) -> str:
        """The current token. Inside a request, every cache's token is fetched
        together on the first read (one round trip) and kept for the request."""
        tokens = _request_tokens.get() if self.per_request else None
        if tokens is None:
            return self._shared_version()
        token = tokens.get(self._key)
        if token is None:
            tokens.update(
                cache.get_many([item._key for item in _caches if item.per_request])
            )
            token = tokens.get(self._key) or self._shared_version()
            tokens[self._key] = token
        return token

    def _shared_version(self) -> str:
        token = cache.get(self._key)
        if token is None:  # first use, or evicted from the shared cache
            token = uuid.uuid4().hex
            if not cache.add(self._key, token, timeout=None):
                token = cache.get(self._key) or token
        return token

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        if not settings.LOCAL_CACHES:  # no shared cache to keep processes consistent
            return load()
        try:
            version = self.version()
        except CACHE_ERRORS:  # Redis down: the database, without caching
            log.warning(
                "cache %s: shared cache unreachable, reading the database", self.name
            )
            return load()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version and entry[1] > now:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
            return entry[2]
        value = load()
        if value is None:
            return value
        with self._lock:
            self._entries[key] = (version, now + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def invalidate(self) -> None:
        """Every process drops its entries: now, and again after the current
        transaction commits (at once outside a transaction)."""
        self._bump()
        transaction.on_commit(self._bump, robust=True)

    def invalidate_receiver(self, **kwargs: object) -> None:
        """``invalidate`` as a signal receiver."""
        self.invalidate()

    def clear(self) -> None:
        """This process's entries only (tests)."""
        with self._lock:
            self._entries.clear()

    def _bump(self) -> None:
        token = uuid.uuid4().hex
        self.clear()
        try:
            cache.set(self._key, token, timeout=None)
        except CACHE_ERRORS:  # other processes keep their entries up to ttl
            log.warning(
                "cache %s: shared cache unreachable, token not changed", self.name
            )
            return
        tokens = _request_tokens.get()
        if tokens is not None:
            tokens[self._key] = token
        self.clear()


def invalidate_on_change(cache_: VersionedLocalCache, *models: type[Model]) -> None:
    """Invalidate ``cache_`` whenever a row of one of ``models`` is saved or
    deleted."""
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                cache_.invalidate_receiver,
                sender=model,
                dispatch_uid=f"localcache-{cache_.name}-{model._meta.label}",
            )
