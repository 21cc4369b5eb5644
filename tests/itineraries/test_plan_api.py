"""Creating plans over HTTP, end to end, on the real route (seed_route) with a few
bookable stays and experiences: a plan solved at once, no plan possible, re-plans.

These tests run without an enclosing transaction (``transaction=True``), as a request
does in production: ``plan_create`` queues the solve with ``transaction.on_commit``,
so the (eager) task runs before the response and POST answers 201 with the plan.
Reading a solved plan back is tested in ``test_plan_read``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from providers.models import Listing
from tests.itineraries.checks import all_steps, assert_plan_shape
from tests.itineraries.factories import future_start

pytestmark = pytest.mark.django_db(transaction=True)

PLANS = "/api/v1/plans/"


def plan_body(**changes: Any) -> dict[str, Any]:
    body = {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": future_start().isoformat(),
        "days": 6,
        "adults": 2,
        "nationality": "DE",
    }
    body.update(changes)
    return body


def post(client: Client, path: str, body: Any, **headers):
    return client.post(path, body, content_type="application/json", **headers)


def read(client: Client, plan: dict[str, Any], secret: str = "", **headers):
    """GET the plan with its secret (the X-Plan-Secret header): its answer."""
    response = client.get(
        f"{PLANS}{plan['id']}/", HTTP_X_PLAN_SECRET=secret or plan["secret"], **headers
    )
    assert response.status_code == 200, response.content
    return response.json()


def shown(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan as GET shows it: without the secret, which only the creation shows."""
    return {key: value for key, value in plan.items() if key != "secret"}


def activity_steps(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in all_steps(plan) if s["kind"] == "activity" and s["listing"]]


@pytest.fixture
def plan(client, offers) -> dict[str, Any]:
    """A solved 6-day Cusco → La Paz plan for two, as POST returned it."""
    response = post(client, PLANS, plan_body())
    assert response.status_code == 201, response.content
    return response.json()


def test_post_solves_a_six_day_plan_at_once(client, offers):
    """201 with the whole plan in the documented shape; GET returns the same."""
    response = post(client, PLANS, plan_body())
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["status"] == "solved"
    assert uuid.UUID(plan["id"]).version == 4
    assert len(plan["secret"]) >= 32
    assert plan["parent"] is None
    assert_plan_shape(plan, days=6, start_date=future_start())
    assert plan["request"] == {
        **plan_body(),
        "children": 0,
        "arrival": "overland",
        "budget": None,
        "interests": {},
        "pace": "normal",
        "include": [],
        "exclude": [],
        "via": "copacabana",
    }
    kinds = {step["kind"] for step in all_steps(plan)}
    assert {"transport", "border", "stay"} <= kinds
    assert kinds & {"activity", "sight"}
    # The route the service is named for: Kasani and Copacabana.
    assert plan["route"] == {"via": "copacabana", "crossing": "kasani"}
    assert "copacabana" in {step["to"] for step in all_steps(plan)}
    assert read(client, plan) == shown(plan)


def test_flying_in_for_two_days_is_infeasible(client, offers):
    """Two acclimatisation nights do not fit a 2-day trip flown into: 201 with
    status "infeasible", no days, and the reason."""
    response = post(client, PLANS, plan_body(arrival="flight", days=2))
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["status"] == "infeasible"
    assert plan["days"] == []
    assert any("two acclimatisation nights" in s for s in plan["explanation"]), plan
    spanish = read(client, plan, HTTP_ACCEPT_LANGUAGE="es")
    assert any("dos noches de aclimatación" in s for s in spanish["explanation"])


def test_a_budget_below_the_cheapest_plan_is_infeasible(client, offers):
    """1 PEN buys nothing: the explanation says what a plan costs at least."""
    response = post(client, PLANS, plan_body(budget={"amount": "1", "currency": "PEN"}))
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["status"] == "infeasible"
    assert plan["days"] == []
    assert any("costs at least" in s for s in plan["explanation"]), plan["explanation"]


def replan_path(plan_id: str) -> str:
    return f"{PLANS}{plan_id}/replan"


def replan(client: Client, plan: dict[str, Any], body: dict[str, Any]):
    return post(
        client, replan_path(plan["id"]), body, HTTP_X_PLAN_SECRET=plan["secret"]
    )


def test_replan_dropping_an_activity(client, plan):
    """201: a new solved plan whose parent is the first, without the experience;
    the first plan is left as it was. The re-plan keeps the plan's secret (it is
    not shown again)."""
    dropped = activity_steps(plan)[0]
    response = replan(client, plan, {"drop": [dropped["id"]]})
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["id"] != plan["id"]
    assert new["parent"] == plan["id"]
    assert_plan_shape(new, days=6, start_date=future_start())
    assert dropped["listing"] not in {s["listing"] for s in all_steps(new)}
    assert dropped["listing"] in new["request"]["exclude"]
    # Only that step changed: every night, ride and other visit is kept.
    nights = [(d["night"] or {}).get("place") for d in plan["days"]]
    assert [(d["night"] or {}).get("place") for d in new["days"]] == nights
    rides = [s["ride"] for s in all_steps(plan) if s.get("ride")]
    assert [s["ride"] for s in all_steps(new) if s.get("ride")] == rides
    visits = {
        s.get("listing") or s.get("sight")
        for s in all_steps(plan)
        if s["kind"] in ("activity", "sight") and s is not dropped
    }
    new_visits = {
        s.get("listing") or s.get("sight")
        for s in all_steps(new)
        if s["kind"] in ("activity", "sight")
    }
    assert visits <= new_visits
    assert not any("no longer fit" in line for line in new["explanation"])
    assert "secret" not in new
    assert read(client, new, plan["secret"]) == new
    assert read(client, plan) == shown(plan)


def test_replan_keeping_an_activity_and_the_border_bus(client, plan):
    """Kept steps come back: the experience, and the very same bus run."""
    kept = activity_steps(plan)[-1]
    bus = next(s for s in all_steps(plan) if s["kind"] == "border")
    response = replan(client, plan, {"keep": [kept["id"], bus["id"]]})
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["status"] == "solved", new["explanation"]
    assert new["parent"] == plan["id"]
    assert_plan_shape(new, days=6, start_date=future_start())
    assert kept["listing"] in {s["listing"] for s in activity_steps(new)}
    assert kept["listing"] in new["request"]["include"]
    assert bus["ride"] in {s.get("ride") for s in all_steps(new)}
    assert Listing.objects.filter(pk=kept["listing"]).exists()
