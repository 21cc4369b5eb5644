"""The OCTO operations documented for agencies: the standard's document with this
supplier's address and specifics, browsable in Swagger UI, linked from /api/docs/."""

from __future__ import annotations

import pytest

from tests.web.test_csp import assert_page_under_csp

pytestmark = pytest.mark.django_db


def test_the_octo_document_names_this_server_and_its_specifics(client, settings):
    settings.HOLD_MAX_MINUTES = 720
    response = client.get("/api/octo/openapi.json")  # public, like /api/schema/
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [
        {"url": "http://testserver/api/octo", "description": "This server"}
    ]
    description = document["info"]["description"]
    facts = ("720", "600/min", "net", "utcCutoffAt", "PEN", "BOB", "403", "tk_test_")
    for fact in facts:
        assert fact in description, fact
    for path in ("/products/", "/availability/", "/bookings/{uuid}"):
        assert any(p.startswith(path) for p in document["paths"]), path


def test_swagger_ui_shows_it_and_the_main_docs_link_to_it(client):
    page = client.get("/api/octo/docs/")
    assert page.status_code == 200
    assert_page_under_csp(page)
    script = client.get("/api/octo/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/octo/openapi.json" in script.content
    main = client.get("/api/schema/", headers={"accept": "application/json"}).json()
    assert "/api/octo/docs/" in main["info"]["description"]
