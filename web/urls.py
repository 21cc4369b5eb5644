"""The traveller website: planning, the itinerary, booking and managing a trip, and
the staff dashboard. Each part has its own URL module."""

from django.urls import include, path

app_name = "web"

urlpatterns = [
    path("", include("web.urls_plan")),
    path("", include("web.urls_booking")),
    path("", include("web.urls_staff")),
]
