"""Schemathesis over the whole ``/api/v1/`` schema (the OpenAPI document
drf-spectacular serves at ``/api/schema/``): generated paths, query strings and bodies,
sent anonymously and with an agency's API key, never get a 500. (The OCTO API has its
own run over the OCTO document: tests/octo/test_fuzz.py.)"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from agencies.services import agency_create
from tests.itineraries.conftest import seed_route

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
)
JSON_TYPES = (dict, list, str, int, float, bool, type(None))


@pytest.fixture
def key(db) -> str:
    seed_route()
    _agency, new = agency_create(name="Fuzz agency")
    new.api_key.rate_per_minute = 1_000_000
    new.api_key.save()
    return new.key


def _path(case: Any) -> str:
    path = case.operation.path
    for name, value in (case.path_parameters or {}).items():
        path = path.replace(f"{{{name}}}", quote(str(value), safe=""))
    query = {
        k: v if isinstance(v, str) else json.dumps(v)
        for k, v in (case.query or {}).items()
    }
    return path + ("?" + urlencode(query) if query else "")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_500(case, key, settings):
    settings.PLAN_RATE_LIMIT = "1000000/min"
    method = case.method.upper()
    path = _path(case)
    body = case.body if isinstance(case.body, JSON_TYPES) else {}
    data = json.dumps(body) if method not in ("GET", "DELETE") else None
    # Even examples go with the agency's key, odd ones anonymously.
    headers = {}
    if len(path) % 2 == 0:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    client = Client()
    response = client.generic(
        method, path, data or "", content_type="application/json", **headers
    )
    assert response.status_code < 500, (method, path, body, response.content[:500])
