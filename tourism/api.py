"""One JSON error shape for the whole ``/api/v1/``:

``{"detail": "<sentence>", "errors": {"<field>": ["<message>", …]}}``

``errors`` names the fields at fault (``non_field_errors`` when none applies; ``body``
for a body refused as a whole: too large, 413, or nested too deep).
"""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tourism.exceptions import ApplicationError, RateLimited
from tourism.parsers import BodyTooLarge, JSONRefused, body_too_large
from tourism.unavailable import RETRY_AFTER_SECONDS, dependency_failed


def _sentences(detail: Any, path: str = "") -> list[str]:
    """Every message under ``detail``, nested parts prefixed with where they are
    (``amount: A valid number is required.``, ``2: Not a valid integer.``)."""
    if isinstance(detail, dict):
        return [
            message
            for key, value in detail.items()
            for message in _sentences(value, f"{path}{key}: ")
        ]
    if isinstance(detail, list):
        return [message for value in detail for message in _sentences(value, path)]
    return [f"{path}{detail}"]


def _as_lists(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _sentences(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _sentences(detail)}
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    failed = dependency_failed(exc)
    if failed is not None:  # PostgreSQL or Redis down: come back shortly
        return Response(
            {
                "detail": "Service temporarily unavailable; retry shortly.",
                "errors": {},
                "unavailable": [failed],
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, RequestDataTooBig):  # Django's own limit, before the parser
        exc = body_too_large()
    if isinstance(exc, JSONRefused | BodyTooLarge):
        message = str(exc.detail)
        field = exc.field if isinstance(exc, JSONRefused) else "body"
        return Response(
            {"detail": message, "errors": {field: [message]}}, status=exc.status_code
        )
    if isinstance(exc, ApplicationError):
        errors = {exc.field or "non_field_errors": [exc.message]}
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        return Response(
            {"detail": exc.message, "errors": errors},
            status=exc.status_code,
            headers=headers,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_lists(exc.detail)
        first = next(iter(errors), "non_field_errors")
        response.data = {"detail": f"Invalid input: {first}.", "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    return response
