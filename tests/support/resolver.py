"""IPv6 addresses that carry a forbidden IPv4 address, and a way to make a test host
name resolve to them.

The SSRF guard asks the system resolver (``socket.getaddrinfo``) once per
connection. Tests cannot publish DNS records, so ``answer`` puts the answer for one
made-up name (``*.test``, a reserved TLD that never resolves for real) in front of
the real resolver; every other name still goes to the real one.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable

import pytest

# (address, the form and the IPv4 address it carries)
HOSTILE_IPV6 = [
    ("64:ff9b::a9fe:a9fe", "NAT64 well-known prefix -> 169.254.169.254 (metadata)"),
    ("64:ff9b::7f00:1", "NAT64 well-known prefix -> 127.0.0.1"),
    ("64:ff9b:1::a9fe:a9fe", "NAT64 local-use /96 layout -> 169.254.169.254"),
    ("64:ff9b:1:a9fe:a9:fe00::", "NAT64 local-use /48 layout -> 169.254.169.254"),
    ("2002:a9fe:a9fe::1", "6to4 -> 169.254.169.254"),
    ("2002:a00:1::1", "6to4 -> 10.0.0.1"),
    ("::a9fe:a9fe", "IPv4-compatible -> 169.254.169.254"),
    ("::a00:1", "IPv4-compatible -> 10.0.0.1"),
    ("::ffff:0:a9fe:a9fe", "IPv4-translated -> 169.254.169.254"),
    ("::ffff:a9fe:a9fe", "IPv4-mapped -> 169.254.169.254"),
    ("2001:0:a9fe:a9fe::f7f7:f7f7", "Teredo, server 169.254.169.254"),
    ("2001:0:808:808:0:0:5601:5601", "Teredo, client 169.254.169.254"),
]
HOSTILE_ADDRESSES = [address for address, _form in HOSTILE_IPV6]
HOSTILE_IDS = [form for _address, form in HOSTILE_IPV6]


def _info(address: str, port: int) -> tuple:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))


def answer(
    monkeypatch: pytest.MonkeyPatch, host: str, *answers: Iterable[str] | str
) -> list[str]:
    """Make ``host`` resolve to the given addresses. Several answers are given in
    turn, one per lookup (the last one repeats): a name that was public when it was
    checked and points elsewhere when the connection opens. Returns the list of
    hosts looked up, to check the guard asked."""
    real: Callable = socket.getaddrinfo
    queue = [[a] if isinstance(a, str) else list(a) for a in answers]
    asked: list[str] = []

    def getaddrinfo(name, port, *args, **kwargs):
        if name != host:
            return real(name, port, *args, **kwargs)
        asked.append(name)
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [_info(address, int(port or 0)) for address in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked
