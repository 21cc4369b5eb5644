"""A plan solved by a real Celery worker process through Redis (bin/test runs this
against real PostgreSQL and Redis; skipped without them)."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command

from itineraries.models import TripPlan
from tests.itineraries.checks import assert_plan_shape
from tests.itineraries.factories import future_start, make_route_offers

# transaction=True: the route, the offers and the plan are committed, so the worker
# (its own process and database connection) sees them, and the solve is queued at
# once (on_commit outside any transaction) instead of at the end of the test.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FINAL = {"solved", "infeasible", "failed"}


def poll(client, plan_id: str, secret: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/plans/{plan_id}/", HTTP_X_PLAN_SECRET=secret)
        assert response.status_code == 200, response.content
        plan = response.json()
        if plan["status"] in FINAL or time.monotonic() > deadline:
            return plan
        time.sleep(0.2)


def test_worker_solves_a_queued_plan(celery_worker, client):
    """POST answers 202 at once (Celery not eager); the worker solves the plan and
    GET then returns it, solved, a day per calendar day."""
    call_command("seed_route", stdout=StringIO())
    make_route_offers()
    body = {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": future_start().isoformat(),
        "days": 6,
        "nationality": "US",
    }
    response = client.post("/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 202, response.content
    queued = response.json()
    assert set(queued) == {"id", "status", "secret"}
    assert queued["status"] in ("queued", "solving")
    plan = poll(client, queued["id"], queued["secret"])
    stored = TripPlan.objects.get(pk=queued["id"])
    assert plan["status"] == "solved", (plan["status"], stored.error, plan)
    assert len(plan["days"]) == 6
    assert_plan_shape(plan, days=6, start_date=future_start())
    assert stored.started_at is not None and stored.finished_at is not None
    assert stored.started_at <= stored.finished_at
