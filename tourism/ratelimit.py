"""Rate limits: who the client is, and a sliding-window counter per key.

Every limit counts in the shared cache (one Redis round trip per request), so all
web processes share one count:

- the client's address is :func:`client_ip`: ``REMOTE_ADDR``, or, behind
  ``TRUSTED_PROXY_COUNT`` proxies of our own, the address the outermost of them saw
  (taken from the right of ``X-Forwarded-For``; what the client itself wrote in that
  header is never believed);
- :func:`client_ident` names the client a per-client limit counts: the agency of an
  API key, the signed-in user, else the address (IPv6 by its /64: one host usually
  owns a whole /64);
- :func:`rate_admit` counts one request against a limit and says how long to wait
  when it does not fit (the ``Retry-After`` of the 429).

Used by the agencies' per-key limit (``agencies.auth``), the plan, re-plan and hold
limits of the API (:class:`ClientRateThrottle`) and the website, and the global
limit of solver runs (``itineraries.services``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling

from tourism.unavailable import CACHE_ERRORS

log = logging.getLogger(__name__)

KEY_PREFIX = "ratelimit"


# --- Who the client is --------------------------------------------------------------


def client_ip(request: Any) -> str:
    """The client's IP address as our outermost trusted proxy saw it.

    With ``TRUSTED_PROXY_COUNT = 0`` (the default: no proxy) it is ``REMOTE_ADDR``.
    With ``n`` proxies each proxy appends the address it received the request from
    to ``X-Forwarded-For``, so the client's address is the ``n``-th entry from the
    right; anything left of it was written by the client and is ignored. A request
    that did not pass through all ``n`` proxies (too few entries), or whose entry is
    not an address, is counted by ``REMOTE_ADDR``."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "") or ""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    entries = [
        entry.strip()
        for entry in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(entries) < trusted:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-trusted]))
    except ValueError:
        return remote


def ip_ident(address: str) -> str:
    """``ip-<address>``, an IPv6 address by its /64 network."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"ip-{address[:64]}"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"ip-{parsed.ipv4_mapped}"
        return f"ip-{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"ip-{parsed}"


def client_ident(request: Any) -> str:
    """Whom a per-client limit counts: ``agency-<pk>`` for an API key (its principal,
    ``agencies.auth.AgencyPrincipal``, carries the agency), ``user-<pk>`` for a
    signed-in user, else ``ip-<address>`` (:func:`client_ip`)."""
    user = getattr(request, "user", None)
    agency = getattr(user, "agency", None)
    if agency is not None:
        return f"agency-{agency.pk}"
    if getattr(user, "is_authenticated", False) and getattr(user, "pk", None):
        return f"user-{user.pk}"
    return ip_ident(client_ip(request))


def is_agency(request: Any) -> bool:
    return getattr(getattr(request, "user", None), "agency", None) is not None


# --- The sliding-window counter -----------------------------------------------------


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60): DRF's rate format (s, m, h, d by first letter)."""
    number, period = rate.split("/")
    return int(number), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


