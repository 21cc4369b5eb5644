"""Limits on JSON bodies (size, nesting, lone surrogates) and JSON error answers
under ``/api/v1/`` (unknown paths, bodies over the size limit). The OCTO side is in
tests/octo/test_input_limits.py."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from agencies.models import WebhookEndpoint
from agencies.services import agency_create
from itineraries.models import TripPlan
from tests.itineraries.conftest import throttle_reset
from tourism import error_pages
from tourism.parsers import JSONRefused, LimitedJSONParser, json_check

pytestmark = pytest.mark.django_db


def nested(depth: int, leaf: object = 1) -> object:
    """``depth`` arrays and objects inside each other (alternating), ``leaf`` inside."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def deep_text(depth: int) -> str:
    """A nested body as text, without Python's recursion (json.dumps would hit it)."""
    return '{"k":' * depth + "1" + "}" * depth


# --- the checks themselves ------------------------------------------------------------


def test_depth_is_counted_in_arrays_and_objects():
    json_check(nested(32), max_depth=32)
    with pytest.raises(JSONRefused, match="deeper than 32"):
        json_check(nested(33), max_depth=32)
    json_check({"a": "b" * 10_000, "list": list(range(10_000))}, max_depth=2)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ("\ud800", "body"),
        ({"notes": "ok \udfff"}, "notes"),
        ({"lead": {"name": "Ana \ud83d"}}, "lead.name"),
        ({"include": [1, 2, "x\udc00"]}, "include[2]"),
        (
            {"unitItems": [{"contact": {"emailAddress": "\ud800@x.org"}}]},
            "unitItems[0].contact.emailAddress",
        ),
    ],
)
def test_lone_surrogates_are_refused_naming_where(data, where):
    with pytest.raises(JSONRefused) as exc:
        json_check(data, max_depth=32)
    assert exc.value.field == where
    assert exc.value.message.startswith(where) and "lone surrogate" in exc.value.message


def test_a_lone_surrogate_in_a_key_is_refused():
    with pytest.raises(JSONRefused, match="key with a lone surrogate"):
        json_check({"lead": {"n\ud800": "Ana"}}, max_depth=32)


def test_paired_surrogates_are_text():
    """An astral character written as a JSON surrogate pair is fine (it decodes to
    one character)."""
    json_check(json.loads('{"name": "Ana \\ud83d\\ude00"}'), max_depth=32)


# --- /api/v1/ ------------------------------------------------------------------------

PLANS = "/api/v1/plans/"
WEBHOOKS = "/api/v1/webhooks/"


@pytest.fixture(autouse=True)
def _no_throttle_carry_over():
    """The plan endpoint is rate-limited: start and end with no history."""
    throttle_reset()
    yield
    throttle_reset()


@pytest.fixture
def key(db) -> str:
    _agency, new = agency_create(name="Limits agency")
    return new.key


def post(client, path: str, raw: str | bytes, key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(path, raw, content_type="application/json", headers=headers)


def refused(response, status: int, field: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body["errors"]) == [field] and body["detail"]
    return body["detail"]


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_nesting_is_a_400_naming_the_limit(client, key, depth):
    for path, api_key in ((PLANS, None), (WEBHOOKS, key)):
        detail = refused(post(client, path, deep_text(depth), api_key), 400, "body")
        assert "deeper than 32 levels" in detail
    assert not TripPlan.objects.exists()


def test_nesting_within_the_limit_reaches_the_view(client, key):
    """32 levels parse; the view then judges the content (a field error)."""
    response = post(client, WEBHOOKS, json.dumps({"url": nested(31)}), key)
    assert refused(response, 400, "url")


def test_the_depth_limit_follows_the_setting(client, key, settings):
    settings.API_MAX_JSON_DEPTH = 3
    detail = refused(post(client, WEBHOOKS, deep_text(4), key), 400, "body")
    assert "deeper than 3 levels" in detail


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"origin": "cusco\\ud800"}', "origin"),
        ('{"origin": "cusco", "interests": {"food": 3, "x\\udfff": 1}}', "interests"),
        ('{"exclude": [1, "\\udc00"]}', "exclude[1]"),
    ],
)
def test_lone_surrogates_are_a_400_naming_the_field(client, body, field):
    detail = refused(post(client, PLANS, body), 400, field)
    assert "lone surrogate" in detail
    assert not TripPlan.objects.exists()


