"""The SSRF guard on outbound HTTP, against a real server on 127.0.0.1."""

import pytest

from tests.support.http import Route, local_http_server
from tourism.net import FetchError, URLNotAllowed, check_url, fetch


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed.ics",
        "http://localhost:8000/feed.ics",
        "http://[::1]/feed.ics",
        "http://10.0.0.8/feed.ics",
        "http://192.168.1.1/feed.ics",
        "http://172.16.5.4/feed.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/feed.ics",
        "http://[::ffff:127.0.0.1]/feed.ics",
        "http://0.0.0.0/feed.ics",
        "ftp://198.51.100.7/feed.ics",
        "http://user:secret@93.184.216.34/feed.ics",
        "file:///etc/passwd",
    ],
)
def test_private_and_odd_urls_are_refused(settings, url):
    """Loopback, private, link-local, CGNAT, mapped and non-http URLs are refused."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(URLNotAllowed) as exc:
        check_url(url)
    assert exc.value.field == "url"


def test_public_address_passes_the_check(settings):
    """A public address literal is accepted (no connection is made)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    check_url("https://93.184.216.34/calendar.ics")


def test_guard_refuses_at_connect_time(settings):
    """Even skipping check_url, the connection to a loopback server is refused."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with local_http_server() as server:
        server.routes["/feed.ics"] = Route(body=b"BEGIN:VCALENDAR")
        with pytest.raises(FetchError, match="private or reserved"):
            fetch(server.url("/feed.ics"))
        assert server.requests == []  # nothing reached the server


def test_redirect_to_a_private_address_is_refused(settings):
    """An allowed server redirecting to a forbidden one does not get followed there."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with local_http_server() as server:
        server.routes["/feed.ics"] = Route(
            status=302, headers={"Location": "http://127.0.0.2:9/secret"}
        )
        with pytest.raises(FetchError, match="private or reserved"):
            fetch(server.url("/feed.ics"))


def test_allowed_network_reaches_the_local_server(settings):
    """With 127.0.0.0/8 allowed (tests only) the fetch works."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with local_http_server() as server:
        server.routes["/feed.ics"] = Route(
            body=b"BEGIN:VCALENDAR", headers={"ETag": '"v1"'}
        )
        result = fetch(server.url("/feed.ics"))
        assert result.status_code == 200 and result.content == b"BEGIN:VCALENDAR"
        assert result.headers["etag"] == '"v1"'


def test_huge_body_is_cut_off(settings):
    """A body over the size limit is refused, not read to the end."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with local_http_server() as server:
        server.routes["/huge.ics"] = Route(body=b"x" * 200_000)
        with pytest.raises(FetchError, match=r"too large|larger than"):
            fetch(server.url("/huge.ics"), max_bytes=50_000)


def test_slow_trickle_hits_the_total_time_limit(settings):
    """A server dripping bytes slowly is cut off at the total time limit."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with local_http_server() as server:
        server.routes["/slow.ics"] = Route(body=b"x" * 10_240, trickle_s=0.3)
        with pytest.raises(FetchError, match="longer than"):
            fetch(server.url("/slow.ics"), timeout=1.0)
