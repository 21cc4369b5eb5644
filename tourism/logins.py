"""Brute-force protection of the password logins (``/provider/login/`` and the admin
login), with django-axes configured in ``tourism/settings.py``: how a client and an
account are named, and the page a locked-out client gets.

The client IP is ``REMOTE_ADDR``. Behind a reverse proxy every client would then
share the proxy's address (one shared per-IP lockout, never a spoofable one):
when the project has one helper for the client IP behind trusted proxies, point
``AXES_CLIENT_IP_CALLABLE`` at it so logins, rate limits and holds agree.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def client_ip(request: HttpRequest) -> str | None:
    """The address the failures of a request are counted against; None without one
    (a Unix socket, a test request): those requests share one count."""
    address = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a login names, as the portal reads it (e-mail addresses in any
    letter case are one account), so ``Ana@x.org`` and ``ana@x.org`` count
    together."""
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username", "")
    return str(value).strip().lower()


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """429 with a page in the visitor's language saying when to try again (and
    ``Retry-After``)."""
    cool_off = get_cool_off(request)
    seconds = math.ceil(cool_off.total_seconds()) if cool_off else 0
    response = TemplateResponse(
        request,
        "logins/locked_out.html",
        {"minutes": max(1, math.ceil(seconds / 60))},
        status=429,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response.render()
