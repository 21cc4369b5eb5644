"""Planning pages: the form, the itinerary, fixes and re-planning."""

from django.urls import path

from web import views_plan as views

urlpatterns = [
    path("plan/", views.plan_form, name="plan_form"),
    path("plans/<uuid:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<uuid:plan_id>/fix/", views.plan_fix, name="plan_fix"),
    path("plans/<uuid:plan_id>/replan/", views.plan_replan, name="plan_replan"),
]
