"""Bad plan requests: 400 with the JSON error shape naming the field at fault, and
no request body, however odd, makes the API fail with a 500."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from itineraries.models import TripPlan
from providers.models import Listing
from tests.itineraries.conftest import seed_route, throttle_reset
from tests.itineraries.factories import future_start
from tests.providers.factories import make_listing, make_provider

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"


def valid_body() -> dict[str, Any]:
    return {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": future_start().isoformat(),
        "days": 6,
        "nationality": "PE",
    }


def post_json(client, body: Any):
    return client.post(PLANS, json.dumps(body), content_type="application/json")


def assert_error_shape(response, field: str) -> dict[str, list[str]]:
    assert response.status_code == 400, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert field in body["errors"], body
    messages = body["errors"][field]
    assert isinstance(messages, list) and messages
    assert all(isinstance(m, str) and m for m in messages), messages
    return body["errors"]


@pytest.fixture(scope="module")
def _seeded(module_transaction) -> None:
    seed_route()


@pytest.fixture
def route(_seeded, db) -> None:
    """The route, seeded once for the module (these tests only read it)."""


@pytest.fixture
def stay(route):
    return make_listing(make_provider(place="puno"), kind=Listing.Kind.STAY)


def _past() -> str:
    return (timezone.localdate() - dt.timedelta(days=30)).isoformat()


def _too_far() -> str:
    return (timezone.localdate() + dt.timedelta(days=400)).isoformat()


BAD_FIELDS = [
    ("origin not a hub", {"origin": "juliaca"}, "origin"),
    ("origin unknown", {"origin": "atlantis"}, "origin"),
    ("origin not a slug", {"origin": "Cusco city!"}, "origin"),
    ("origin missing", {"origin": None}, "origin"),
    ("destination unknown", {"destination": "lima"}, "destination"),
    ("destination = origin", {"destination": "cusco"}, "destination"),
    ("start_date malformed", {"start_date": "2026-13-45"}, "start_date"),
    ("start_date words", {"start_date": "next friday"}, "start_date"),
    ("start_date past", {"start_date": _past}, "start_date"),
    ("start_date too far", {"start_date": _too_far}, "start_date"),
    ("days 0", {"days": 0}, "days"),
    ("days 99", {"days": 99}, "days"),
    ("days x", {"days": "x"}, "days"),
    ("days 2.5", {"days": 2.5}, "days"),
    ("adults 0", {"adults": 0}, "adults"),
    ("children -1", {"children": -1}, "children"),
    ("too many travellers", {"adults": 15, "children": 10}, "children"),
    ("nationality Germany", {"nationality": "Germany"}, "nationality"),
    ("nationality digits", {"nationality": "D1"}, "nationality"),
    ("arrival boat", {"arrival": "boat"}, "arrival"),
    ("budget -5", {"budget": {"amount": "-5", "currency": "PEN"}}, "budget"),
    ("budget abc", {"budget": {"amount": "abc", "currency": "PEN"}}, "budget"),
    ("budget decimals", {"budget": {"amount": "10.123", "currency": "PEN"}}, "budget"),
    ("budget EUR", {"budget": {"amount": "100", "currency": "EUR"}}, "budget"),
    ("budget no amount", {"budget": {"currency": "BOB"}}, "budget"),
    ("budget a number", {"budget": 100}, "budget"),
    ("interest unknown", {"interests": {"dancing": 3}}, "interests"),
    ("interest 7", {"interests": {"food": 7}}, "interests"),
    ("interest -1", {"interests": {"food": -1}}, "interests"),
    ("interests a list", {"interests": ["food"]}, "interests"),
    ("pace fast", {"pace": "fast"}, "pace"),
    ("include unknown id", {"include": [999999]}, "include"),
    ("include huge id", {"include": [10**20]}, "include"),
    ("include not ids", {"include": ["x"]}, "include"),
    ("include 0", {"include": [0]}, "include"),
    ("exclude a string", {"exclude": "12"}, "exclude"),
]


@pytest.mark.parametrize(
    ("changes", "field"),
    [pytest.param(c, f, id=name) for name, c, f in BAD_FIELDS],
)
def test_bad_field_is_400_naming_it(client, route, changes, field):
    body = valid_body()
    body.update({k: v() if callable(v) else v for k, v in changes.items()})
    assert_error_shape(post_json(client, body), field)
    assert not TripPlan.objects.exists()


@pytest.mark.parametrize(
    "budget",
    [
        {"amount": "-5", "currency": "PEN"},
        {"amount": "abc", "currency": "PEN"},
        {"amount": "10.123", "currency": "PEN"},
        {"amount": "100", "currency": "EUR"},
    ],
    ids=["negative", "not-a-number", "decimals", "EUR"],
)
def test_budget_errors_read_as_sentences(client, route, budget):
    """The messages under ``budget`` are sentences for the traveller, not the repr
    of DRF's nested error dict ("{'amount': [ErrorDetail(string=…)]}")."""
    errors = assert_error_shape(
        post_json(client, {**valid_body(), "budget": budget}), "budget"
    )
    for message in errors["budget"]:
        assert "ErrorDetail" not in message and not message.startswith("{"), message


def test_missing_fields_are_all_named(client, route):
    errors = assert_error_shape(post_json(client, {}), "origin")
    assert {"origin", "destination", "start_date", "days", "nationality"} <= set(errors)


