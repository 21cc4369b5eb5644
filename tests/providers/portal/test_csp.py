"""Every portal page works under the Content-Security-Policy (tests/support/csp.py);
the browser side is tests/browser/test_csp.py."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.providers.portal import factories as f
from tests.providers.portal.test_pages import PAGES, PUBLIC_PAGES, _url
from tests.support.csp import assert_page_under_csp

pytestmark = pytest.mark.django_db


def test_every_portal_page_is_under_the_policy(tenant_a):
    client = f.logged_in(tenant_a.user)
    for template in PAGES:
        response = client.get(_url(template, tenant_a))
        assert response.status_code == 200, template
        assert_page_under_csp(response)
    for url in PUBLIC_PAGES:
        response = Client().get(url)
        assert response.status_code == 200, url
        assert_page_under_csp(response)


def test_each_response_has_its_own_nonce(tenant_a):
    client = f.logged_in(tenant_a.user)
    first = client.get("/provider/")["Content-Security-Policy"]
    second = client.get("/provider/")["Content-Security-Policy"]
    assert "'nonce-" in first and first != second
