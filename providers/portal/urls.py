"""The provider portal, included at ``/provider/`` with the namespace ``portal``."""

from django.contrib.auth import views as auth_views
from django.urls import path

from providers.portal import forms, views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="providers/portal/login.html",
            authentication_form=forms.EmailAuthenticationForm,
            redirect_authenticated_user=True,
            next_page="portal:dashboard",
        ),
        name="login",
    ),
    path(
        "logout/",
        auth_views.LogoutView.as_view(next_page="portal:login"),
        name="logout",
    ),
    path("listings/new/", views.listing_new, name="listing-new"),
    path("listings/<int:listing_id>/", views.listing_edit, name="listing-edit"),
    path(
        "listings/<int:listing_id>/photos/",
        views.listing_photos,
        name="listing-photos",
    ),
    path(
        "listings/<int:listing_id>/photos/<int:photo_id>/delete/",
        views.photo_delete,
        name="photo-delete",
    ),
    path("listings/<int:listing_id>/calendar/", views.calendar, name="calendar"),
    path("listings/<int:listing_id>/feeds/", views.feeds, name="feeds"),
    path("bookings/", views.bookings, name="bookings"),
    path("bookings/<uuid:booking_uuid>/", views.booking_detail, name="booking-detail"),
    path(
        "bookings/<uuid:booking_uuid>/<slug:action>/",
        views.booking_action,
        name="booking-action",
    ),
    path("manifest/", views.manifest, name="manifest"),
    path("octo/", views.octo, name="octo"),
    path("octo/<int:connection_id>/", views.octo_detail, name="octo-detail"),
]
