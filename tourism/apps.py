"""``django.contrib.admin`` with the project's admin site (``tourism.admin_site``):
``admin.site`` and ``@admin.register`` everywhere use it. Its deployment checks
(``manage.py check --deploy``) warn while the admin keeps its public default address
or staff can log in without a second factor."""

from typing import Any

from django.conf import settings
from django.contrib.admin.apps import AdminConfig
from django.core import checks


def staff_login_checks(**kwargs: Any) -> list[checks.CheckMessage]:
    found = []
    if settings.ADMIN_PATH == "admin/":
        found.append(
            checks.Warning(
                "The admin is at /admin/, the address every scanner tries.",
                hint="Set DJANGO_ADMIN_PATH to a path of your own.",
                id="tourism.W001",
            )
        )
    if not settings.STAFF_2FA_REQUIRED:
        found.append(
            checks.Warning(
                "Staff can log in to the admin with a password alone.",
                hint="Enrol authenticators (manage.py staff_totp) and set "
                "STAFF_2FA_REQUIRED=true.",
                id="tourism.W002",
            )
        )
    return found


class TourismAdminConfig(AdminConfig):
    default_site = "tourism.admin_site.TourismAdminSite"

    def ready(self) -> None:
        super().ready()
        checks.register(staff_login_checks, checks.Tags.security, deploy=True)
