"""Server-rendered pages of the catalogue: the home page and a health check."""

from django.db import connection
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
    """Liveness for compose/orchestrators: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
