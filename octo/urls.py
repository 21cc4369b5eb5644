"""``/api/octo/``: each path answers with or without its trailing slash (the OCTO
document writes ``/products/``, most clients call ``/products``)."""

from django.urls import re_path

from octo import views
from tourism.docs import ApiDocsView

app_name = "octo"

UUID = r"(?P<booking_uuid>[^/]+)"

urlpatterns = [
    re_path(r"^openapi\.json$", views.octo_schema, name="schema"),
    re_path(
        r"^docs/?$",
        ApiDocsView.as_view(url_name="octo:schema", title="OCTO API"),
        name="docs",
    ),
    re_path(r"^supplier/?$", views.SupplierView.as_view(), name="supplier"),
    re_path(r"^capabilities/?$", views.CapabilitiesView.as_view(), name="capabilities"),
    re_path(r"^products/?$", views.ProductListView.as_view(), name="products"),
    re_path(
        r"^products/(?P<product_id>[^/]+)/?$",
        views.ProductDetailView.as_view(),
        name="product",
    ),
    re_path(
        r"^availability/calendar/?$",
        views.AvailabilityCalendarView.as_view(),
        name="availability-calendar",
    ),
    re_path(r"^availability/?$", views.AvailabilityView.as_view(), name="availability"),
    re_path(r"^bookings/?$", views.BookingListView.as_view(), name="bookings"),
    re_path(
        rf"^bookings/{UUID}/confirm/?$",
        views.BookingConfirmView.as_view(),
        name="booking-confirm",
    ),
    re_path(
        rf"^bookings/{UUID}/extend/?$",
        views.BookingExtendView.as_view(),
        name="booking-extend",
    ),
    re_path(
        rf"^bookings/{UUID}/cancel/?$",
        views.BookingCancelView.as_view(),
        name="booking-cancel",
    ),
    re_path(rf"^bookings/{UUID}/?$", views.BookingDetailView.as_view(), name="booking"),
]
