"""Outbound HTTP to URLs that users give us (calendar feeds, OCTO suppliers, webhooks).

The SSRF guard sits where the TCP connection is opened: the host name is resolved
once, every address it resolves to must be public (``ipaddress.is_global``), and the
socket connects to that vetted address. A name that resolves to a private, loopback,
link-local (cloud metadata 169.254.169.254), CGNAT, multicast or reserved address is
refused, and so is every redirect hop, because each hop opens its own connection
through the same guard. DNS rebinding between "check" and "connect" is impossible
because there is no second lookup. TLS still verifies the certificate against the
original host name (SNI is the name, not the address).

IPv6 addresses that carry an IPv4 address (NAT64, 6to4, Teredo, IPv4-mapped,
-translated and -compatible forms) are judged by the IPv4 address they carry, with
the IPv4 rules: ``64:ff9b::a9fe:a9fe`` is 169.254.169.254 behind a NAT64 gateway and
is refused like it (``embedded_ipv4``).

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


# IPv6 forms that carry an IPv4 address: traffic to them ends up at that IPv4 host
# (through a NAT64 gateway, a 6to4 or Teredo relay, or a dual-stack socket), so the
# IPv4 address has to pass the IPv4 rules. Python calls most of them global.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")  # RFC 3056
_TEREDO = ipaddress.IPv6Network("2001::/32")  # RFC 4380
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 (deprecated)
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 (SIIT)
_LAST_32_BITS = (_IPV4_TRANSLATED, _IPV4_COMPATIBLE)
# RFC 6052 places the IPv4 address after the NAT64 prefix, skipping bits 64–71;
# (bit offset, bit count) of its pieces for the prefix lengths a local-use /48
# prefix can have.
_RFC6052_LAYOUTS = {
    48: ((48, 16), (72, 16)),
    56: ((56, 8), (72, 24)),
    64: ((72, 32),),
    96: ((96, 32),),
}


def _bits(value: int, offset: int, count: int) -> int:
    """``count`` bits of a 128-bit ``value`` from ``offset`` (0 = the highest bit)."""
    return (value >> (128 - offset - count)) & ((1 << count) - 1)


def _rfc6052_ipv4(value: int, prefix_length: int) -> ipaddress.IPv4Address:
    ipv4 = 0
    for offset, count in _RFC6052_LAYOUTS[prefix_length]:
        ipv4 = (ipv4 << count) | _bits(value, offset, count)
    return ipaddress.IPv4Address(ipv4)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (empty when none): NAT64
    ``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4 ``2002::/16``, Teredo
    ``2001::/32`` (its server and its client), IPv4-mapped ``::ffff:0:0/96``,
    IPv4-translated ``::ffff:0:0:0/96`` and IPv4-compatible ``::/96``.

    A local-use NAT64 prefix may be anything from /48 to /96 long, which moves the
    IPv4 bits: the usual /96 layout (zeros between the /48 and the address) gives
    one address; any other address gives every layout's reading, and each must be
    allowed."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    value = int(address)
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _TEREDO:
        server, client = address.teredo  # type: ignore[misc]
        return [server, client]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address in _NAT64_LOCAL_USE:
        if _bits(value, 48, 48) == 0:
            return [_rfc6052_ipv4(value, 96)]
        return [_rfc6052_ipv4(value, length) for length in _RFC6052_LAYOUTS]
    if address in _NAT64_WELL_KNOWN or any(address in n for n in _LAST_32_BITS):
        return [ipaddress.IPv4Address(value & 0xFFFFFFFF)]
    return []


def address_allowed(address: IPAddress) -> bool:
    """Public addresses, plus the explicitly allowed networks. An IPv6 address that
    embeds IPv4 addresses is allowed only if each of them is (by the IPv4 rules and
    allow-list), and, unless it is an IPv4-mapped address, only if it is allowed as
    an IPv6 address too."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_allowed(address.ipv4_mapped)
        embedded = embedded_ipv4(address)
        if embedded and not all(address_allowed(ipv4) for ipv4 in embedded):
            return False
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
