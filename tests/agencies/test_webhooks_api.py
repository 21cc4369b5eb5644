"""``/api/v1/webhooks/``: agencies register, list and delete their own webhooks with
their API key; URLs must be public http(s)."""

import pytest

from agencies.models import WebhookEndpoint
from agencies.webhooks import webhook_register

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def auth(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key.key}"}


def test_register_returns_the_secret_once_and_lists_without_it(
    client, agency_key, webhook_server
):
    agency, key = agency_key
    response = client.post(
        URL,
        {"url": webhook_server.url("/hooks")},
        content_type="application/json",
        **auth(key),
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["url"] == webhook_server.url("/hooks")
    assert created["is_active"] is True
    endpoint = WebhookEndpoint.objects.get(pk=created["id"], agency=agency)
    assert endpoint.secret == created["secret"]

    listed = client.get(URL, **auth(key))
    assert listed.status_code == 200
    (item,) = listed.json()
    assert item["id"] == created["id"] and "secret" not in item
    assert set(item) == {
        "id",
        "url",
        "is_active",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_at",
    }


@pytest.mark.parametrize(
    "url",
    ["not a url", "ftp://example.org/hooks", "javascript:alert(1)", "", "http://"],
)
def test_bad_urls_are_refused_naming_url(client, agency_key, url):
    _agency, key = agency_key
    response = client.post(
        URL, {"url": url}, content_type="application/json", **auth(key)
    )
    assert response.status_code == 400, response.content
    assert "url" in response.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "https://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://user:pw@example.org/hooks",
    ],
)
def test_private_addresses_are_refused_at_registration(
    client, agency_key, settings, url
):
    """Outside the test allow-list (emptied here) only public addresses are taken."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    _agency, key = agency_key
    response = client.post(
        URL, {"url": url}, content_type="application/json", **auth(key)
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body["errors"]) == ["url"]
    assert not WebhookEndpoint.objects.exists()


def test_same_url_twice_is_refused(client, agency_key, webhook_server):
    _agency, key = agency_key
    body = {"url": webhook_server.url("/hooks")}
    first = client.post(URL, body, content_type="application/json", **auth(key))
    second = client.post(URL, body, content_type="application/json", **auth(key))
    assert first.status_code == 201
    assert second.status_code == 400 and "url" in second.json()["errors"]


def test_an_agency_neither_sees_nor_deletes_another_agencys_webhooks(
    client, agency_key, other_agency_key, webhook_server
):
    agency_a, key_a = agency_key
    agency_b, key_b = other_agency_key
    mine = webhook_register(agency=agency_a, url=webhook_server.url("/a")).endpoint
    theirs = webhook_register(agency=agency_b, url=webhook_server.url("/b")).endpoint

    assert [w["id"] for w in client.get(URL, **auth(key_a)).json()] == [mine.pk]
    assert [w["id"] for w in client.get(URL, **auth(key_b)).json()] == [theirs.pk]

    refused = client.delete(f"{URL}{theirs.pk}/", **auth(key_a))
    assert refused.status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
    assert client.delete(f"{URL}{2**70}/", **auth(key_a)).status_code == 404

    deleted = client.delete(f"{URL}{mine.pk}/", **auth(key_a))
    assert deleted.status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=mine.pk).exists()
    assert client.get(URL, **auth(key_a)).json() == []


def test_an_api_key_is_required(client, admin_client, agency_key):
    """No key, a wrong key, or a staff session: refused."""
    assert client.get(URL).status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer tk_nope_nope").status_code == 401
    assert admin_client.get(URL).status_code == 401
    assert (
        client.post(
            URL, {"url": "https://example.org/"}, content_type="application/json"
        ).status_code
        == 401
    )
