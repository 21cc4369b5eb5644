"""OCTO error bodies: ``{"error": "<CODE>", "errorMessage": "<sentence>", …}``.

The ``INVALID_*`` codes also name the id at fault (``productId``, ``optionId``,
``unitId``, ``availabilityId``, ``uuid``), as the OCTO specification requires. This
shape is OCTO's own and is not the ``/api/v1/`` one (``tourism.api``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from tourism.exceptions import ApplicationError
from tourism.parsers import BodyTooLarge, JSONRefused, body_too_large
from tourism.unavailable import RETRY_AFTER_SECONDS, dependency_failed

logger = logging.getLogger(__name__)

BAD_REQUEST = "BAD_REQUEST"
UNPROCESSABLE_ENTITY = "UNPROCESSABLE_ENTITY"
INVALID_PRODUCT_ID = "INVALID_PRODUCT_ID"
INVALID_OPTION_ID = "INVALID_OPTION_ID"
INVALID_UNIT_ID = "INVALID_UNIT_ID"
INVALID_AVAILABILITY_ID = "INVALID_AVAILABILITY_ID"
INVALID_BOOKING_UUID = "INVALID_BOOKING_UUID"
UNAUTHORIZED = "UNAUTHORIZED"
FORBIDDEN = "FORBIDDEN"
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

# The id field each INVALID_* error carries.
ID_FIELDS = {
    INVALID_PRODUCT_ID: "productId",
    INVALID_OPTION_ID: "optionId",
    INVALID_UNIT_ID: "unitId",
    INVALID_AVAILABILITY_ID: "availabilityId",
    INVALID_BOOKING_UUID: "uuid",
}


class OctoError(Exception):
    """An OCTO error response; ``value`` is the id at fault for INVALID_* codes."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        value: Any = None,
        status_code: int = status.HTTP_400_BAD_REQUEST,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.value = value
        self.status_code = status_code

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "errorMessage": self.message}
        if self.code in ID_FIELDS:
            value = self.value
            body[ID_FIELDS[self.code]] = "" if value is None else str(value)
        return body


def bad_request(message: str) -> OctoError:
    return OctoError(BAD_REQUEST, message)


def unprocessable(message: str) -> OctoError:
    return OctoError(UNPROCESSABLE_ENTITY, message)


def invalid(code: str, value: Any, message: str) -> OctoError:
    return OctoError(code, message, value=value)


def _messages(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return " ".join(exc.messages)


def _as_octo(exc: Exception) -> OctoError | None:
    if isinstance(exc, OctoError):
        return exc
    if isinstance(exc, exceptions.Throttled):
        wait = (
            f" {_('Retry in %(s)s s.') % {'s': math.ceil(exc.wait)}}"
            if exc.wait
            else ""
        )
        return OctoError(
            TOO_MANY_REQUESTS,
            _("Too many requests for this API key.") + wait,
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return OctoError(
            UNAUTHORIZED,
            str(exc.detail)
            if isinstance(exc, exceptions.AuthenticationFailed)
            else _("Send your API key: Authorization: Bearer <API key>."),
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    if isinstance(exc, exceptions.PermissionDenied):
        return OctoError(
            FORBIDDEN, str(exc.detail), status_code=status.HTTP_403_FORBIDDEN
        )
    if isinstance(exc, RequestDataTooBig):  # Django's own limit, before the parser
        exc = body_too_large()
    if isinstance(exc, BodyTooLarge):
        return OctoError(BAD_REQUEST, str(exc.detail), status_code=exc.status_code)
    if isinstance(exc, JSONRefused):
        return bad_request(exc.message)
    if isinstance(exc, exceptions.ParseError):
        return bad_request(_("The body is not valid JSON."))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return OctoError(
            BAD_REQUEST,
            _("Send the body as application/json."),
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    if isinstance(exc, exceptions.MethodNotAllowed):
        return OctoError(BAD_REQUEST, str(exc.detail), status_code=exc.status_code)
    if isinstance(exc, exceptions.NotAcceptable):
        return OctoError(BAD_REQUEST, str(exc.detail), status_code=exc.status_code)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return OctoError(
            BAD_REQUEST, _("Not found."), status_code=status.HTTP_404_NOT_FOUND
        )
    if isinstance(exc, exceptions.ValidationError):
        return bad_request(str(exc.detail))
    if isinstance(exc, DjangoValidationError):
        return unprocessable(_messages(exc))
    if isinstance(exc, ApplicationError):
        return unprocessable(exc.message)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Every error of the OCTO views in OCTO's shape; an unexpected one is logged and
    answered INTERNAL_SERVER_ERROR (500), still as JSON."""
    if (failed := dependency_failed(exc)) is not None:
        # PostgreSQL or Redis down: not our bug, come back shortly (503, JSON).
        logger.warning("OCTO request: %s unavailable: %s", failed, exc)
        unavailable = OctoError(
            INTERNAL_SERVER_ERROR,
            _("The service is temporarily unavailable, please retry shortly."),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        return Response(
            unavailable.body(),
            status=unavailable.status_code,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    octo = _as_octo(exc)
    if octo is None:
        logger.exception("OCTO request failed", exc_info=exc)
        octo = OctoError(
            INTERNAL_SERVER_ERROR,
            _("There was an unrecoverable error, please try again."),
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response = Response(octo.body(), status=octo.status_code)
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        response["Retry-After"] = str(math.ceil(exc.wait))
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
