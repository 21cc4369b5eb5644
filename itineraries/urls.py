from django.urls import path

from itineraries import apis

urlpatterns = [
    path("plans/", apis.PlanCreateApi.as_view(), name="plan-create"),
    path("plans/<uuid:plan_id>/", apis.PlanDetailApi.as_view(), name="plan-detail"),
    path(
        "plans/<uuid:plan_id>/replan", apis.PlanReplanApi.as_view(), name="plan-replan"
    ),
    path("plans/<uuid:plan_id>/hold", apis.PlanHoldApi.as_view(), name="plan-hold"),
    path(
        "plans/<uuid:plan_id>/confirm",
        apis.PlanConfirmApi.as_view(),
        name="plan-confirm",
    ),
    path(
        "plans/<uuid:plan_id>/cancel", apis.PlanCancelApi.as_view(), name="plan-cancel"
    ),
    path(
        "trip-bookings/<uuid:trip_id>/",
        apis.TripBookingDetailApi.as_view(),
        name="trip-booking-detail",
    ),
]
