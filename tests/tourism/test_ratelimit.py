"""Who the client is for the rate limits (tourism.ratelimit): REMOTE_ADDR, or the
address our outermost trusted proxy saw, never what the client wrote into
X-Forwarded-For; and the sliding-window count with its Retry-After."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tourism.ratelimit import (
    client_admit,
    client_ident,
    client_ip,
    ip_ident,
    rate_admit,
)

factory = RequestFactory()


def request(remote: str = "203.0.113.7", forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.get("/", **headers)


def test_without_proxies_only_remote_addr_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request()) == "203.0.113.7"
    assert client_ip(request(forwarded="198.51.100.1")) == "203.0.113.7"
    assert client_ip(request(forwarded="1.2.3.4, 5.6.7.8")) == "203.0.113.7"


def test_behind_one_proxy_the_last_entry_counts(settings):
    """Our proxy (REMOTE_ADDR 10.0.0.2) appends the address it received the request
    from: that last entry is the client; whatever the client put before it is
    ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    assert client_ip(request(proxy, "198.51.100.9")) == "198.51.100.9"
    spoofed = request(proxy, "1.1.1.1, 2.2.2.2, 198.51.100.9")
    assert client_ip(spoofed) == "198.51.100.9"
    # Not through the proxy (no header), or junk where the proxy writes: the peer.
    assert client_ip(request(proxy)) == proxy
    assert client_ip(request(proxy, "")) == proxy
    assert client_ip(request(proxy, "1.1.1.1, not-an-ip")) == proxy
    assert client_ip(request(proxy, " 2001:db8::5 ")) == "2001:db8::5"


def test_behind_two_proxies_the_second_entry_from_the_right_counts(settings):
    """CDN → load balancer → app: the balancer appends the CDN's address, the CDN
    appended the client's."""
    settings.TRUSTED_PROXY_COUNT = 2
    chain = "6.6.6.6, 198.51.100.9, 172.16.0.5"
    assert client_ip(request("10.0.0.2", chain)) == "198.51.100.9"
    # One entry only: the request did not come through both proxies.
    assert client_ip(request("10.0.0.2", "198.51.100.9")) == "10.0.0.2"


def test_ipv6_clients_are_counted_by_their_64():
    """One host usually holds a whole /64: counted per address, it could take a
    new one for every request."""
    assert ip_ident("2001:db8:1:2:aaaa::1") == ip_ident("2001:db8:1:2:ffff::9")
    assert ip_ident("2001:db8:1:2::1") != ip_ident("2001:db8:1:3::1")
    assert ip_ident("::ffff:198.51.100.9") == ip_ident("198.51.100.9")
    assert ip_ident("198.51.100.9") != ip_ident("198.51.100.10")


@pytest.mark.django_db
def test_signed_in_users_are_counted_by_account(django_user_model):
    user = django_user_model.objects.create_user("ana", "ana@example.org", "x")
    req = request()
    req.user = user
    assert client_ident(req) == f"user-{user.pk}"


def test_the_count_slides_and_says_when_to_retry():
    key = "ratelimit:test:slide"
    start = 60.0 * 40_000_000  # the start of a minute, far from other tests
    assert [rate_admit(key, 3, 60, now=start + 10) for _ in range(3)] == [None] * 3
    # Refused: this minute's 3 weigh 3 until the next minute, then fade.
    wait = rate_admit(key, 3, 60, now=start + 10)
    assert wait == 70
    assert rate_admit(key, 3, 60, now=start + 10 + 69) is not None
    assert rate_admit(key, 3, 60, now=start + 10 + 70) is None


def test_client_admit_with_spoofed_headers_counts_one_client(settings):
    """Twenty requests from one address, each with another X-Forwarded-For: with no
    trusted proxy they are one client, limited after 5."""
    settings.TRUSTED_PROXY_COUNT = 0
    results = [
        client_admit(request(forwarded=f"10.9.{n}.1"), "spoof-test", "5/min")
        for n in range(20)
    ]
    assert results[:5] == [None] * 5
    assert all(isinstance(wait, int) and wait >= 1 for wait in results[5:])
    assert client_admit(request(remote="203.0.113.8"), "spoof-test", "5/min") is None
    assert client_admit(request(), "off-test", "0/min") is None
