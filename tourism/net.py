"""Outbound HTTP to URLs that users give us (calendar feeds, OCTO suppliers, webhooks).

The SSRF guard sits where the TCP connection is opened: the host name is resolved
once, every address it resolves to must be public (``ipaddress.is_global``), and the
socket connects to that vetted address. A name that resolves to a private, loopback,
link-local (cloud metadata 169.254.169.254), CGNAT, multicast or reserved address is
refused, and so is every redirect hop, because each hop opens its own connection
through the same guard. DNS rebinding between "check" and "connect" is impossible
because there is no second lookup. TLS still verifies the certificate against the
original host name (SNI is the name, not the address).

``settings.OUTBOUND_ALLOWED_NETWORKS`` (CIDR list, empty in production) opens
specific ranges; the tests allow ``127.0.0.0/8`` to reach their local servers.
Environment proxies are ignored (``trust_env=False``) so they cannot bypass the guard.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from tourism.exceptions import ApplicationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class URLNotAllowed(ApplicationError):
    code = "url_not_allowed"


class FetchError(Exception):
    """A fetch failed; ``message`` is fit to show to the provider and to staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(cidr, strict=False)
        for cidr in getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", [])
    ]


def address_allowed(address: IPAddress) -> bool:
    """Public addresses, plus the explicitly allowed networks."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in _allowed_networks()):
        return True
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise URLNotAllowed(
            _("The host %(host)s cannot be resolved.") % {"host": host}, field="url"
        ) from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def vetted_addresses(host: str, port: int) -> list[IPAddress]:
    """The host's addresses, refusing the whole host if any one is not allowed."""
    addresses = resolve(host, port)
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise URLNotAllowed(
            _("%(host)s points to a private or reserved address; it cannot be used.")
            % {"host": host},
            field="url",
        )
    return addresses


def check_url(url: str) -> None:
    """Validate a user-given URL now (form and API validation); the connection is
    checked again when it is opened."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise URLNotAllowed(_("Use an http:// or https:// address."), field="url")
    if parts.username or parts.password:
        raise URLNotAllowed(
            _("Addresses with a user name or password are not accepted."), field="url"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise URLNotAllowed(_("The port is not valid."), field="url") from exc
    vetted_addresses(parts.hostname, port)


def clean_http_url(url: str, *, max_length: int | None = None) -> str:
    """A URL a user gives us to call (calendar feed, webhook), stripped: a valid
    http(s) address no longer than ``max_length`` (ValidationError naming ``url``)
    to public hosts only (``check_url``)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError(
            {"url": _("Enter a valid http:// or https:// address.")}
        ) from exc
    if max_length is not None and len(url) > max_length:
        raise ValidationError({"url": _("The address is too long.")})
    check_url(url)
    return url


class _GuardedBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = vetted_addresses(host, port)
        except URLNotAllowed as exc:
            raise httpcore.ConnectError(exc.message) from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        raise httpcore.ConnectError(str(last_error))


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport whose every TCP connection goes through the SSRF guard."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trust_env", False)
        super().__init__(**kwargs)
        old = self._pool
        self._pool = httpcore.ConnectionPool(
            ssl_context=old._ssl_context,
            max_connections=old._max_connections,
            max_keepalive_connections=old._max_keepalive_connections,
            keepalive_expiry=old._keepalive_expiry,
            retries=0,
            network_backend=_GuardedBackend(),
        )


def guarded_client(*, timeout: float = 10.0, **kwargs: Any) -> httpx.Client:
    return httpx.Client(
        transport=GuardedTransport(),
        timeout=httpx.Timeout(timeout),
        trust_env=False,
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": "titicaca-tourism/1.0 (+availability sync)"},
        **kwargs,
    )


@dataclass(frozen=True)
class FetchResult:
    status_code: int
    headers: httpx.Headers
    content: bytes
    seconds: float


def fetch(
    url: str,
    *,
    method: str = "GET",
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    client: httpx.Client | None = None,
) -> FetchResult:
    """Request ``url`` through the guard with a total time limit and a size limit (a
    slow trickle or a huge body is cut off, never read to the end)."""
    started = time.monotonic()
    own_client = client is None
    client = client or guarded_client(timeout=timeout)
    try:
        with client.stream(
            method, url, headers=headers or {}, json=json_body
        ) as response:
            length = response.headers.get("content-length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(
                    _("The response is too large (%(size)s bytes; limit %(max)s).")
                    % {"size": length, "max": max_bytes}
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(
                        _("The response is larger than %(max)s bytes.")
                        % {"max": max_bytes}
                    )
                if time.monotonic() - started > timeout:
                    raise FetchError(
                        _("The server took longer than %(s)s seconds.") % {"s": timeout}
                    )
                chunks.append(chunk)
            return FetchResult(
                status_code=response.status_code,
                headers=response.headers,
                content=b"".join(chunks),
                seconds=time.monotonic() - started,
            )
    except httpx.TimeoutException as exc:
        raise FetchError(
            _("The server took longer than %(s)s seconds.") % {"s": timeout}
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchError(
            _("The server could not be reached: %(error)s") % {"error": exc}
        ) from exc
    finally:
        if own_client:
            client.close()
