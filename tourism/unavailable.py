"""503 Service Unavailable when a dependency is down, instead of a 500.

PostgreSQL unreachable (``django.db.OperationalError`` / ``InterfaceError``) or Redis
unreachable (``redis.exceptions.ConnectionError`` / ``TimeoutError``, kombu's
``OperationalError`` when publishing) is not a bug of ours: clients should come back
shortly. The API (``/api/…``) answers JSON ``{"detail": …, "unavailable": [...]}``
and the website a small page in Spanish and English; both with ``Retry-After``.
Neither needs the database to render.

Three places catch them: the middleware (exceptions from views), ``handler500``
(exceptions from other middleware, e.g. sessions), and the API exception handlers
(DRF and OCTO catch view exceptions before the middleware could).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
# What the Django cache raises when Redis cannot be reached (callers that can do
# without the cache catch these and fall back to the database or fail open).
CACHE_ERRORS = (RedisConnectionError, RedisTimeoutError)
DATABASE, REDIS = "database", "redis"

PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Servicio no disponible / Service unavailable</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;
padding:0 1rem;line-height:1.5;color:#222}</style></head>
<body>
<h1>Volvemos enseguida</h1>
<p>Una parte de nuestro servicio no responde en este momento. No se perdió nada:
vuelva a intentarlo en unos segundos.</p>
<hr>
<h1 lang="en">We will be right back</h1>
<p lang="en">Part of our service is not answering right now. Nothing was lost:
please try again in a few seconds.</p>
</body></html>
"""


def dependency_failed(exc: BaseException | None) -> str | None:
    """``"database"`` or ``"redis"`` when ``exc`` (or an exception it was raised
    from) says that dependency is unreachable, else None."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DatabaseOperationalError | InterfaceError):
            return DATABASE
        if isinstance(
            exc, RedisConnectionError | RedisTimeoutError | BrokerOperationalError
        ):
            return REDIS
        exc = exc.__cause__ or exc.__context__
    return None


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/healthz"))


def unavailable_response(request: HttpRequest, failed: list[str] | str) -> HttpResponse:
    """The 503 answer: JSON on the APIs, the bilingual page on the website."""
    failed = [failed] if isinstance(failed, str) else list(failed)
    if is_api(request):
        response: HttpResponse = JsonResponse(
            {
                "detail": "Service temporarily unavailable; retry shortly.",
                "unavailable": failed,
            },
            status=503,
        )
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DependencyUnavailableMiddleware:
    """Views that raise because PostgreSQL or Redis is down answer 503."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        failed = dependency_failed(exception)
        if failed is None:
            return None
        log.warning(
            "%s %s: %s unavailable: %s", request.method, request.path, failed, exception
        )
        return unavailable_response(request, failed)


def handler500(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler (``tourism.urls``): a 503 when the exception being
    handled is a dependency outage (raised outside a view, e.g. by the sessions
    middleware), JSON for the APIs otherwise, else Django's own 500 page."""
    failed = dependency_failed(sys.exc_info()[1])
    if failed is not None:
        return unavailable_response(request, failed)
    if is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return server_error(request)


def dependency_health() -> dict[str, str]:
    """``{"database": "ok" | error, "redis": "ok" | error}`` (no Redis entry on the
    embedded default, which has none); each check fails fast (connect timeouts in
    settings)."""
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection

    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks[DATABASE] = "ok"
    except Exception as exc:  # any failure is "not ready"
        checks[DATABASE] = _describe(exc)
    if settings.REDIS_URL:
        try:
            cache = caches["default"]
            client = cache._cache.get_client(None, write=True)  # type: ignore[attr-defined]
            client.ping()
            checks[REDIS] = "ok"
        except Exception as exc:
            checks[REDIS] = _describe(exc)
    return checks


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
