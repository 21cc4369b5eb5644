"""DRF authentication, permission and throttling for agency API keys
(``Authorization: Bearer tk_…``)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from agencies.models import Agency, ApiKey
from agencies.selectors import api_key_from_header
from tourism.ratelimit import parse_rate, rate_admit, rate_forget


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


class ApiKeyRateThrottle(throttling.BaseThrottle):
    """Per-key limit: the key's own ``rate_per_minute``, else API_KEY_RATE_LIMIT.

    A sliding-window counter (``tourism.ratelimit.rate_admit``): one cache round
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
            rate_forget(cls.cache_key(api_key), window, now=now)

    def allow_request(self, request: Any, view: Any) -> bool:
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        if api_key is None:
            return True
        if api_key.rate_per_minute:
            limit, duration = api_key.rate_per_minute, 60
        else:
            limit, duration = parse_rate(settings.API_KEY_RATE_LIMIT)
        self.retry_after = rate_admit(
            self.cache_key(api_key), limit, duration, now=self.timer()
        )
        return self.retry_after is None

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
