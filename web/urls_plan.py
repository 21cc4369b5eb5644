"""Planning pages: the form, the itinerary, fixes and re-planning."""

from django.urls import path

from web import views_plan as views

urlpatterns = [
    path("plan/", views.plan_form, name="plan_form"),
    # A plan's pages are under its secret link (the key; the id alone is 404).
    path("plans/<uuid:plan_id>/<slug:key>/", views.plan_detail, name="plan_detail"),
    path("plans/<uuid:plan_id>/<slug:key>/fix/", views.plan_fix, name="plan_fix"),
    path(
        "plans/<uuid:plan_id>/<slug:key>/replan/",
        views.plan_replan,
        name="plan_replan",
    ),
]
