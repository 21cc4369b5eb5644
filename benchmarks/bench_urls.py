"""URLs of ``bench_wsgi``: the project's, plus the bare endpoint."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from providers.models import Listing
from tourism import urls as project


def row(request: HttpRequest, pk: int) -> JsonResponse:
    """One row by primary key, as JSON: nothing else."""
    found = Listing.objects.filter(pk=pk).values("pk", "title_en").first()
    return JsonResponse(found or {}, status=200 if found else 404)


handler404 = getattr(project, "handler404", None)
handler500 = project.handler500
urlpatterns = [path("bench/row/<int:pk>", row), *project.urlpatterns]
