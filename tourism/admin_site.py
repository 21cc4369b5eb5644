"""The staff admin site: Django's AdminSite with a second factor for staff.

A staff account with a TOTP authenticator enrolled (``manage.py staff_totp``) gives
its 6-digit code with the password at the admin login, and the session only opens
the admin once that code was checked (django-otp marks the session verified). With
``STAFF_2FA_REQUIRED`` every staff account must have one: a staff member signed in
any other way (the provider portal's login) is sent to the admin login for it.
Wrong codes count as failed logins for the lockout (``tourism.logins``), on top of
django-otp's own growing delay per authenticator.

The staff pages outside the admin (the dashboard) use ``staff_required``, the same
rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device


def second_factor_needed(user: Any) -> bool:
    """Whether ``user`` must give a TOTP code to use the staff pages."""
    return bool(settings.STAFF_2FA_REQUIRED) or user_has_device(user, confirmed=True)


def second_factor_ok(user: Any) -> bool:
    """The user's session passed the second factor, or none is needed."""
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return True
    return not second_factor_needed(user)


def totp_device_verified(user: Any, token: str) -> Any | None:
    """The user's confirmed authenticator that accepts ``token`` (None if none);
    each device keeps its own growing delay after wrong codes."""
    token = token.replace(" ", "")
    if not (token.isascii() and token.isdigit()):
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            allowed, _why = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                return device
    return None


def staff_totp_enrol(*, user: Any, name: str = "authenticator", replace: bool = False):
    """A new confirmed TOTP authenticator for a staff account (ValueError if the
    account is not staff, or already has one and ``replace`` is not given; replacing
    deletes the old ones). Show ``device.config_url`` to its owner once."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not user.is_staff:
        raise ValueError(f"{user.get_username()} is not a staff account.")
    with transaction.atomic():
        existing = TOTPDevice.objects.select_for_update().filter(user=user)
        if existing.exists() and not replace:
            raise ValueError(
                f"{user.get_username()} already has an authenticator "
                "(--replace to replace it)."
            )
        existing.delete()
        return TOTPDevice.objects.create(user=user, name=name[:64], confirmed=True)


class StaffLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        max_length=12,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
        help_text=_("The 6 digits your authenticator app shows, if you have one."),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "otp_invalid": _("Enter the current 6-digit code from your authenticator app."),
        "otp_missing": _(
            "Staff accounts need an authenticator app to log in here. Ask an "
            "administrator to enrol one for you (manage.py staff_totp)."
        ),
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # the password (and the lockout) first
        user = self.get_user()
        if user is None or not second_factor_needed(user):
            return cleaned
        if not user_has_device(user, confirmed=True):
            raise forms.ValidationError(
                self.error_messages["otp_missing"], code="otp_missing"
            )
        device = totp_device_verified(user, cleaned.get("otp_token") or "")
        if device is None:
            # A wrong code is a failed login for the lockout, like a wrong password.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
            raise forms.ValidationError(
                self.error_messages["otp_invalid"], code="otp_invalid"
            )
        user.otp_device = device  # django-otp keeps it in the session at login
        return cleaned


class TourismAdminSite(admin.AdminSite):
    site_header = _("Titicaca route: staff")
    site_title = _("Titicaca route staff")
    login_form = StaffLoginForm
    login_template = "admin/tourism_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor_ok(request.user)


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff pages outside the admin: the admin's own rule (active staff, second
    factor when needed), else to the admin login and back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if admin.site.has_permission(request):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))

    return wrapped
