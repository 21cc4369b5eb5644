"""The SSRF guard and IPv6 addresses that carry an IPv4 address (NAT64, 6to4,
Teredo, IPv4-mapped, -translated and -compatible): judged by the IPv4 address they
carry, when a URL is checked and when a connection opens."""

from __future__ import annotations

import ipaddress

import pytest

from tests.support.http import Route, local_http_server
from tests.support.resolver import HOSTILE_ADDRESSES, HOSTILE_IDS, answer
from tourism.net import (
    FetchError,
    URLNotAllowed,
    address_allowed,
    check_url,
    embedded_ipv4,
    fetch,
    guarded_client,
)


@pytest.fixture(autouse=True)
def _no_allowance(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("64:ff9b::a9fe:a9fe", ["169.254.169.254"]),
        ("64:ff9b::808:808", ["8.8.8.8"]),
        ("64:ff9b:1::a00:1", ["10.0.0.1"]),
        # A local-use prefix of another length: every layout's reading (/48, /56,
        # /64, /96), each to be checked.
        (
            "64:ff9b:1:a9fe:a9:fe00::",
            ["169.254.169.254", "254.169.254.0", "169.254.0.0", "0.0.0.0"],
        ),
        ("2002:a9fe:a9fe::1", ["169.254.169.254"]),
        ("::a9fe:a9fe", ["169.254.169.254"]),
        ("::ffff:0:a9fe:a9fe", ["169.254.169.254"]),
        ("::ffff:a9fe:a9fe", ["169.254.169.254"]),
        # Teredo: the server, then the client (stored inverted).
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ["65.54.227.120", "192.0.2.45"]),
        ("2606:4700::1111", []),
        ("8.8.8.8", []),
    ],
)
def test_the_ipv4_address_an_ipv6_address_carries(address, carried):
    assert [str(a) for a in embedded_ipv4(ipaddress.ip_address(address))] == carried


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_ipv6_forms_of_forbidden_ipv4_are_refused_when_checked(address):
    """An address literal of each form is refused like the IPv4 address it carries."""
    with pytest.raises(URLNotAllowed) as exc:
        check_url(f"http://[{address}]/feed.ics")
    assert exc.value.field == "url"
    assert "private or reserved" in exc.value.message


def test_public_ipv4_behind_the_nat64_prefix_is_allowed():
    """An IPv6-only server reaches IPv4-only sites through DNS64 answers such as
    64:ff9b::808:808 (8.8.8.8): those stay usable."""
    check_url("http://[64:ff9b::808:808]/feed.ics")
    assert address_allowed(ipaddress.ip_address("64:ff9b::5db8:d822"))


def test_allowing_the_ipv6_range_does_not_allow_what_it_carries(settings):
    """Opening a NAT64 range on purpose still checks the IPv4 address behind it."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["64:ff9b::/96"]
    assert not address_allowed(ipaddress.ip_address("64:ff9b::a9fe:a9fe"))
    assert address_allowed(ipaddress.ip_address("64:ff9b::808:808"))


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_a_name_resolving_to_such_an_address_is_refused_when_checked(
    monkeypatch, address
):
    asked = answer(monkeypatch, "feeds.hostile.test", address)
    with pytest.raises(URLNotAllowed) as exc:
        check_url("https://feeds.hostile.test/cal.ics")
    assert exc.value.field == "url" and asked == ["feeds.hostile.test"]


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=HOSTILE_IDS)
def test_the_connection_is_refused_when_the_answer_changes_after_the_check(
    monkeypatch, address
):
    """Public when the URL was checked, one of these forms when the connection
    opens: the guard refuses the connection (nothing is sent)."""
    asked = answer(monkeypatch, "rebind.hostile.test", "93.184.216.34", address)
    check_url("http://rebind.hostile.test/cal.ics")
    with pytest.raises(FetchError, match="private or reserved"):
        fetch("http://rebind.hostile.test/cal.ics", timeout=2.0)
    assert asked == ["rebind.hostile.test", "rebind.hostile.test"]


def test_one_hostile_address_among_allowed_ones_refuses_the_host(monkeypatch, settings):
    """A name that resolves to the test server (allowed here) and also to a NAT64
    form of the metadata address is refused as a whole: the server is never
    reached."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with local_http_server() as server:
        server.routes["/feed.ics"] = Route(body=b"BEGIN:VCALENDAR")
        port = server.base_url.rsplit(":", 1)[1]
        url = f"http://mixed.hostile.test:{port}/feed.ics"
        answer(monkeypatch, "mixed.hostile.test", ["127.0.0.1"])
        assert fetch(url).content == b"BEGIN:VCALENDAR"  # the route works
        answer(monkeypatch, "mixed.hostile.test", ["127.0.0.1", "64:ff9b::a9fe:a9fe"])
        with pytest.raises(FetchError, match="private or reserved"):
            fetch(url)
        assert len(server.requests) == 1


def test_the_guarded_client_refuses_at_connect_time(monkeypatch):
    """The webhook sender's client (``guarded_client``) goes through the guard."""
    answer(monkeypatch, "hooks.hostile.test", "2002:a9fe:a9fe::1")
    with guarded_client(timeout=2.0) as client, pytest.raises(Exception) as exc:
        client.post("http://hooks.hostile.test/hooks", content=b"{}")
    assert "private or reserved" in str(exc.value)
