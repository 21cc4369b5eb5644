from django.urls import path

from web import views_staff

urlpatterns: list = [
    path("staff/dashboard/", views_staff.dashboard, name="staff-dashboard"),
    path(
        "staff/dashboard/<slug:table>.csv",
        views_staff.dashboard_csv,
        name="staff-dashboard-csv",
    ),
]
