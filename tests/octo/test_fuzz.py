"""Schemathesis run over every operation of the OCTO document: generated paths,
query strings, headers and bodies, sent with a valid API key, never get a 500, and
every answer still matches the document (checked by the client, see conftest).

Half the generated product ids are replaced by a real product's, so the run gets
past INVALID_PRODUCT_ID into availability and booking handling.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.octo.conftest import (
    DAY,
    AgencyKey,
    OctoClient,
    availability_id,
    extra_key,
    reserve_body,
    spec_document,
)

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(copy.deepcopy(spec_document()))
JSON_TYPES = (dict, list, str, int, float, bool, type(None))


def _real_ids(value: Any, world: Any, flip: bool) -> Any:
    """With ``flip``, point product, option, availability and units at real ones."""
    if not flip or not isinstance(value, dict):
        return value
    value = {**value, "productId": str(world.tour.pk), "optionId": "DEFAULT"}
    if "availabilityId" in value or "unitItems" in value:
        value["availabilityId"] = availability_id(DAY, "07:30")
    items = value.get("unitItems")
    if isinstance(items, list):
        value["unitItems"] = [
            {**item, "unitId": "adult"} if isinstance(item, dict) else item
            for item in items
        ]
    return value


@pytest.fixture
def fuzz_key(world) -> AgencyKey:
    """A key with room for the whole run (the default is 600 a minute)."""
    return extra_key(world.agency_a.agency, rate_per_minute=1_000_000)


@pytest.fixture
def held(world, fuzz_key) -> str:
    """A booking of the agency on hold, for the generated /bookings/{uuid} calls."""
    response = fuzz_key.client().post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"])
    )
    return response.json()["uuid"]


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_500(case, world, fuzz_key, held):
    method = case.method.upper()
    if method not in ("GET", "POST", "PATCH"):  # the document's methods only
        return
    sent = case.body if isinstance(case.body, JSON_TYPES) else {}
    flip = len(json.dumps(sent)) % 2 == 0
    body = _real_ids(sent, world, flip)
    path = case.operation.path
    for name, value in (case.path_parameters or {}).items():
        value = held if flip and name == "uuid" else str(value)
        path = path.replace(f"{{{name}}}", quote(value, safe=""))
    query = {k: v for k, v in (case.query or {}).items() if isinstance(v, str)}
    if query:
        path += "?" + urlencode(query)
    headers = {
        k: v
        for k, v in (case.headers or {}).items()
        if isinstance(v, str)
        and k.lower() not in ("authorization", "content-type")
        and v.isascii()
        and "\n" not in v
        and "\r" not in v
    }
    client = OctoClient(fuzz_key.key)
    if method == "GET":
        response = client.request(method, path, headers=headers)
    else:
        response = client.request(method, path, raw=json.dumps(body), headers=headers)
    assert response.status_code < 500, (method, path, body, response.content[:500])
