from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView

from catalogue import views as catalogue_views
from tourism.docs import ApiDocsView

# A 503 page instead of the 500 when PostgreSQL or Redis is down.
handler500 = "tourism.unavailable.handler500"

api_v1 = [
    path("", include("catalogue.urls")),
    path("", include("itineraries.urls")),
    path("", include("agencies.urls")),
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/octo/", include("octo.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        ApiDocsView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", catalogue_views.healthz, name="healthz"),
    # No language prefix in URLs: the language comes from the switch (cookie) or the
    # browser's Accept-Language, for pages and API alike.
    path("", catalogue_views.home, name="home"),
    path("", include("web.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),  # DJANGO_ADMIN_PATH
    path("provider/", include("providers.portal.urls")),
    path("providers/", include("providers.urls")),  # iCal export feeds
]


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files (listing photos), from MEDIA_ROOT as it is at request time."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>.+)$", media)]

# JSON under /api/v1/ and /api/octo/, Django's pages elsewhere.
handler400 = "tourism.error_pages.bad_request"
handler404 = "tourism.error_pages.page_not_found"
