"""The OCTO document as this supplier serves it (reads): the standard's OpenAPI
document (``octo/spec/openapi.yaml``) with this server's address and, in its
description, what is specific to this supplier — holds, cut-offs, rate limits,
languages, currencies and the agency's net price. Served at
``/api/octo/openapi.json`` and shown by Swagger UI at ``/api/octo/docs/``."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

SPEC = Path(__file__).resolve().parent / "spec" / "openapi.yaml"


@functools.cache
def _standard() -> dict[str, Any]:
    with SPEC.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def supplier_specifics() -> str:
    """What an agency must know beyond the standard, from the settings in force."""
    languages = ", ".join(code for code, _name in settings.LANGUAGES)
    return (
        "The OCTO booking API of the Titicaca route (Cusco – Puno – Copacabana – La "
        "Paz). Send your key as `Authorization: Bearer <key>` (no key: 401 "
        "UNAUTHORIZED; an unknown, malformed or revoked key: 403 FORBIDDEN).\n\n"
        "What is specific to this supplier:\n\n"
        "- Capabilities: `octo/pricing` (retail and your net, integer minor units) "
        "and `octo/content`.\n"
        f"- Languages: `Accept-Language` {languages}; `Content-Language` says which "
        "was used.\n"
        "- Currencies: each product's own (PEN in Peru, BOB in Bolivia).\n"
        "- Commission: your contract's, in basis points; `net` = retail − "
        "commission. Unit prices are frozen at reserve; unit items' retail and net "
        "add up exactly to the booking's.\n"
        f"- Holds: `expirationMinutes` defaults to {settings.HOLD_DEFAULT_MINUTES}, "
        f"at most your contract's limit or {settings.HOLD_MAX_MINUTES}; never past "
        "the availability's `utcCutoffAt`, and no extend or confirm after it.\n"
        "- Cut-offs: bookings close at `utcCutoffAt` (per product); confirmed "
        "bookings can be cancelled while `cancellable`.\n"
        "- Changes: `PATCH /bookings/{uuid}` moves a booking to another "
        "availability, units or product of the same provider, all or nothing.\n"
        "- Sandbox: `tk_test_…` keys see the same products and availability; "
        "their bookings answer `testMode: true`, take no real places and reach no "
        "provider; their webhooks fire.\n"
        f"- Rate limit: per key, its own rate or {settings.API_KEY_RATE_LIMIT}; "
        "429 with `Retry-After`. When the database is down: 503 with `Retry-After`."
        "\n- Webhooks and a walk-through with curl: `docs/agencies.md` in the "
        "repository."
    )


def octo_document(base_url: str) -> dict[str, Any]:
    """The document with ``base_url`` (this server's ``…/api/octo``) as its server."""
    document = copy.deepcopy(_standard())
    info = document.setdefault("info", {})
    info["title"] = "OCTO API — Titicaca route supplier"
    info["description"] = supplier_specifics()
    document["servers"] = [{"url": base_url.rstrip("/"), "description": "This server"}]
    return document
