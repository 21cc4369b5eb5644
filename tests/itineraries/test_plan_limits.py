"""Who may use a plan, and how much, over the API.

- A plan is its owner's: the agency of the API key that made it, the signed-in
  traveller, or whoever holds its secret (X-Plan-Secret). Anyone else, another
  agency included, gets the 404 of an unknown id on read, re-plan, hold, confirm
  and cancel.
- Holds cost something to the holder: without an API key at most 20 minutes and
  one at a time per client; agencies within their contract.
- Rate limits per client (plans, holds) count the address our trusted proxies saw,
  not what the client writes in X-Forwarded-For; solver runs are limited for all
  clients together. Refusals are 429 JSON with Retry-After.
- An expired manage token is refused with 410, naming the header.

One solved 6-day plan is made for the module (in a transaction rolled back at its
end); tests hold copies of it, each opened by its own secret. Plans made here are
not solved (the solve waits for a commit that never comes): what counts is whether
they were made.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, TestCase
from django.utils import timezone

from agencies.services import agency_create
from itineraries import services
from itineraries.models import TripBooking, TripPlan
from itineraries.selectors import plan_secret_hash
from providers.models import Booking
from tests.itineraries.conftest import seed_route
from tests.itineraries.factories import future_start, make_route_offers

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"
TRIPS = "/api/v1/trip-bookings/"
REQUEST = {
    "origin": "cusco",
    "destination": "la-paz",
    "days": 6,
    "adults": 2,
    "children": 0,
    "nationality": "CL",
    "arrival": "overland",
    "budget": None,
    "interests": {"textiles": 5, "lake": 3},
    "pace": "normal",
    "include": [],
    "exclude": [],
}
BODY = {
    "origin": "cusco",
    "destination": "la-paz",
    "days": 6,
    "adults": 2,
    "nationality": "CL",
}


@pytest.fixture(scope="module")
def solved(module_transaction) -> Iterator[TripPlan]:
    from tourism.celery_app import app

    seed_route()
    make_route_offers()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            plan = services.plan_create(
                data={**REQUEST, "start_date": future_start().isoformat()},
                secret=services.plan_secret_new(),
            )
    finally:
        app.conf.task_always_eager = eager
    plan.refresh_from_db()
    assert plan.status == TripPlan.Status.SOLVED, plan.explanation
    yield plan


def copy_of(plan: TripPlan, **owner) -> tuple[TripPlan, str]:
    """A solved copy of ``plan`` with its own secret, owned as ``owner`` says."""
    secret = services.plan_secret_new()
    copy = TripPlan.objects.create(
        request=plan.request,
        status=TripPlan.Status.SOLVED,
        days=plan.days,
        secret_hash="" if owner.get("agency") else plan_secret_hash(secret),
        **owner,
    )
    return copy, secret


def post(client: Client, path: str, body: Any = None, **headers):
    return client.post(path, body or {}, content_type="application/json", **headers)


def agency_headers(name: str, **contract) -> tuple[Any, dict[str, str]]:
    agency, new_key = agency_create(name=name)
    for field, value in contract.items():
        setattr(agency, field, value)
    agency.save()
    return agency, {"HTTP_AUTHORIZATION": f"Bearer {new_key.key}"}


def secret_of(secret: str) -> dict[str, str]:
    return {"HTTP_X_PLAN_SECRET": secret}


def minutes_held(answer: dict[str, Any]) -> float:
    expires = dt.datetime.fromisoformat(answer["expires_at"])
    return (expires - timezone.now()).total_seconds() / 60


# --- Whose plan it is ---------------------------------------------------------------


def test_the_id_alone_opens_nothing(client, solved):
    """Without the plan's secret (or with another plan's) its id answers exactly
    as an unknown id does, on read, re-plan and hold; with it, all work."""
    plan, secret = copy_of(solved)
    _other, other_secret = copy_of(solved)
    unknown = client.get(f"{PLANS}{uuid.uuid4()}/")
    assert unknown.status_code == 404
    for headers in ({}, secret_of(other_secret), secret_of(""), secret_of("x" * 300)):
        read = client.get(f"{PLANS}{plan.pk}/", **headers)
        assert (read.status_code, read.json()) == (404, unknown.json()), headers
        replan = post(client, f"{PLANS}{plan.pk}/replan", {"drop": ["1.1"]}, **headers)
        assert replan.status_code == 404, headers
        hold = post(client, f"{PLANS}{plan.pk}/hold", **headers)
        assert hold.status_code == 404, headers
    assert not TripPlan.objects.filter(parent=plan).exists()
    assert not TripBooking.objects.exists()
    assert client.get(f"{PLANS}{plan.pk}/", **secret_of(secret)).status_code == 200
    bad_step = post(
        client, f"{PLANS}{plan.pk}/replan", {"drop": ["9.9"]}, **secret_of(secret)
    )
    assert bad_step.status_code == 400  # it got as far as the request's rules
    held = post(client, f"{PLANS}{plan.pk}/hold", **secret_of(secret))
    assert held.status_code == 201, held.content


def test_another_agency_gets_404_everywhere(client, solved):
    """Agency A's plan: agency B (and a visitor) get 404 on read, re-plan, hold,
    confirm and cancel, and nothing changes; A does it all."""
    agency_a, a = agency_headers("Agency A")
    _agency_b, b = agency_headers("Agency B")
    plan, _secret = copy_of(solved, agency=agency_a)
    for who in (b, {}):
        assert client.get(f"{PLANS}{plan.pk}/", **who).status_code == 404
        replan = post(client, f"{PLANS}{plan.pk}/replan", {"drop": ["1.1"]}, **who)
        assert replan.status_code == 404
        assert post(client, f"{PLANS}{plan.pk}/hold", **who).status_code == 404
    assert client.get(f"{PLANS}{plan.pk}/", **a).status_code == 200
    held = post(client, f"{PLANS}{plan.pk}/hold", **a)
    assert held.status_code == 201, held.content
    body = {"trip_booking": held.json()["id"], "lead": {"name": "Eve"}}
    for action in ("confirm", "cancel"):
        response = post(client, f"{PLANS}{plan.pk}/{action}", body, **b)
        assert response.status_code == 404, (action, response.content)
    trip = TripBooking.objects.get(pk=held.json()["id"])
    assert trip.status == TripBooking.Status.ON_HOLD and not trip.lead_name
    confirmed = post(client, f"{PLANS}{plan.pk}/confirm", body, **a)
    assert confirmed.status_code == 200, confirmed.content


def test_an_agencys_plan_and_re_plan_are_its_own(client, solved):
    """Made with A's key, a plan is A's alone from the start (no secret is
    given); so is its re-plan."""
    agency_a, a = agency_headers("Agency A2")
    _agency_b, b = agency_headers("Agency B2")
    made = post(client, PLANS, {**BODY, "start_date": future_start().isoformat()}, **a)
    assert made.status_code == 202, made.content
    assert "secret" not in made.json()
    plan = TripPlan.objects.get(pk=made.json()["id"])
    assert plan.agency == agency_a and not plan.secret_hash
    assert client.get(f"{PLANS}{plan.pk}/", **a).status_code == 200
    assert client.get(f"{PLANS}{plan.pk}/", **b).status_code == 404
    mine, _secret = copy_of(solved, agency=agency_a)
    step = next(s["id"] for d in mine.days for s in d["steps"] if s["kind"] == "stay")
    replanned = post(client, f"{PLANS}{mine.pk}/replan", {"drop": [step]}, **a)
    assert replanned.status_code == 202, replanned.content
    new = TripPlan.objects.get(pk=replanned.json()["id"])
    assert new.agency == agency_a and new.parent == mine
    assert client.get(f"{PLANS}{new.pk}/", **b).status_code == 404


def test_a_signed_in_travellers_plan_is_theirs(solved):
    users = get_user_model().objects
    rosa, juan = Client(), Client()
    rosa.force_login(users.create_user("rosa", "rosa@example.org", "x"))
    juan.force_login(users.create_user("juan", "juan@example.org", "x"))
    made = post(rosa, PLANS, {**BODY, "start_date": future_start().isoformat()})
    assert made.status_code == 202, made.content
    plan_id, secret = made.json()["id"], made.json()["secret"]
    assert rosa.get(f"{PLANS}{plan_id}/").status_code == 200
    assert juan.get(f"{PLANS}{plan_id}/").status_code == 404
    # Her link (the secret) opens it to whoever she gives it to.
    assert Client().get(f"{PLANS}{plan_id}/", **secret_of(secret)).status_code == 200


# --- Holds cost something to the holder ---------------------------------------------


def test_hold_minutes_1440_without_a_key_is_refused_naming_the_field(client, solved):
    plan, secret = copy_of(solved)
    response = post(
        client, f"{PLANS}{plan.pk}/hold", {"hold_minutes": 1440}, **secret_of(secret)
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {
        "hold_minutes": [
            "Hold between 1 and 20 minutes: holds without an agency API key last "
            "at most 20 minutes."
        ]
    }
    assert not Booking.objects.exists()
    held = post(client, f"{PLANS}{plan.pk}/hold", **secret_of(secret))
    assert held.status_code == 201
    assert 19 < minutes_held(held.json()) <= 20  # no length asked: the most allowed


def test_one_anonymous_hold_at_a_time_per_client(client, solved):
    """A keyless client holding one plan cannot hold another until that hold ends;
    told why (naming its trip when it shows that trip's manage token). Another
    client can."""
    first, first_secret = copy_of(solved)
    second, second_secret = copy_of(solved)
    held = post(client, f"{PLANS}{first.pk}/hold", **secret_of(first_secret))
    assert held.status_code == 201, held.content
    trip_id, token = held.json()["id"], held.json()["manage_token"]
    before = Booking.objects.count()
    again = post(client, f"{PLANS}{second.pk}/hold", **secret_of(second_secret))
    assert again.status_code == 409, again.content
    assert list(again.json()["errors"]) == ["id"]
    assert "one hold at a time" in again.json()["detail"]
    assert trip_id not in again.json()["detail"]  # not proven to be theirs
    named = post(
        client,
        f"{PLANS}{second.pk}/hold",
        HTTP_X_MANAGE_TOKEN=token,
        **secret_of(second_secret),
    )
    assert named.status_code == 409
    assert f"You already hold trip booking {trip_id}" in named.json()["detail"]
    assert Booking.objects.count() == before
    # The same plan again: already held.
    same = post(client, f"{PLANS}{first.pk}/hold", **secret_of(first_secret))
    assert same.status_code == 409
    # Another client may; this one once its hold is cancelled.
    other = post(
        client,
        f"{PLANS}{second.pk}/hold",
        REMOTE_ADDR="198.51.100.20",
        **secret_of(second_secret),
    )
    assert other.status_code == 201, other.content
    third, third_secret = copy_of(solved)
    cancelled = post(client, f"{PLANS}{first.pk}/cancel", HTTP_X_MANAGE_TOKEN=token)
    assert cancelled.status_code == 200
    assert post(
        client, f"{PLANS}{third.pk}/hold", **secret_of(third_secret)
    ).status_code == (201)


def test_an_agency_keeps_longer_holds_within_its_contract(client, solved):
    agency, a = agency_headers("Contract 2h", hold_max_minutes=120)
    first, _ = copy_of(solved, agency=agency)
    second, _ = copy_of(solved, agency=agency)
    too_long = post(client, f"{PLANS}{first.pk}/hold", {"hold_minutes": 121}, **a)
    assert too_long.status_code == 400, too_long.content
    assert too_long.json()["errors"] == {
        "hold_minutes": ["Hold between 1 and 120 minutes (your agency's contract)."]
    }
    held = post(client, f"{PLANS}{first.pk}/hold", {"hold_minutes": 90}, **a)
    assert held.status_code == 201, held.content
    assert 89 < minutes_held(held.json()) <= 90
    # Agencies may hold several plans at once.
    also = post(client, f"{PLANS}{second.pk}/hold", {"hold_minutes": 120}, **a)
    assert also.status_code == 201, also.content
    # Without a contract of its own: HOLD_MAX_MINUTES (a day).
    standard, s = agency_headers("Standard")
    theirs, _ = copy_of(solved, agency=standard)
    day = post(client, f"{PLANS}{theirs.pk}/hold", {"hold_minutes": 1440}, **s)
    assert day.status_code == 201, day.content
    assert 1439 < minutes_held(day.json()) <= 1440


# --- Rate limits -------------------------------------------------------------------


def plan_requests(client: Client, n: int, headers) -> list[int]:
    """``n`` plan requests, the ``i``-th with ``headers(i)``; their statuses."""
    body = {**BODY, "start_date": future_start().isoformat()}
    return [post(client, PLANS, body, **headers(i)).status_code for i in range(n)]


def assert_429(response) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_spoofed_forwarded_for_does_not_bypass_the_limit_without_proxies(
    client, solved, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.PLAN_RATE_LIMIT = "3/min"
    codes = plan_requests(
        client, 10, headers=lambda i: {"HTTP_X_FORWARDED_FOR": f"10.{i}.0.1"}
    )
    assert codes == [202] * 3 + [429] * 7
    assert TripPlan.objects.exclude(pk=solved.pk).count() == 3
    assert_429(post(client, PLANS, BODY, HTTP_X_FORWARDED_FOR="10.99.0.1"))
    # Another address is another client.
    other = post(
        client,
        PLANS,
        {**BODY, "start_date": future_start().isoformat()},
        REMOTE_ADDR="203.0.113.50",
    )
    assert other.status_code == 202


def test_spoofed_forwarded_for_does_not_bypass_the_limit_behind_one_proxy(
    client, solved, settings
):
    """Behind our proxy (REMOTE_ADDR 10.0.0.1) the client is the last entry of
    X-Forwarded-For; what the client wrote before it changes nothing."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PLAN_RATE_LIMIT = "3/min"
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    codes = plan_requests(
        client,
        10,
        headers=lambda i: {
            **proxy,
            "HTTP_X_FORWARDED_FOR": f"10.{i}.0.1, 192.0.2.{i}, 198.51.100.7",
        },
    )
    assert codes == [202] * 3 + [429] * 7
    other = post(
        client,
        PLANS,
        {**BODY, "start_date": future_start().isoformat()},
        HTTP_X_FORWARDED_FOR="198.51.100.7, 198.51.100.8",
        **proxy,
    )
    assert other.status_code == 202  # a different client behind the same proxy
    assert TripPlan.objects.exclude(pk=solved.pk).count() == 4


def test_replans_and_holds_are_limited_per_client(client, solved, settings):
    settings.PLAN_RATE_LIMIT = "2/min"
    settings.HOLD_RATE_LIMIT = "2/hour"
    plan, secret = copy_of(solved)
    replan = f"{PLANS}{plan.pk}/replan"
    for _ in range(2):  # refused re-plans count too
        bad = post(client, replan, {"drop": ["9.9"]}, **secret_of(secret))
        assert bad.status_code == 400
    assert_429(post(client, replan, {"drop": ["9.9"]}, **secret_of(secret)))
    hold = f"{PLANS}{plan.pk}/hold"
    for _ in range(2):  # refused holds count too
        bad = post(client, hold, {"hold_minutes": 999}, **secret_of(secret))
        assert bad.status_code == 400
    assert_429(post(client, hold, **secret_of(secret)))
    assert not TripBooking.objects.exists()
    # Agencies' holds are bounded by their key's rate and contract instead.
    agency, a = agency_headers("Busy agency")
    theirs, _ = copy_of(solved, agency=agency)
    codes = [
        post(client, f"{PLANS}{theirs.pk}/hold", {"hold_minutes": 0}, **a).status_code
        for _ in range(4)
    ]
    assert codes == [400] * 4


def test_solver_runs_are_limited_for_all_clients_together(client, solved, settings):
    """Five clients, each within its own limit: the global limit of solver runs per
    minute refuses the fourth and fifth plan, re-plans included."""
    settings.SOLVER_RUNS_PER_MINUTE = 3
    body = {**BODY, "start_date": future_start().isoformat()}
    codes = [
        post(client, PLANS, body, REMOTE_ADDR=f"203.0.113.{n}").status_code
        for n in range(1, 4)
    ]
    assert codes == [202] * 3
    refused = post(client, PLANS, body, REMOTE_ADDR="203.0.113.4")
    assert_429(refused)
    assert "planner is busy" in refused.json()["detail"]
    plan, secret = copy_of(solved)
    step = next(s["id"] for d in plan.days for s in d["steps"] if s["kind"] == "stay")
    replan = post(
        client,
        f"{PLANS}{plan.pk}/replan",
        {"drop": [step]},
        REMOTE_ADDR="203.0.113.5",
        **secret_of(secret),
    )
    assert_429(replan)
    assert TripPlan.objects.count() == 3 + 2  # the module's plan and this copy


# --- Manage tokens ------------------------------------------------------------------


def test_an_expired_manage_token_is_refused_naming_the_header(client, solved):
    plan, secret = copy_of(solved)
    held = post(client, f"{PLANS}{plan.pk}/hold", **secret_of(secret)).json()
    token = {"HTTP_X_MANAGE_TOKEN": held["manage_token"]}
    assert client.get(f"{TRIPS}{held['id']}/", **token).status_code == 200
    TripBooking.objects.filter(pk=held["id"]).update(
        manage_token_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    for response in (
        client.get(f"{TRIPS}{held['id']}/", **token),
        post(client, f"{PLANS}{plan.pk}/cancel", **token),
    ):
        assert response.status_code == 410, response.content
        assert list(response.json()["errors"]) == ["X-Manage-Token"]
        assert "expired" in response.json()["detail"]
    assert TripBooking.objects.get(pk=held["id"]).status == "on_hold"
