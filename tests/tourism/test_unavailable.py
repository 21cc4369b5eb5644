"""A dependency down answers 503 with Retry-After (JSON on the APIs, a bilingual
page on the website), never 500; what can do without the cache does. Outages are
real: Redis is a closed local port, the database an unreachable server (SQLite: a
file in a folder that does not exist; PostgreSQL: a closed local port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connections

from agencies.models import ApiKey
from agencies.services import agency_create
from tests.providers.factories import make_listing, make_provider

OCTO_HEADERS = {"HTTP_OCTO_CAPABILITIES": ""}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings) -> str:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "tourism.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return url


@pytest.fixture
def database_down() -> Iterator[None]:
    """New connections go to a server that is not there; the test database's own
    connection is set aside (an in-memory SQLite database lives as long as it)."""
    connection = connections["default"]
    connection.ensure_connection()
    saved, raw = dict(connection.settings_dict), connection.connection
    connection.connection = None
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-folder/db.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        if connection.connection is not None:
            connection.connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        connection.connection = raw


def assert_json_503(response, failed: str) -> dict:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) > 0
    return response.json()


@pytest.mark.django_db
def test_healthz_is_ok_without_redis_on_the_embedded_default(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_healthz_names_redis_when_it_is_down(client, redis_down):
    body = assert_json_503(client.get("/healthz"), "redis")
    assert body["failed"] == ["redis"]
    assert body["checks"]["database"] == "ok"
    assert "Connection" in body["checks"]["redis"]


@pytest.mark.django_db
def test_octo_falls_back_to_the_database_when_redis_is_down(
    client, small_catalogue, redis_down
):
    """API key and listings are read from the database, the rate limit fails open:
    agencies keep booking while Redis is down."""
    _agency, new_key = agency_create(name="Andes Travel")
    make_listing(make_provider(), title_en="Uros homestay")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {new_key.key}", **OCTO_HEADERS}
    for _ in range(3):
        response = client.get("/api/octo/products/", **auth)
        assert response.status_code == 200, response.content[:300]
    assert any(p["internalName"] == "Uros homestay" for p in response.json())
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.django_db
def test_the_plan_api_answers_503_json_when_its_rate_limit_cannot_be_read(
    client, redis_down
):
    response = client.post(
        "/api/v1/plans/", {"origin": "cusco"}, content_type="application/json"
    )
    body = assert_json_503(response, "redis")
    assert body["unavailable"] == ["redis"]


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_everywhere(client, database_down):
    body = assert_json_503(client.get("/healthz"), "database")
    assert body["failed"] == ["database"]

    body = assert_json_503(client.get("/api/v1/places/"), "database")
    assert body["unavailable"] == ["database"]

    octo = client.get(
        "/api/octo/supplier/", HTTP_AUTHORIZATION="Bearer tk_abc_def", **OCTO_HEADERS
    )
    body = assert_json_503(octo, "database")
    assert body["error"] == "INTERNAL_SERVER_ERROR" and body["errorMessage"]

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 503
    assert page["Content-Type"].startswith("text/html")
    assert int(page["Retry-After"]) > 0
    html = page.content.decode()
    assert "Volvemos enseguida" in html and "We will be right back" in html


def test_dependency_errors_are_recognised_through_their_causes():
    from django.db import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from tourism.unavailable import dependency_failed

    try:
        try:
            raise RedisConnectionError("down")
        except RedisConnectionError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert dependency_failed(wrapped) == "redis"
    assert dependency_failed(OperationalError("x")) == "database"
    assert dependency_failed(ValueError("x")) is None