def test_a_lone_surrogate_in_a_webhook_url_is_refused(client, key):
    response = post(client, WEBHOOKS, '{"url": "https://example.org/\\ud800"}', key)
    assert "lone surrogate" in refused(response, 400, "url")
    assert not WebhookEndpoint.objects.exists()


def test_body_over_the_limit_is_a_413_in_json(client, key, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    raw = json.dumps({"url": "https://example.org/" + "a" * 10_000})
    detail = refused(post(client, WEBHOOKS, raw, key), 413, "body")
    assert "10000 bytes" in detail


def test_body_over_djangos_own_limit_is_a_413_in_json(client):
    """~3 MB: Django refuses it before the parser (RequestDataTooBig); still JSON."""
    raw = json.dumps({"notes": "x" * 3_000_000})
    detail = refused(post(client, PLANS, raw), 413, "body")
    assert "1000000 bytes" in detail


def test_djangos_own_400_and_413_are_json_under_the_apis(rf):
    """What Django answers itself (handler400: a bad Host header, a body over its
    limit read outside a DRF view) comes in each API's JSON shape."""
    response = rf_bad_request(rf, "/api/v1/places/", RequestDataTooBig())
    assert response.status_code == 413
    assert json.loads(response.content)["errors"] == {
        "body": ["The body is larger than 1000000 bytes."]
    }
    response = rf_bad_request(rf, "/api/octo/bookings", RequestDataTooBig())
    assert response.status_code == 413
    assert json.loads(response.content)["error"] == "BAD_REQUEST"
    response = rf_bad_request(rf, "/plan/", RequestDataTooBig())
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def rf_bad_request(rf, path: str, exception: Exception):
    return error_pages.bad_request(rf.post(path), exception)


def test_a_bad_host_under_the_api_is_a_json_400(client):
    response = client.get("/api/v1/places/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Bad request.",
        "errors": {"non_field_errors": ["Bad request."]},
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope/",
        "/api/v1/plans/not-a-uuid/",
        "/api/v1/plans/00000000-0000-0000-0000-000000000000/nope",
        "/api/v1/webhooks/abc/",
        "/api/v1/",
    ],
)
def test_every_404_under_api_v1_is_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "errors": {}}


def test_404_json_follows_the_language(client):
    response = client.get("/api/v1/nope/", headers={"Accept-Language": "es"})
    assert response.json()["detail"] == "No encontrado."


def test_limit_messages_are_in_spanish_too(client):
    response = client.post(
        PLANS,
        '{"origin": "\\ud800"}',
        content_type="application/json",
        headers={"Accept-Language": "es"},
    )
    assert response.json()["errors"]["origin"] == [
        "origin contiene un sustituto UTF-16 aislado (U+D800): no es texto válido."
    ]


def test_pages_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def _api_views(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is not None and issubclass(view, APIView):
                yield route, view


def test_every_api_view_parses_json_with_the_limits():
    """Every DRF view under /api/v1/ and /api/octo/ parses bodies with the limited
    parser only (no other parser could let a body past the checks)."""
    views = [
        (route, view)
        for route, view in _api_views(get_resolver().url_patterns)
        if route.startswith(("api/v1/", "api/octo/", "^api/octo/"))
    ]
    assert len(views) >= 15
    for route, view in views:
        parsers = view().get_parsers()
        assert parsers and all(type(p) is LimitedJSONParser for p in parsers), route
