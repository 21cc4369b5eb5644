"""Forget every count of the rate limits (``tourism.ratelimit``) between tests: the
test client always comes from 127.0.0.1, and ids of users and agencies come back
after a rolled-back test. Only those keys: with Redis the cache is the server Celery
also uses."""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from tourism.ratelimit import KEY_PREFIX


def ratelimits_forget() -> None:
    backend = caches["default"]
    prefix = backend.make_key(f"{KEY_PREFIX}:")
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    elif isinstance(backend, LocMemCache):
        with backend._lock:
            for key in [k for k in backend._cache if k.startswith(prefix)]:
                backend._delete(key)
