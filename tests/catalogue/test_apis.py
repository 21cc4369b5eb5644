"""The public read API under /api/v1/."""

import string

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue.models import Crossing
from catalogue.services import crossing_status_set

pytestmark = pytest.mark.django_db


def test_places_list_fields(client, small_catalogue):
    """Places carry slug, name, country, zone, altitude, coordinates and kind."""
    response = client.get("/api/v1/places/")
    assert response.status_code == 200
    puno = next(p for p in response.json() if p["slug"] == "puno")
    assert puno == {
        "slug": "puno",
        "name": "Puno",
        "country": "PE",
        "timezone": "America/Lima",
        "altitude_m": 3827,
        "latitude": -15.84003,
        "longitude": -70.02198,
        "kind": "city",
        "verified": True,
        "source": "test fixture",
    }


def test_places_in_spanish(client, small_catalogue):
    """Accept-Language: es gives Spanish names."""
    response = client.get("/api/v1/places/", headers={"accept-language": "es"})
    names = {p["slug"]: p["name"] for p in response.json()}
    assert names["kasani-pe"] == "Kasani (puesto peruano)"


def test_places_filter_and_bad_filter(client, small_catalogue):
    """?country=BO filters; an unknown kind is a 400 naming 'kind'."""
    bolivian = client.get("/api/v1/places/?country=BO").json()
    assert {p["country"] for p in bolivian} == {"BO"}
    response = client.get("/api/v1/places/?kind=volcano")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_border_crossings_with_local_hours_and_status(client, small_catalogue):
    """Each side's hours are in its own zone; status and since-when are shown."""
    crossing_status_set(
        crossing=Crossing.objects.get(slug="kasani"), status="disrupted", note="queues"
    )
    (kasani,) = client.get("/api/v1/border-crossings/").json()
    sides = {s["side"]: s for s in kasani["sides"]}
    assert (sides["a"]["opens"], sides["a"]["closes"]) == ("07:00", "20:00")
    assert sides["a"]["timezone"] == "America/Lima"
    assert (sides["b"]["opens"], sides["b"]["closes"]) == ("08:00", "21:00")
    assert sides["b"]["timezone"] == "America/La_Paz"
    assert kasani["status"] == "disrupted" and kasani["status_note"] == "queues"
    assert kasani["status_since"].endswith("Z")


def test_departures_carry_each_ends_offset(client, small_catalogue):
    """Puno → Copacabana: leaves at −05:00, arrives at −04:00, passes Kasani."""
    response = client.get("/api/v1/departures/?from=puno&to=copacabana&date=2026-03-02")
    assert response.status_code == 200
    first = response.json()[0]
    assert first["departure"] == "2026-03-02T07:30:00-05:00"
    assert first["arrival"] == "2026-03-02T12:00:00-04:00"
    assert first["mode"] == "bus" and first["operator"] == "Lake Bus"
    assert first["price"] == {
        "amount": "18.00",
        "currency": "PEN",
        "amount_minor": 1800,
    }
    assert first["crossing"]["slug"] == "kasani"
    assert first["crossing"]["arrive"] == "2026-03-02T10:00:00-05:00"
    assert first["crossing"]["passable"] is True
    late = response.json()[-1]
    assert late["crossing"]["passable"] is False and late["warnings"]


def test_departures_none_on_a_day_without_service(client, small_catalogue):
    """The train on a Tuesday: an empty list, not an error."""
    response = client.get("/api/v1/departures/?from=cusco&to=puno&date=2026-03-03")
    assert response.status_code == 200
    assert response.json() == []


def test_unknown_slug_is_404_naming_it(client, small_catalogue):
    """An unknown origin is a JSON 404 naming the field and the slug."""
    response = client.get("/api/v1/departures/?from=atlantis&to=puno&date=2026-03-02")
    assert response.status_code == 404
    body = response.json()
    assert "atlantis" in body["detail"] and "from" in body["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=puno&to=copacabana&date=2026-02-30", "date"),
        ("from=puno&to=copacabana&date=tomorrow", "date"),
        ("from=puno&to=copacabana", "date"),
        ("to=copacabana&date=2026-03-02", "from"),
        ("from=puno&date=2026-03-02", "to"),
        ("from=puno&to=copacabana&date=9999-12-31", "date"),
        ("from=pu%20no&to=copacabana&date=2026-03-02", "from"),
        ("from=puno&to=copacabana&date=2026-03-02&mode=rocket", "mode"),
    ],
)
def test_bad_departure_queries_are_400_naming_the_field(client, query, field):
    """Malformed or missing parameters give a 400 whose errors name the field."""
    response = client.get(f"/api/v1/departures/?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_schema_and_docs(client):
    """The OpenAPI schema and the browsable docs are served."""
    schema = client.get("/api/schema/", headers={"accept": "application/json"})
    assert schema.status_code == 200
    assert "/api/v1/departures/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
)
_slugish = st.sampled_from(["puno", "copacabana", "cusco", "", "PUNO", "x" * 70])
_dateish = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.text(alphabet=string.digits + "-", max_size=12),
    _text,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["from", "to", "date", "mode", "country", "kind", "x"]),
        st.one_of(_slugish, _dateish, _text),
        max_size=5,
    ),
    path=st.sampled_from(
        ["/api/v1/departures/", "/api/v1/places/", "/api/v1/border-crossings/"]
    ),
)
def test_no_query_string_produces_a_500(small_catalogue, params, path):
    """Generated query strings get 200, 400 or 404 with a JSON body, never a 500."""
    response = Client().get(path, params)
    assert response.status_code in (200, 400, 404), (params, response.content[:300])
    body = response.json()
    if response.status_code != 200:
        assert body["detail"] and isinstance(body["errors"], dict)