def _redis() -> RedisCache | None:
    """The default cache when it is Redis (``cache`` is a proxy, never one)."""
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def _hit(key: str, window: int, now: float) -> tuple[int, int]:
    """Count one request in the current fixed window of ``window`` seconds; returns
    (this window's count, the previous window's). One round trip on Redis."""
    index = int(now // window)
    current, previous = f"{key}:{index}", f"{key}:{index - 1}"
    if (redis := _redis()) is not None:
        current_key = redis.make_and_validate_key(current)
        pipe = redis._cache.get_client(current_key, write=True).pipeline(
            transaction=False
        )
        pipe.incr(current_key)
        pipe.expire(current_key, 2 * window)
        pipe.get(redis.make_and_validate_key(previous))
        count, _expiry, before = pipe.execute()
        return int(count), int(before or 0)
    cache.add(current, 0, 2 * window)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between the two calls
        cache.set(current, 1, 2 * window)
        count = 1
    return count, int(cache.get(previous) or 0)


def _unhit(key: str, window: int, now: float) -> None:
    """Take back a refused request, so that refusals do not count against the key."""
    current = f"{key}:{int(now // window)}"
    if (redis := _redis()) is not None:  # one round trip (Django's decr takes two)
        current_key = redis.make_and_validate_key(current)
        redis._cache.get_client(current_key, write=True).decr(current_key)
        return
    with contextlib.suppress(ValueError):  # the window has expired meanwhile
        cache.decr(current)


def retry_after(
    *, accepted: int, before: int, limit: int, duration: int, elapsed: float
) -> float:
    """Seconds until one more request fits the sliding window: ``accepted`` requests
    in the current window, ``before`` in the previous one, ``elapsed`` seconds into
    the current one."""
    room = limit - 1 - accepted
    if room >= 0 and before > 0:
        # Later in this window, once the previous one weighs little enough:
        # accepted + 1 + before * (duration - t) / duration <= limit.
        fits_at = duration * (1 - room / before)
        if fits_at < duration:
            return max(0.0, fits_at - elapsed)
    # In the next window, once this one weighs little enough:
    # 1 + accepted * (duration - t) / duration <= limit.
    fits_at = duration * (1 - (limit - 1) / accepted) if accepted > limit - 1 else 0
    return duration - elapsed + max(0.0, fits_at)


def rate_admit(
    key: str,
    limit: int,
    duration: int,
    *,
    now: float | None = None,
    fail_open: bool = True,
) -> int | None:
    """Count one request under ``key`` against ``limit`` per ``duration`` seconds.

    None when it fits; else the whole seconds (≥ 1) until one more would, and the
    refused request is not counted. A sliding-window counter: the requests of the
    current fixed window plus those of the previous one weighted by how much of it
    still lies within the last ``duration`` seconds (the estimate Cloudflare and
    others use).

    When Redis cannot be reached, ``fail_open`` admits the request (an agency's
    key limit: bookings go on through an outage); otherwise the cache error is
    raised and answered 503 (plans and holds per client, solver runs: the limits
    that stop abuse of the expensive paths are not dropped in an outage)."""
    now = time.time() if now is None else now
    try:
        count, before = _hit(key, duration, now)
    except CACHE_ERRORS:
        if not fail_open:
            raise  # tourism.unavailable answers 503 naming Redis
        log.warning("rate limit %s skipped: the cache is unreachable", key)
        return None
    elapsed = now % duration
    if count + before * (duration - elapsed) / duration <= limit:
        return None
    with contextlib.suppress(*CACHE_ERRORS):
        _unhit(key, duration, now)
    wait = retry_after(
        accepted=count - 1,
        before=before,
        limit=limit,
        duration=duration,
        elapsed=elapsed,
    )
    return max(1, math.ceil(wait))


def rate_forget(key: str, duration: int, *, now: float | None = None) -> None:
    """Forget the recent requests counted under ``key`` (staff lifting a limit,
    tests)."""
    index = int((time.time() if now is None else now) // duration)
    cache.delete_many([f"{key}:{n}" for n in (index - 1, index)])


def client_admit(request: Any, scope: str, rate: str) -> int | None:
    """:func:`rate_admit` for one request of this client (:func:`client_ident`)
    under ``scope`` at ``rate`` (``"10/min"``; ``0/…`` turns the limit off)."""
    limit, duration = parse_rate(rate)
    if limit <= 0:
        return None
    return rate_admit(
        f"{KEY_PREFIX}:{scope}:{client_ident(request)}",
        limit,
        duration,
        fail_open=False,
    )


class ClientRateThrottle(throttling.BaseThrottle):
    """A DRF throttle per client (:func:`client_ident`); the rate is read from the
    setting named ``rate_setting`` at each request. Refused requests are answered
    429 with ``Retry-After`` by DRF."""

    scope = ""
    rate_setting = ""
    agencies_too = True  # False: requests made with an API key are not counted

    def allow_request(self, request: Any, view: Any) -> bool:
        if not self.agencies_too and is_agency(request):
            return True
        self.retry_after = client_admit(
            request, self.scope, getattr(settings, self.rate_setting)
        )
        return self.retry_after is None

    def wait(self) -> float | None:
        return getattr(self, "retry_after", None)
