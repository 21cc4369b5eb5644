"""Brute-force protection of the password logins (``/provider/login/`` and the admin
login), with django-axes configured in ``tourism/settings.py``: how a client and an
account are named, and the page a locked-out client gets.

The client is named by the project's one rule for the client's address
(``tourism.ratelimit.client_ip``: ``REMOTE_ADDR``, or the address our outermost
trusted proxy saw with ``TRUSTED_PROXY_COUNT``; what a client writes in
``X-Forwarded-For`` is never believed), so logins, rate limits and holds agree. An
IPv6 client is counted by its /64 network, as the rate limits count it: one host
usually owns a whole /64 and could otherwise change address at every attempt.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from tourism import ratelimit


def client_ip(request: HttpRequest) -> str | None:
    """The address the failures of a request are counted against (an IPv6 one as
    the first address of its /64); None without one (a Unix socket, a test
    request): those requests share one count."""
    try:
        address = ipaddress.ip_address(ratelimit.client_ip(request))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network(f"{address}/64", strict=False)
        return str(network.network_address)
    return str(address)


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
