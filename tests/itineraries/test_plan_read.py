"""A solved plan read back over HTTP: its shape, times and offsets, the border's
clock change, Spanish, 404s, random ids, and re-plan requests that are refused.

The route, the offers and one solved 6-day Cusco → La Paz plan are made once for
the module (in a transaction rolled back at its end); the plan is solved by running
the queued on-commit task, then read with GET like a traveller polling for it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, TestCase, override_settings

from catalogue.models import Place
from itineraries.models import TripPlan
from providers.models import Listing
from tests.itineraries.checks import (
    OFFSET,
    all_steps,
    assert_plan_shape,
    aware,
    countries,
)
from tests.itineraries.conftest import seed_route
from tests.itineraries.factories import future_start, make_route_offers

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"
BODY = {
    "origin": "cusco",
    "destination": "la-paz",
    "days": 6,
    "adults": 2,
    "nationality": "CL",
    "interests": {"textiles": 5, "lake": 3},
}


# The secret of each plan made here (POST shows it once; reads send it).
SECRETS: dict[str, str] = {}


def post(client: Client, path: str, body: Any, plan_id: str = ""):
    secret = {"HTTP_X_PLAN_SECRET": SECRETS[plan_id]} if plan_id in SECRETS else {}
    return client.post(path, body, content_type="application/json", **secret)


def get(client: Client, plan_id: str, **headers):
    secret = SECRETS.get(plan_id, "")
    return client.get(f"{PLANS}{plan_id}/", HTTP_X_PLAN_SECRET=secret, **headers)


def create_solved(client: Client, body: dict[str, Any]) -> str:
    """POST (202: inside a test transaction the solve waits for the commit), then
    run the queued on-commit task, as the commit would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post(client, PLANS, body)
    assert response.status_code == 202, response.content
    SECRETS[response.json()["id"]] = response.json()["secret"]
    return response.json()["id"]