def test_include_and_exclude_overlapping_is_400(client, stay):
    body = {**valid_body(), "include": [stay.pk], "exclude": [stay.pk, 5]}
    response = post_json(client, body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"include", "exclude"} & set(errors), errors
    assert str(stay.pk) in " ".join(errors.get("exclude", errors.get("include")))


def test_include_of_a_listing_not_bookable_is_400(client, stay):
    """A listing of a provider not approved cannot be a must-see."""
    pending = make_listing(
        make_provider(place="puno", status="pending"), kind=Listing.Kind.ACTIVITY
    )
    response = post_json(client, {**valid_body(), "include": [stay.pk, pending.pk]})
    errors = assert_error_shape(response, "include")
    assert str(pending.pk) in errors["include"][0]


@pytest.mark.parametrize(
    "raw",
    ["{not json", '{"origin": "cusco",}', "", "NaN", '{"days": NaN}'],
    ids=["broken", "trailing-comma", "empty", "nan", "nan-inside"],
)
def test_body_that_is_not_json_is_400(client, route, raw):
    response = client.post(PLANS, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] and isinstance(body["errors"], dict)


@pytest.mark.parametrize("body", [[valid_body()], "cusco", 6, None, True])
def test_body_that_is_not_an_object_is_400(client, route, body):
    response = post_json(client, body)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] and isinstance(body["errors"], dict)
    assert "non_field_errors" in body["errors"], body


def test_valid_request_is_accepted(client, route):
    """The baseline the bad cases vary: inside the test's transaction the solve is
    only queued (on commit), so POST answers 202 with the id."""
    response = post_json(client, valid_body())
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    assert TripPlan.objects.filter(pk=response.json()["id"]).exists()


# --- generated bodies -----------------------------------------------------------

_junk_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["", "NaN", "Infinity", "1e9", "0x10", "2026-02-30", "null"]),
)
_junk = st.recursive(
    _junk_scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=8,
)
_hub = st.sampled_from(["cusco", "puno", "copacabana", "la-paz", "juliaca", "PUNO"])
_today = timezone.localdate()
_date = st.dates(
    min_value=_today - dt.timedelta(days=5), max_value=_today + dt.timedelta(days=400)
).map(dt.date.isoformat)
_count = st.integers(min_value=-3, max_value=30)
_ids = st.lists(
    st.one_of(
        st.integers(min_value=-5, max_value=50),
        st.integers(min_value=2**62, max_value=2**70),
    ),
    max_size=4,
)
_amount = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
    st.integers(min_value=-10, max_value=10**15),
    st.sampled_from(["1", "0.5", "10.10", "1e3", "-0", "abc"]),
)
_budget = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "amount": _amount,
            "currency": st.sampled_from(["PEN", "BOB", "USD", "EUR", "pen", ""]),
        },
    ),
    st.none(),
)
_interests = st.dictionaries(
    st.sampled_from(["food", "lake", "textiles", "hiking", "dancing", ""]),
    st.one_of(st.integers(min_value=-2, max_value=8), _junk_scalar),
    max_size=4,
)
# Per field: values of the right type (valid or not), or anything at all.
FIELD_VALUES = {
    "origin": _hub,
    "destination": _hub,
    "start_date": _date,
    "days": _count,
    "adults": _count,
    "children": _count,
    "nationality": st.sampled_from(["PE", "bo", "Germany", "D1", "", "ZZ"]),
    "arrival": st.sampled_from(["overland", "flight", "boat", "FLIGHT"]),
    "budget": _budget,
    "interests": _interests,
    "pace": st.sampled_from(["relaxed", "normal", "packed", "fast", ""]),
    "include": _ids,
    "exclude": _ids,
}
FIELDS = list(FIELD_VALUES)


@st.composite
def _changes(draw) -> dict[str, Any]:
    """A few fields, each with a value of its type (valid or not) or anything."""
    fields = draw(st.sets(st.sampled_from(FIELDS), max_size=3))
    return {
        field: draw(st.one_of(FIELD_VALUES[field], FIELD_VALUES[field], _junk))
        for field in sorted(fields)
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    start_valid=st.sampled_from([True, True, True, False]),
    changes=_changes(),
    junk=st.dictionaries(st.text(max_size=10), _junk, max_size=2),
    removed=st.sets(st.sampled_from(FIELDS), max_size=2),
)
@example(start_valid=True, changes={"include": [2**64]}, junk={}, removed=set())
def test_no_generated_body_produces_a_500(route, start_valid, changes, junk, removed):
    """Generated JSON objects (a few of the right keys with right or wrong types and
    values, junk keys, missing keys) are accepted (201/202) or refused with the JSON
    error shape (400), never a 500."""
    throttle_reset()
    body = valid_body() if start_valid else {}
    body.update(junk)
    body.update(changes)
    for key in removed:
        body.pop(key, None)
    response = Client(raise_request_exception=False).post(
        PLANS, json.dumps(body), content_type="application/json"
    )
    assert response.status_code in (201, 202, 400), (body, response.content[:500])
    answer = response.json()
    if response.status_code == 400:
        assert answer["detail"] and isinstance(answer["errors"], dict), answer
        assert all(
            isinstance(messages, list) and all(isinstance(m, str) for m in messages)
            for messages in answer["errors"].values()
        ), answer
    else:
        assert answer["id"] and answer["status"] in ("queued", "solving", "solved")
