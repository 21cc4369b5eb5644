from django.urls import path

from itineraries import apis

urlpatterns = [
    path("plans/", apis.PlanCreateApi.as_view(), name="plan-create"),
    path("plans/<uuid:plan_id>/", apis.PlanDetailApi.as_view(), name="plan-detail"),
    path(
        "plans/<uuid:plan_id>/replan", apis.PlanReplanApi.as_view(), name="plan-replan"
    ),
]
