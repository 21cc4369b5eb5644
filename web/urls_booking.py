"""Booking pages: hold a plan, check out, manage the trip (after opening the
emailed manage link, which redirects to the trip's pages without its token)."""

from django.urls import path

from web import views_booking as views

urlpatterns = [
    path("plans/<uuid:plan_id>/<slug:key>/book/", views.plan_book, name="plan_book"),
    path(
        "plans/<uuid:plan_id>/<slug:key>/book/replan/",
        views.plan_replan_without,
        name="plan_replan_without",
    ),
    path("trips/<uuid:trip_id>/checkout/", views.trip_checkout, name="trip_checkout"),
    path(
        "trips/<uuid:trip_id>/hold-again/",
        views.trip_hold_again,
        name="trip_hold_again",
    ),
    path("trips/<uuid:trip_id>/release/", views.trip_release, name="trip_release"),
    path("trips/manage/<str:token>/", views.trip_manage_link, name="trip_manage_link"),
    path("trips/<uuid:trip_id>/manage/", views.trip_manage, name="trip_manage"),
    path(
        "trips/<uuid:trip_id>/manage/parts/<int:part_id>/cancel/",
        views.trip_part_cancel,
        name="trip_part_cancel",
    ),
    path(
        "trips/<uuid:trip_id>/manage/cancel/",
        views.trip_cancel_all,
        name="trip_cancel_all",
    ),
    path("trips/<uuid:trip_id>/manage/trip.ics", views.trip_ics, name="trip_ics"),
    path("trips/<uuid:trip_id>/manage/print/", views.trip_print, name="trip_print"),
]