@pytest.fixture(scope="module")
def world(module_transaction, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Route, offers and the solved plan. Module fixtures run before the autouse
    per-test settings (tests/conftest.py), so the few that matter to a request here
    are set the same way: no HTTPS redirect, a static folder, eager Celery."""
    from tourism.celery_app import app

    seed_route()
    offers = make_route_offers()
    body = {**BODY, "start_date": future_start().isoformat()}
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with override_settings(
            SECURE_SSL_REDIRECT=False, STATIC_ROOT=tmp_path_factory.mktemp("static")
        ):
            plan_id = create_solved(Client(), body)
    finally:
        app.conf.task_always_eager = eager
    yield {"offers": offers, "plan_id": plan_id}


@pytest.fixture
def plan(world, db, client) -> dict[str, Any]:
    response = get(client, world["plan_id"])
    assert response.status_code == 200
    return response.json()


def activity_steps(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in all_steps(plan) if s["kind"] == "activity" and s["listing"]]


# --- shape ---------------------------------------------------------------------------


def test_solved_plan_has_the_documented_shape(plan):
    """A day per calendar day, each {date, night, steps}; the last night null;
    nights {place, altitude_m, stay}; steps with id, kind, title, offset-aware
    start/end in the place's zone, listing, departure, price; totals, explanation
    and warnings."""
    assert plan["status"] == "solved"
    assert_plan_shape(plan, days=6, start_date=future_start())
    assert plan["request"]["interests"] == BODY["interests"]
    assert "seed" not in plan["request"]
    first_ride = next(s for s in all_steps(plan) if s["kind"] == "transport")
    last_ride = [s for s in all_steps(plan) if s["kind"] == "transport"][-1]
    assert first_ride["from"] == "cusco"
    assert last_ride["to"] == "la-paz"
    for day, after in zip(plan["days"][:-1], plan["days"][1:], strict=True):
        if day["night"] is None or day["night"]["place"] is None:
            # A night on the road: the day ends on a ride that arrives the next day.
            last = day["steps"][-1]
            assert last["kind"] == "transport", last
            assert last["end"][:10] == after["date"], last
            continue
        assert day["night"]["place"] is not None
        assert day["night"]["stay"] is not None
    totals = plan["totals"]
    assert totals["currency"] == "PEN" and totals["persons"] == 2
    assert set(totals["in"]) == {"PEN", "BOB", "USD"}


def test_the_border_step_moves_clocks_one_hour_forward(plan):
    """Peru → Bolivia: the border step starts at −05:00 and ends at −04:00, between
    the two halves of the same bus run."""
    zone_of = countries()
    crossings = [
        step
        for step in all_steps(plan)
        if step["kind"] == "border"
        and zone_of[step["from"]] == "PE"
        and zone_of[step["to"]] == "BO"
    ]
    assert len(crossings) == 1, [s["title"] for s in all_steps(plan)]
    border = crossings[0]
    start, end = aware(border["start"]), aware(border["end"])
    assert start.utcoffset() == OFFSET["PE"] == dt.timedelta(hours=-5)
    assert end.utcoffset() == OFFSET["BO"] == dt.timedelta(hours=-4)
    assert border["clock_change_h"] == 1
    assert end > start
    steps = next(d["steps"] for d in plan["days"] if border in d["steps"])
    at = steps.index(border)
    before, after = steps[at - 1], steps[at + 1]
    assert before["kind"] == after["kind"] == "transport"
    assert before["to"] == border["from"] and after["from"] == border["to"]
    assert before["departure"] == border["departure"] == after["departure"]
    assert before["end"] == border["start"] and after["start"] == border["end"]
    assert any("+1 h" in sentence for sentence in plan["explanation"])


def test_steps_are_in_time_order_within_each_day(plan):
    """Compared as aware datetimes (the offsets differ across the border)."""
    for day in plan["days"]:
        starts = [aware(step["start"]) for step in day["steps"]]
        assert starts == sorted(starts), day["date"]
        for step in day["steps"]:
            assert aware(step["start"]) <= aware(step["end"]), step


def test_plan_uses_the_bookable_offers(plan, world):
    """Stays and experiences are the providers' listings, at the party's price."""
    ours = {listing.pk for group in world["offers"].values() for listing in group}
    used = {s["listing"] for s in all_steps(plan) if s["kind"] in ("activity", "stay")}
    assert used and used <= ours
    assert activity_steps(plan)
    for step in activity_steps(plan):
        listing = Listing.objects.get(pk=step["listing"])
        assert step["title"] == listing.title_en
        # Two adults at 50.00 each (the factory's adult unit).
        assert step["price"] == {"amount": "100.00", "currency": listing.currency}


def test_one_day_plan_has_no_night_and_no_empty_sentences(client, world):
    """Cusco → Puno in a day: one day, its night null, and no sentence left with
    nothing in it (a night summary without nights reads "Nights: .")."""
    body = {**BODY, "destination": "puno", "days": 1}
    plan_id = create_solved(client, {**body, "start_date": future_start().isoformat()})
    plan = get(client, plan_id).json()
    assert_plan_shape(plan, days=1, start_date=future_start())
    assert plan["days"][0]["night"] is None
    assert "Nights: ." not in plan["explanation"], plan["explanation"]


# --- reading ---------------------------------------------------------------------


def test_get_is_stable(client, plan):
    assert get(client, plan["id"]).json() == plan


def test_get_unknown_plan_is_a_json_404(client, world):
    response = client.get(f"{PLANS}{uuid.uuid4()}/")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["detail"] and "id" in body["errors"]


@pytest.mark.parametrize("path", ["12/", "not-a-uuid/", "../places/x/", "%00/"])
def test_get_with_a_non_uuid_is_404(client, world, path):
    assert client.get(f"{PLANS}{path}").status_code == 404


def test_plan_ids_are_random_and_not_enumerable(client, world, plan):
    """Two identical requests get unrelated random (version 4) UUIDs and secrets;
    any other UUID, however close to a real one, finds nothing, and a real id
    without its plan's secret finds nothing either."""
    body = {**BODY, "start_date": future_start().isoformat()}
    first, second = post(client, PLANS, body), post(client, PLANS, body)
    assert first.status_code == second.status_code == 202
    ids = [uuid.UUID(r.json()["id"]) for r in (first, second)] + [uuid.UUID(plan["id"])]
    assert len(set(ids)) == 3
    assert all(i.version == 4 for i in ids)
    assert first.json()["secret"] != second.json()["secret"]
    for known in ids:
        assert client.get(f"{PLANS}{known}/").status_code == 404
        for probe in (uuid.UUID(int=known.int ^ 1), uuid.UUID(int=known.int + 1)):
            assert client.get(f"{PLANS}{probe}/").status_code == 404
    wrong = {"HTTP_X_PLAN_SECRET": second.json()["secret"]}
    assert client.get(f"{PLANS}{first.json()['id']}/", **wrong).status_code == 404
    assert client.get(f"{PLANS}{uuid.uuid4()}/").status_code == 404


# --- Spanish ---------------------------------------------------------------------


def test_plan_in_spanish(client, plan):
    """Accept-Language: es gives Spanish step titles (listings' title_es, places'
    name_es) and Spanish sentences; the same plan reads in English otherwise."""
    response = get(client, plan["id"], HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    spanish = response.json()
    assert spanish["id"] == plan["id"]
    assert_plan_shape(spanish, days=6, start_date=future_start())
    steps = all_steps(spanish)
    assert [s["id"] for s in steps] == [s["id"] for s in all_steps(plan)]
    for step in steps:
        if step["kind"] in ("activity", "stay") and step["listing"]:
            assert step["title"] == Listing.objects.get(pk=step["listing"]).title_es
        if step["kind"] == "free":
            assert step["title"] == "Tiempo libre"
    for day in spanish["days"][:-1]:
        stay = (day["night"] or {}).get("stay")
        if stay and stay["listing"]:  # not on a night on the road
            assert stay["title"] == Listing.objects.get(pk=stay["listing"]).title_es
    kasani = next(
        s for s in steps if s["kind"] == "border" and s["from"] == "kasani-pe"
    )
    assert kasani["title"].startswith("Cruce ")
    assert "hora de Perú" in kasani["title"]
    assert "El reloj cambia +1 h" in kasani["title"]
    la_paz = Place.objects.get(slug="la-paz")
    assert la_paz.name_es == "La Paz (Nuestra Señora de La Paz)"
    rides = [s["title"] for s in steps if s["kind"] == "transport"]
    assert any(f"→ {la_paz.name_es}" in title for title in rides), rides
    assert spanish["explanation"][0].startswith("Noches: "), spanish["explanation"]
    assert "noches)" in spanish["explanation"][0]
    assert any("hora de Perú" in s for s in spanish["explanation"])
    assert plan["explanation"][0].startswith("Nights: ")
    assert spanish["explanation"] != plan["explanation"]


# --- re-plan requests refused -----------------------------------------------------


def replan_path(plan_id: str) -> str:
    return f"{PLANS}{plan_id}/replan"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"keep": ["nope"]}, "keep"),
        ({"drop": ["99.99"]}, "drop"),
        ({"keep": "1.1"}, "keep"),
        ({"drop": [{"id": "1.1"}]}, "drop"),
        ({"keep": ["x" * 17]}, "keep"),
    ],
    ids=["keep-unknown", "drop-unknown", "keep-string", "drop-object", "keep-long"],
)
def test_replan_with_unknown_steps_is_400(client, plan, body, field):
    response = post(client, replan_path(plan["id"]), plan_id=plan["id"], body=body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not TripPlan.objects.filter(parent_id=plan["id"]).exists()


def test_replan_keeping_and_dropping_one_step_is_400(client, plan):
    step = activity_steps(plan)[0]["id"]
    response = post(
        client,
        replan_path(plan["id"]),
        plan_id=plan["id"],
        body={"keep": [step], "drop": [step]},
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert {"keep", "drop"} & set(errors), errors
    assert not TripPlan.objects.filter(parent_id=plan["id"]).exists()


def test_replan_of_free_time_is_400(client, plan):
    free = next(s for s in all_steps(plan) if s["kind"] == "free")
    response = post(
        client, replan_path(plan["id"]), plan_id=plan["id"], body={"drop": [free["id"]]}
    )
    assert response.status_code == 400
    assert "drop" in response.json()["errors"]


def test_replan_of_an_unknown_plan_is_404(client, world):
    response = post(client, replan_path(str(uuid.uuid4())), {"drop": ["1.1"]})
    assert response.status_code == 404
    assert "id" in response.json()["errors"]


def test_replan_of_an_infeasible_plan_is_400(client, world):
    body = {**BODY, "arrival": "flight", "days": 2}
    plan_id = create_solved(client, {**body, "start_date": future_start().isoformat()})
    assert get(client, plan_id).json()["status"] == "infeasible"
    response = post(client, replan_path(plan_id), {"drop": ["1.1"]}, plan_id)
    assert response.status_code == 400
    assert "id" in response.json()["errors"]
