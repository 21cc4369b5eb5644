"""Provider URLs. Included by tourism/urls.py under ``providers/``."""

from django.urls import re_path

from providers import ical_views

app_name = "providers"

urlpatterns = [
    re_path(
        r"^ical/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$",
        ical_views.listing_ical,
        name="listing-ical",
    ),
]
