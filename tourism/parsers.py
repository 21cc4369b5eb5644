"""JSON request bodies with limits, for every JSON API (``/api/v1/`` and
``/api/octo/``).

A body is refused, before any view sees it, when it is larger than
``API_MAX_BODY_BYTES`` (413), nests arrays and objects deeper than
``API_MAX_JSON_DEPTH`` (400), or has a string or key with a lone UTF-16 surrogate
such as ``"\\ud800"`` (400: Python accepts it, but it cannot be encoded as UTF-8, so
it fails later when stored, hashed or sent on). Each API turns these errors into its
own error body (``tourism.api``, ``octo.errors``).

Django reads the body first and refuses one over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
with ``RequestDataTooBig``; the APIs answer that with the same 413
(``body_limit``).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


class JSONRefused(exceptions.ParseError):
    """Valid JSON we do not take; ``field`` is where (``body`` for the whole)."""

    def __init__(self, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def body_limit() -> int:
    """The largest body the APIs read: ``API_MAX_BODY_BYTES``, or Django's own
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` if that is smaller."""
    limits = [settings.API_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE]
    return min(limit for limit in limits if limit is not None)


def body_too_large() -> BodyTooLarge:
    return BodyTooLarge(_("The body is larger than %(n)s bytes.") % {"n": body_limit()})


def _too_deep(max_depth: int) -> JSONRefused:
    return JSONRefused(
        _("The JSON nests arrays and objects deeper than %(n)s levels.")
        % {"n": max_depth}
    )


def _where(trail: tuple | None) -> str:
    """``unitItems[0].contact.emailAddress`` from a trail of (parent trail, key)."""
    parts: list[str | int] = []
    while trail is not None:
        trail, key = trail
        parts.append(key)
    text = ""
    for key in reversed(parts):
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text or "body"


def json_check(data: Any, *, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` and lone surrogates in any string or
    key (JSONRefused naming where). Iterative: no recursion limit to hit."""
    stack: list[tuple[Any, int, tuple | None]] = [(data, 0, None)]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                raise _lone_surrogate(value, trail)
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                raise _too_deep(max_depth)
            if isinstance(value, dict):
                for key, item in value.items():
                    if not key.isascii() and _SURROGATE.search(key):
                        raise _lone_surrogate(key, trail, is_key=True)
                    stack.append((item, depth + 1, (trail, key)))
            else:
                stack.extend(
                    (item, depth + 1, (trail, n)) for n, item in enumerate(value)
                )


def _lone_surrogate(
    text: str, trail: tuple | None, *, is_key: bool = False
) -> JSONRefused:
    where = _where(trail)
    code = ord(_SURROGATE.search(text).group())  # type: ignore[union-attr]
    message = (
        _("%(where)s has a key with a lone surrogate (U+%(code)04X): not valid text.")
        if is_key
        else _("%(where)s contains a lone surrogate (U+%(code)04X): not valid text.")
    ) % {"where": where, "code": code}
    return JSONRefused(message, field=where)


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the size, depth and text checks above."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        encoding = get_encoding(parser_context)
        limit = body_limit()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise body_too_large()
        max_depth = settings.API_MAX_JSON_DEPTH
        try:
            data = json.loads(raw.decode(encoding))
        except RecursionError as exc:  # far deeper than any limit
            raise _too_deep(max_depth) from exc
        except ValueError as exc:  # also UnicodeDecodeError
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        json_check(data, max_depth=max_depth)
        return data
