"""Server-rendered pages of the catalogue: the home page and a health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from catalogue import selectors
from catalogue.models import Crossing


def home(request: HttpRequest) -> HttpResponse:
    places = selectors.place_list()
    context = {
        "places": places,
        "crossings": selectors.crossing_list(),
        "crossing_kinds": Crossing.Kind,
    }
    return render(request, "catalogue/home.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for compose/orchestrators: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
