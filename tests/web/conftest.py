"""Shared fixtures of the website tests: the real route catalogue and bookable
offers (from the plan tests' factories), and a plan made through the website."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase

from tests.itineraries.conftest import offers, route  # noqa: F401 (fixtures)
from tests.itineraries.factories import future_start


def plan_form_data(**changes) -> dict:
    """A valid plan form: Cusco → La Paz, 6 days, 2 adults from Chile."""
    data = {
        "origin": "cusco",
        "destination": "la-paz",
        "start_date": future_start().isoformat(),
        "days": "6",
        "adults": "2",
        "children": "0",
        "nationality": "CL",
        "arrival": "overland",
        "budget_amount": "",
        "budget_currency": "PEN",
        "pace": "normal",
        "interest_textiles": "5",
        "interest_lake": "3",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post_solved(client: Client, path: str, data: dict):
    """POST a form whose plan is solved on commit (Celery is eager in tests)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, data)


@pytest.fixture
def web_plan(client, offers):  # noqa: F811
    """A solved plan made through the plan form; returns its page URL."""
    response = post_solved(client, "/plan/", plan_form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]
