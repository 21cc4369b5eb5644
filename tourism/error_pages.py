"""Error answers Django gives outside the views (``handler404``, ``handler400``):
JSON in each API's own shape under ``/api/v1/`` and ``/api/octo/`` (an unknown path,
a body over Django's size limit), Django's pages everywhere else.

Inside the API views DRF's exception handlers answer (``tourism.api``,
``octo.errors``); these cover what never reaches a view.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from octo.errors import BAD_REQUEST, OctoError
from tourism.parsers import body_too_large

API_V1 = "/api/v1/"
OCTO = "/api/octo/"


def _json(request: HttpRequest, message: str, status: int) -> HttpResponse | None:
    path = request.path_info
    if path.startswith(API_V1) or path == API_V1.rstrip("/"):
        field = "body" if status == 413 else "non_field_errors"
        errors = {} if status == 404 else {field: [message]}
        return JsonResponse({"detail": message, "errors": errors}, status=status)
    if path.startswith(OCTO) or path == OCTO.rstrip("/"):
        error = OctoError(BAD_REQUEST, message, status_code=status)
        return JsonResponse(error.body(), status=status)
    return None


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _json(request, _("Not found."), 404) or defaults.page_not_found(
        request, exception
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        response = _json(request, str(body_too_large().detail), 413)
    else:
        response = _json(request, _("Bad request."), 400)
    return response or defaults.bad_request(request, exception)
