"""DRF authentication, permission and throttling for agency API keys
(``Authorization: Bearer tk_…``)."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from agencies.models import Agency, ApiKey
from agencies.selectors import api_key_from_header
from tourism.unavailable import CACHE_ERRORS

log = logging.getLogger(__name__)


class AgencyPrincipal:
    """``request.user`` for a request made with an API key: the agency, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, agency: Agency) -> None:
        self.agency = agency

    def __str__(self) -> str:
        return f"agency:{self.agency.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[AgencyPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as: Authorization: Bearer <API key>.")
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from exc
        api_key = api_key_from_header(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                _("Invalid, revoked or unknown API key.")
            )
        return AgencyPrincipal(api_key.agency), api_key

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


def request_agency(request: Any) -> Agency | None:
    """The agency behind an API-key request, else None."""
    return request.auth.agency if isinstance(request.auth, ApiKey) else None


class IsAgency(permissions.BasePermission):
    message = _("An agency API key is required (Authorization: Bearer <key>).")

    def has_permission(self, request: Any, view: Any) -> bool:
        return request_agency(request) is not None


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


class ApiKeyRateThrottle(throttling.BaseThrottle):
    """Per-key limit: the key's own ``rate_per_minute``, else API_KEY_RATE_LIMIT.

    A sliding-window counter: the requests of the current fixed window plus those of
    the previous one weighted by how much of it still lies within the last
    ``duration`` seconds (the estimate Cloudflare and others use). One cache round
    trip per request instead of reading and writing a list of timestamps."""

    timer = time.time

    @staticmethod
    def cache_key(api_key: ApiKey) -> str:
        return f"throttle_api_key_{api_key.pk}"

    @classmethod
    def reset(cls, api_key: ApiKey) -> None:
        """Forget the key's recent requests (tests; staff lifting a limit)."""
        now = cls.timer()
        for window in {60, parse_rate(settings.API_KEY_RATE_LIMIT)[1]}:
            index = int(now // window)
            cache.delete_many(
                [f"{cls.cache_key(api_key)}:{n}" for n in (index - 1, index)]
            )

    def allow_request(self, request: Any, view: Any) -> bool:
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        if api_key is None:
            return True
        if api_key.rate_per_minute:
            limit, duration = api_key.rate_per_minute, 60
        else:
            limit, duration = parse_rate(settings.API_KEY_RATE_LIMIT)
        now = self.timer()
        key = self.cache_key(api_key)
        try:
            count, before = _hit(key, duration, now)
        except CACHE_ERRORS:  # Redis down: fail open rather than refuse agencies
            log.warning("rate limit skipped: the cache is unreachable")
            return True
        elapsed = now % duration
        estimate = count + before * (duration - elapsed) / duration
        if estimate <= limit:
            return True
        with contextlib.suppress(*CACHE_ERRORS):
            _unhit(key, duration, now)
        self.retry_after = max(
            1,
            math.ceil(
                retry_after(
                    accepted=count - 1,
                    before=before,
                    limit=limit,
                    duration=duration,
                    elapsed=elapsed,
                )
            ),
        )
        return False

    def wait(self) -> float | None:
        return getattr(self, "retry_after", None)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The API key in the OpenAPI schema (drf-spectacular finds it by import)."""

    target_class = "agencies.auth.ApiKeyAuthentication"
    name = "agencyApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tk_<prefix>_<secret>",
        }
