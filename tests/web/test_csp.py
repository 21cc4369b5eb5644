"""The website's, the admin's and the API docs' pages work under the
Content-Security-Policy (tests/support/csp.py); the browser side, with the booking
pages, is tests/browser/test_csp.py."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.support.csp import assert_page_under_csp

pytestmark = pytest.mark.django_db


def test_home_plan_form_and_itinerary(client, web_plan):
    for url in ("/", "/plan/", web_plan, "/plan/?days=abc"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_under_csp(response)


def test_admin_staff_dashboard_and_api_docs(client):
    for url in ("/admin/login/", "/api/docs/", "/no-such-page/"):
        assert_page_under_csp(client.get(url))
    staff = get_user_model().objects.create_user(
        username="csp@example.org", password="x", is_staff=True, is_superuser=True
    )
    client.force_login(staff)
    for url in (
        "/admin/",
        "/admin/catalogue/place/",
        "/admin/catalogue/routeleg/add/",
        "/admin/providers/listing/",
        "/staff/dashboard/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_under_csp(response)


def test_the_api_docs_script_is_a_file(client):
    """Swagger UI's start-up script is served on its own, as JavaScript."""
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in response.content
    assert b'"validatorUrl": null' in response.content
