from django.urls import path

from catalogue import apis

urlpatterns = [
    path("places/", apis.PlaceListApi.as_view(), name="place-list"),
    path(
        "border-crossings/", apis.CrossingListApi.as_view(), name="border-crossing-list"
    ),
    path("departures/", apis.DepartureListApi.as_view(), name="departure-list"),
]
