"""API-key authentication for the OCTO views, as the OCTO document words it: no key
sent is UNAUTHORIZED (401, "You didn't send the API Key"); a key that was sent but
is unknown, malformed or revoked is FORBIDDEN (403, "invalid or has been revoked");
a valid key of an agency that was deactivated is FORBIDDEN too, with its own
message, so the agency learns its key is fine but its access is suspended."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from agencies.auth import AgencyPrincipal, ApiKeyAuthentication
from agencies.models import ApiKey
from agencies.selectors import api_key_genuine


def _inactive_agency_key(key: str) -> bool:
    """Whether ``key`` is a genuine, unrevoked key whose agency is inactive."""
    api_key = api_key_genuine(key)
    return (
        api_key is not None
        and api_key.revoked_at is None
        and not api_key.agency.is_active
    )


class OctoApiKeyAuthentication(ApiKeyAuthentication):
    def authenticate(self, request: Any) -> tuple[AgencyPrincipal, ApiKey] | None:
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            header = authentication.get_authorization_header(request).split()
            if len(header) == 2 and _inactive_agency_key(
                header[1].decode("ascii", "replace")
            ):
                raise exceptions.PermissionDenied(
                    _("This agency's access is suspended; contact us.")
                ) from None
            raise exceptions.PermissionDenied(
                _("The API key you sent is invalid or has been revoked.")
            ) from None
