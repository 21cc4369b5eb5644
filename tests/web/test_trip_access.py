"""Who may use the website's plan and trip pages, and how much.

- A plan's pages live under its secret link (/plans/<id>/<key>/): the id alone, or
  a wrong key, is 404 on the page, its tweaks, fixes and booking.
- The emailed manage link opens the trip in that browser for a while and leaves
  the address by a redirect; an expired link, or an access that timed out, gets a
  clear page.
- Holds without an account: one at a time per session.
- Rate limits: the plan form (100 submissions from one client make 3 plans), the
  tweaks and fixes, booking, and the global solver runs: 429 with Retry-After and
  the reason on the page, in the visitor's language.

One solved plan is made for the module (in a transaction rolled back at its end);
tests book copies of it opened by the same key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from itineraries import services
from itineraries.models import TripBooking, TripPlan
from itineraries.selectors import manage_token_hash, plan_secret_hash
from providers.models import Booking
from tests.itineraries.conftest import module_transaction, seed_route  # noqa: F401
from tests.itineraries.factories import future_start, make_route_offers
from tests.web.conftest import plan_form_data

pytestmark = pytest.mark.django_db

KEY = "a-plans-secret-key-for-these-tests"
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
LEAD = {"name": "Ana Mamani", "email": "ana@example.org", "phone": "+51 951 000 111"}
LINK = re.compile(r"http://testserver(/trips/manage/([A-Za-z0-9_-]{20,})/)")


@pytest.fixture(scope="module")
def solved(module_transaction) -> Iterator[TripPlan]:  # noqa: F811
    from tourism.celery_app import app

    seed_route()
    make_route_offers()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            plan = services.plan_create(
                data={**REQUEST, "start_date": future_start().isoformat()}, secret=KEY
            )
    finally:
        app.conf.task_always_eager = eager
    plan.refresh_from_db()
    assert plan.status == TripPlan.Status.SOLVED, plan.explanation
    yield plan


def copy_of(plan: TripPlan) -> TripPlan:
    return TripPlan.objects.create(
        request=plan.request,
        status=TripPlan.Status.SOLVED,
        days=plan.days,
        secret_hash=plan_secret_hash(KEY),
    )


def page_of(plan: TripPlan, key: str = KEY) -> str:
    return f"/plans/{plan.pk}/{key}/"


def book(client: Client, plan: TripPlan) -> TripBooking:
    response = client.post(f"{page_of(plan)}book/")
    assert response.status_code == 302, response.content.decode()[:2000]
    trip_id = re.fullmatch(r"/trips/([0-9a-f-]{36})/checkout/", response["Location"])
    assert trip_id, response["Location"]
    return TripBooking.objects.get(pk=trip_id.group(1))


def confirmed(client: Client, plan: TripPlan) -> tuple[TripBooking, str]:
    """Book and confirm; returns the trip and the link emailed to the lead."""
    trip = book(client, plan)
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/trips/{trip.pk}/checkout/", LEAD)
    assert response.status_code == 302, response.content.decode()[:2000]
    (message,) = [m for m in mail.outbox if m.to == [LEAD["email"]]]
    match = LINK.search(message.body)
    assert match, message.body
    trip.refresh_from_db()
    assert trip.manage_token_hash == manage_token_hash(match.group(2))
    return trip, match.group(1)


def speaking(client: Client, language: str) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def assert_429(response, text: str) -> str:
    assert response.status_code == 429, response.content.decode()[:2000]
    assert int(response["Retry-After"]) >= 1
    page = response.content.decode()
    assert text in page, page[:3000]
    return page


# --- The plan's secret link ---------------------------------------------------------


def test_the_plan_id_alone_opens_no_page(client, solved):
    plan = copy_of(solved)
    step = next(s["id"] for d in plan.days for s in d["steps"] if s["kind"] == "stay")
    assert client.get(f"/plans/{plan.pk}/").status_code == 404
    for key in ("wrong-key-wrong-key-wrong-key", KEY[:-1]):
        assert client.get(page_of(plan, key)).status_code == 404
        tweaks = client.post(f"{page_of(plan, key)}replan/", {"drop": step})
        assert tweaks.status_code == 404
        fix = client.post(f"{page_of(plan, key)}fix/", {"fix": "add_day"})
        assert fix.status_code == 404
        assert client.post(f"{page_of(plan, key)}book/").status_code == 404
        without = client.post(f"{page_of(plan, key)}book/replan/", {"drop": step})
        assert without.status_code == 404
    assert not TripPlan.objects.filter(parent=plan).exists()
    assert not TripBooking.objects.exists()
    response = client.get(page_of(plan))
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert f'action="{page_of(plan)}replan/"' in html
    assert f'action="{page_of(plan)}book/"' in html
    replanned = client.post(f"{page_of(plan)}replan/", {"drop": step})
    assert replanned.status_code == 302
    new = TripPlan.objects.get(parent=plan)
    assert replanned["Location"] == page_of(new)  # re-plans keep the key
    assert client.get(replanned["Location"]).status_code == 200


# --- The manage link --------------------------------------------------------------


def test_the_manage_link_becomes_a_session_and_leaves_the_url(client, solved):
    trip, link = confirmed(client, solved)
    token = link.rstrip("/").rsplit("/", 1)[1]
    manage = f"/trips/{trip.pk}/manage/"
    # The booking session went on to the manage page; its token left the session.
    assert str(trip.pk) not in client.session.get("web_trip_tokens", {})
    assert client.get(manage).status_code == 200
    # The emailed link, in another browser: a redirect to the page without it.
    phone = Client()
    opened = phone.get(link)
    assert opened.status_code == 302
    assert opened["Location"] == manage and token not in opened["Location"]
    assert opened["Cache-Control"] == "private, no-store"
    assert opened["Referrer-Policy"] == "no-referrer"
    page = phone.get(manage)
    assert page.status_code == 200
    html = page.content.decode()
    assert token not in html
    for suffix in ("trip.ics", "print/", "cancel/"):
        assert f"{manage}{suffix}" in html
        assert phone.get(f"{manage}{suffix}").status_code == 200
    # A browser that did not open the link: nothing.
    stranger = Client()
    for suffix in ("", "trip.ics", "print/", "cancel/"):
        assert stranger.get(f"{manage}{suffix}").status_code == 404
    assert stranger.get(f"/trips/{trip.pk}/checkout/").status_code == 404
    assert stranger.get(f"/trips/manage/{token[:-2]}xx/").status_code == 404


def test_access_from_the_link_times_out_with_a_clear_page(client, solved, settings):
    settings.MANAGE_SESSION_MINUTES = 30
    trip, link = confirmed(client, solved)
    manage = f"/trips/{trip.pk}/manage/"
    phone = Client()
    phone.get(link)
    assert phone.get(manage).status_code == 200
    session = phone.session
    grant = session["web_trip_grants"][str(trip.pk)]
    assert 29 * 60 < grant["until"] - timezone.now().timestamp() <= 30 * 60
    grant["until"] = timezone.now().timestamp() - 1  # 30 minutes later
    session.save()
    for url in (manage, f"{manage}print/", f"/trips/{trip.pk}/checkout/"):
        ended = phone.get(url)
        assert ended.status_code == 403, url
        text = ended.content.decode()
        assert "30 minutes after the link is opened" in text
        assert "Open the link in your confirmation email again" in text
    cancel = phone.post(f"{manage}cancel/")
    assert cancel.status_code == 403
    assert TripBooking.objects.get(pk=trip.pk).status == "confirmed"
    # Opening the link again opens the trip again.
    assert phone.get(link)["Location"] == manage
    assert phone.get(manage).status_code == 200


def test_an_expired_link_is_refused_with_a_clear_page(client, solved):
    """MANAGE_TOKEN_DAYS_AFTER_TRIP after the trip's last day the link stops
    working: the link itself and a browser it opened earlier get a page saying so
    (410), in the visitor's language."""
    trip, link = confirmed(client, solved)
    last_day = dt.date.fromisoformat(solved.days[-1]["date"])
    expires = dt.datetime.combine(
        last_day + dt.timedelta(days=15), dt.time.min, tzinfo=dt.UTC
    )
    assert trip.manage_token_expires_at == expires
    phone = Client()
    phone.get(link)
    TripBooking.objects.filter(pk=trip.pk).update(
        manage_token_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    fresh = Client()
    refused = fresh.get(link)
    assert refused.status_code == 410
    text = refused.content.decode()
    assert "This manage link expired on" in text
    assert "Your bookings are not changed" in text
    assert not fresh.session.get("web_trip_grants")
    assert fresh.get(f"/trips/{trip.pk}/manage/").status_code == 404
    assert phone.get(f"/trips/{trip.pk}/manage/").status_code == 410
    spanish = speaking(Client(), "es").get(link)
    assert spanish.status_code == 410
    assert "Este enlace de gestión caducó el" in spanish.content.decode()


# --- One hold at a time -------------------------------------------------------------


def test_one_hold_at_a_time_per_session(client, solved):
    first, second = copy_of(solved), copy_of(solved)
    trip = book(client, first)
    before = Booking.objects.count()
    refused = client.post(f"{page_of(second)}book/")
    assert refused.status_code == 409
    page = refused.content.decode()
    assert f"You already hold trip booking {trip.pk}" in page
    assert f'href="/trips/{trip.pk}/checkout/"' in page
    assert Booking.objects.count() == before
    assert not TripBooking.objects.filter(plan=second).exists()
    # Another visitor may; and this one once the first hold is released.
    assert book(Client(), second).status == "on_hold"
    third = copy_of(solved)
    client.post(f"/trips/{trip.pk}/release/")
    assert book(client, third).status == "on_hold"


# --- Rate limits --------------------------------------------------------------------


def test_the_plan_form_is_rate_limited_whatever_the_forwarded_for(
    client, solved, settings
):
    """100 submissions of a valid form from one client (each with another
    X-Forwarded-For, which is not believed) make 3 plans; the others are 429 with
    Retry-After and the reason above the form."""
    settings.PLAN_RATE_LIMIT = "3/min"
    before = TripPlan.objects.count()
    statuses = [
        client.post(
            "/plan/", plan_form_data(), HTTP_X_FORWARDED_FOR=f"10.1.{n}.9"
        ).status_code
        for n in range(100)
    ]
    assert statuses == [302] * 3 + [429] * 97
    assert TripPlan.objects.count() == before + 3
    response = client.post("/plan/", plan_form_data())
    page = assert_429(response, "You have made too many plans in a short time.")
    assert 'name="origin"' in page and 'value="cusco"' in page  # the form is kept
    spanish = speaking(client, "es").post("/plan/", plan_form_data())
    assert_429(spanish, "Ha hecho demasiados planes en poco tiempo.")


def test_tweaks_and_fixes_share_the_plan_limit(client, solved, settings):
    settings.PLAN_RATE_LIMIT = "1/min"
    plan = copy_of(solved)
    step = next(s["id"] for d in plan.days for s in d["steps"] if s["kind"] == "stay")
    assert client.post(f"{page_of(plan)}replan/", {"drop": step}).status_code == 302
    page = assert_429(
        client.post(f"{page_of(plan)}replan/", {"drop": step}),
        "You have made too many plans in a short time.",
    )
    assert 'role="alert"' in page and "Day 1" in page  # the plan, with the reason
    assert_429(
        client.post(f"{page_of(plan)}fix/", {"fix": "add_day"}),
        "You have made too many plans in a short time.",
    )
    assert TripPlan.objects.filter(parent=plan).count() == 1


def test_the_planner_busy_for_everyone_is_said_on_the_form(client, solved, settings):
    settings.SOLVER_RUNS_PER_MINUTE = 2
    before = TripPlan.objects.count()
    for n in (1, 2):
        made = client.post("/plan/", plan_form_data(), REMOTE_ADDR=f"203.0.113.{n}")
        assert made.status_code == 302
    busy = client.post("/plan/", plan_form_data(), REMOTE_ADDR="203.0.113.3")
    assert_429(busy, "The planner is busy")
    assert TripPlan.objects.count() == before + 2


def test_booking_is_rate_limited(client, solved, settings):
    settings.HOLD_RATE_LIMIT = "2/hour"
    plan = copy_of(solved)
    trip = book(client, plan)
    client.post(f"/trips/{trip.pk}/release/")
    again = client.post(f"/trips/{trip.pk}/hold-again/")
    assert again.status_code == 302  # the second hold
    new = TripBooking.objects.get(plan=plan, status="on_hold")
    client.post(f"/trips/{new.pk}/release/")
    refused = client.post(f"{page_of(plan)}book/")
    assert_429(refused, "You have held too many plans in a short time.")
    assert not TripBooking.objects.filter(plan=plan, status="on_hold").exists()
