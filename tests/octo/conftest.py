"""OCTO test client: every response of ``/api/octo/`` is validated with openapi-core
against the OCTO OpenAPI document kept in the repository (``octo/spec/``).

The document declares 200 and 400 responses only; it lists the UNAUTHORIZED and
FORBIDDEN bodies among its 400 schemas. Responses with other codes (401, 403, 404,
405, 415, 429) are therefore validated against the operation's 400 schema (or, for
``/capabilities/``, which declares none, against ``GET /supplier/``'s).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from django.test import Client
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from agencies.auth import ApiKeyRateThrottle
from agencies.models import Agency, ApiKey
from agencies.services import agency_create, api_key_create
from providers.models import Listing
from tests.providers.factories import make_listing, make_provider

SPEC = Path(__file__).resolve().parents[2] / "octo" / "spec" / "openapi.yaml"
SERVER = "http://localhost:8080"
BASE = "/api/octo"
ALL_CAPS = "octo/content, octo/pricing"

# Our paths (with or without the trailing slash) → the document's path templates.
_TEMPLATES = [
    (re.compile(r"^/supplier/?$"), "/supplier/"),
    (re.compile(r"^/capabilities/?$"), "/capabilities/"),
    (re.compile(r"^/products/?$"), "/products/"),
    (re.compile(r"^/products/(?P<id>[^/]+)/?$"), "/products/{id}"),
    (re.compile(r"^/availability/calendar/?$"), "/availability/calendar"),
    (re.compile(r"^/availability/?$"), "/availability/"),
    (re.compile(r"^/bookings/?$"), "/bookings/"),
    (
        re.compile(r"^/bookings/(?P<uuid>[^/]+)/(?P<action>confirm|extend|cancel)/?$"),
        "-",
    ),
    (re.compile(r"^/bookings/(?P<uuid>[^/]+)/?$"), "/bookings/{uuid}"),
]


@cache
def spec_document() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text())


def _null_allowed(node: Any) -> int:
    """The document writes nullable references as ``{nullable: true, allOf: [$ref]}``
    (``Booking.cancellation``, ``Booking.voucher``, ``UnitItem.ticket``, …) and its
    own examples give them ``null``; under OpenAPI 3.0.3's reading of ``nullable``
    the referenced schema still refuses null. Make that intent explicit (in memory
    only): such a schema is the reference *or* null. Returns how many were changed."""
    changed = 0
    if isinstance(node, dict):
        if node.get("nullable") is True and "allOf" in node:
            node["anyOf"] = [
                {"allOf": node.pop("allOf")},
                {"nullable": True, "enum": [None]},
            ]
            changed += 1
        for value in node.values():
            changed += _null_allowed(value)
    elif isinstance(node, list):
        for value in node:
            changed += _null_allowed(value)
    return changed


@cache
def openapi() -> OpenAPI:
    document = copy.deepcopy(spec_document())
    assert _null_allowed(document) > 0
    return OpenAPI.from_dict(document)


@dataclass
class SpecRequest:
    """openapi-core's Request protocol for a request we made."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes | None
    content_type: str = "application/json"
    host_url: str = SERVER
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.query),
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(),
        )


@dataclass
class SpecResponse:
    status_code: int
    data: bytes
    headers: Headers
    content_type: str = "application/json"


def spec_path(path: str) -> tuple[str, str]:
    """(the request path as the document writes it, the document's template)."""
    local = path.removeprefix(BASE)
    for pattern, template in _TEMPLATES:
        match = pattern.match(local)
        if match is None:
            continue
        if "action" in match.groupdict():
            return (
                f"/bookings/{match['uuid']}/{match['action']}",
                f"/bookings/{{uuid}}/{match['action']}",
            )
        concrete = template
        for name, value in match.groupdict().items():
            concrete = concrete.replace(f"{{{name}}}", value)
        return concrete, template
    raise AssertionError(f"{path} is not an OCTO path")


