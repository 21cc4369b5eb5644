"""Server-rendered pages of the catalogue: the home page and a health check."""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


def home(request: HttpRequest) -> HttpResponse:
    """What the route is, its map (inline SVG, OpenStreetMap when online), the
    border crossings, the community value chains and the way into planning."""
    from web.selectors import home_page

    return render(request, "catalogue/home.html", home_page())


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness for compose/orchestrators: PostgreSQL answers, and Redis when it is
    configured (the embedded default has none). 200 ``{"status": "ok", "checks":
    {...}}``, or 503 naming what failed (``"failed": ["redis"]``)."""
    from tourism.unavailable import dependency_health, unavailable_response

    checks = dependency_health()
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        response = unavailable_response(request, failed)
        response.content = json.dumps(
            {"status": "unavailable", "failed": failed, "checks": checks}
        ).encode()
        return response
    return JsonResponse({"status": "ok", "checks": checks})
