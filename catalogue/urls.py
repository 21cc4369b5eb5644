from django.urls import path

from catalogue import apis

urlpatterns = [
    path("places/", apis.PlaceListApi.as_view(), name="place-list"),
    path(
        "border-crossings/", apis.CrossingListApi.as_view(), name="border-crossing-list"
    ),
    path("departures/", apis.DepartureListApi.as_view(), name="departure-list"),
    path("sights/", apis.SightListApi.as_view(), name="sight-list"),
    path("transfers/", apis.TransferListApi.as_view(), name="transfer-list"),
]