def validate(method: str, url: str, body: Any, response: Any) -> None:
    """Validate one response against the OCTO document (raises on any mismatch)."""
    parts = urlsplit(url)
    concrete, template = spec_path(parts.path)
    operation = spec_document()["paths"][template].get(method.lower())
    status = response.status_code
    assert response["Content-Type"].startswith("application/json"), response
    declared = operation["responses"] if operation else {}
    if str(status) not in declared:
        assert status >= 400, f"{status} undeclared for {method} {template}"
        if "400" not in declared:  # an undeclared method, or /capabilities/
            method, concrete = "get", "/supplier/"
        status = 400
    request = SpecRequest(
        method=method.lower(),
        path=BASE + concrete,
        query=dict(parse_qsl(parts.query)),
        headers={"Octo-Capabilities": ""},
        body=None if body is None else json.dumps(body).encode(),
    )
    headers = Headers(list(response.headers.items()))
    openapi().validate_response(
        request,
        SpecResponse(status_code=status, data=response.content, headers=headers),
    )


class OctoClient:
    """A Django test client speaking OCTO with one API key; checks every answer."""

    def __init__(self, key: str | None, *, caps: str = ALL_CAPS, language="en"):
        self.client = Client()
        self.key = key
        self.caps = caps
        self.language = language
        self.responses: list[Any] = []

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Octo-Capabilities": self.caps, "Accept-Language": self.language}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        return {**headers, **(extra or {})}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: str | None = None,
        content_type: str = "application/json",
    ) -> Any:
        url = BASE + path
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        call = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"headers": self.headers(headers)}
        if data is not None:
            kwargs.update(data=data, content_type=content_type)
        response = call(url, **kwargs)
        validate(method, url, body, response)
        self.responses.append(response)
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, {} if body is None else body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", path, {} if body is None else body, **kw)


def fresh_throttle(api_key: ApiKey) -> None:
    """Key ids come back after a rolled-back test (SQLite): start each key's
    request history empty."""
    ApiKeyRateThrottle.reset(api_key)


@dataclass
class AgencyKey:
    agency: Agency
    api_key: ApiKey
    key: str

    def client(self, **kw: Any) -> OctoClient:
        return OctoClient(self.key, **kw)


def make_agency(name: str, *, commission_bps: int = 1000) -> AgencyKey:
    agency, new = agency_create(name=name, commission_bps=commission_bps)
    fresh_throttle(new.api_key)
    return AgencyKey(agency=agency, api_key=new.api_key, key=new.key)


def extra_key(agency: Agency, **kw: Any) -> AgencyKey:
    new = api_key_create(agency=agency)
    for name, value in kw.items():
        setattr(new.api_key, name, value)
    new.api_key.save()
    fresh_throttle(new.api_key)
    return AgencyKey(agency=agency, api_key=new.api_key, key=new.key)


# A date far enough ahead for every cut-off, and one inside the cut-offs.
DAY = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=40)


@dataclass
class World:
    provider: Any
    stay: Listing
    tour: Listing
    bus: Listing
    agency_a: AgencyKey
    agency_b: AgencyKey


@pytest.fixture
def world(small_catalogue) -> World:
    """Puno (America/Lima, UTC−5): a homestay (OPENING_HOURS, capacity 6), a tour at
    07:30 and 14:00 (START_TIME, 120 min, capacity 10) and the Puno–Copacabana bus
    (departures 07:30, 14:30, 18:00); agencies A (10 % commission) and B (none)."""
    from catalogue.models import Departure

    provider = make_provider()
    stay = make_listing(
        provider,
        title_en="Amantaní homestay",
        title_es="Casa de familia en Amantaní",
        description_en="A night with a family.",
        description_es="Una noche con una familia.",
        cancellation_cutoff_hours=48,
    )
    tour = make_listing(
        provider,
        kind=Listing.Kind.ACTIVITY,
        title_en="Weaving workshop",
        title_es="Taller de tejido",
        start_times=["07:30", "14:00"],
        duration_min=120,
        default_capacity=10,
    )
    bus = make_listing(provider, kind=Listing.Kind.TRANSPORT, default_capacity=10)
    bus.departures.add(*Departure.objects.filter(leg__slug="puno-copacabana-bus"))
    return World(
        provider=provider,
        stay=stay,
        tour=tour,
        bus=bus,
        agency_a=make_agency("Agency A"),
        agency_b=make_agency("Agency B", commission_bps=0),
    )


def availability_id(day: dt.date, time: str = "00:00") -> str:
    """Puno's ids: local time with Peru's offset (no daylight saving)."""
    return f"{day.isoformat()}T{time}:00-05:00"


def reserve_body(listing: Listing, avail: str, units: list[str], **kw: Any) -> dict:
    return {
        "productId": str(listing.pk),
        "optionId": "DEFAULT",
        "availabilityId": avail,
        "unitItems": [{"unitId": u} for u in units],
        **kw,
    }
