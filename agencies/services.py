"""Agencies and their API keys (writes)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, ApiKey

KEY_PREFIX = "tk"
TEST_MARK = "test"  # sandbox keys: tk_test_<prefix>_<secret>


@dataclass(frozen=True)
class NewKey:
    """A key as made: ``key`` is the only time the secret exists in clear."""

    api_key: ApiKey
    key: str


def api_key_hash(key: str) -> str:
    # The keys carry 256 random bits, so one SHA-256 is enough (no slow KDF needed:
    # there is nothing to brute-force), and it keeps each request's check cheap.
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, agency: Agency, name: str = "default") -> NewKey:
    prefix = secrets.token_hex(6)
    mark = f"{TEST_MARK}_" if agency.is_sandbox else ""
    key = f"{KEY_PREFIX}_{mark}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        agency=agency, name=name, prefix=prefix, hashed=api_key_hash(key)
    )
    return NewKey(api_key=api_key, key=key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@transaction.atomic
def agency_create(
    *,
    name: str,
    contact_email: str = "",
    commission_bps: int = 0,
    sandbox: bool = False,
) -> tuple[Agency, NewKey]:
    """A new agency with its first API key (``sandbox``: a test agency, with
    tk_test_ keys)."""
    agency = Agency(
        name=name,
        contact_email=contact_email,
        commission_bps=commission_bps,
        is_sandbox=sandbox,
    )
    agency.full_clean()
    agency.save()
    return agency, api_key_create(agency=agency)
