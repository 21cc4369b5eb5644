"""Booking pages of the website, through the Django test client: book a solved plan
(hold everything), check out (countdown, lead traveller, confirm, email with the
manage link in the visitor's language), manage the trip after opening that link
(cancel one part with its refund shown first, cancel everything, .ics calendar,
printable page), a part sold out between plan and hold, and ownership (404 for
anyone else's trip). The manage link's own rules (the token leaves the URL,
expiry, the access timing out) are in test_trip_access.py.

The route, the offers (one experience confirmed on request, a provider's seats on
the Puno → Copacabana bus) and one solved 6-day plan for two adults and a child are
made once for the module, in a transaction rolled back at its end; each test runs
in a savepoint inside it, so every test starts from the same free capacity.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import icalendar
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from itineraries import services
from itineraries.models import TripBooking, TripPlan
from itineraries.selectors import manage_token_hash, plan_secret_hash, plan_trip_parts
from providers.models import Booking, Listing, Slot
from providers.services import booking_hold
from tests.itineraries.conftest import module_transaction, seed_route  # noqa: F401
from tests.itineraries.factories import (
    future_start,
    make_route_offers,
    make_transport_offer,
)

pytestmark = pytest.mark.django_db

REQUEST = {
    "origin": "cusco",
    "destination": "la-paz",
    "days": 6,
    "adults": 2,
    "children": 1,
    "nationality": "CL",
    "arrival": "overland",
    "budget": None,
    "interests": {"textiles": 5, "lake": 3},
    "pace": "normal",
    "include": [],
    "exclude": [],
}
PERSONS = 3
ON_REQUEST_TITLE = "Weaving afternoon with the Quispe family"
ON_REQUEST_TITLE_ES = "Tarde de tejido con la familia Quispe"
LEAD = {"name": "Ana Mamani", "email": "ana@example.org", "phone": "+51 951 000 111"}
MAX_PAGE = 200 * 1024
TOKEN_URL = re.compile(r"http://testserver/trips/manage/([A-Za-z0-9_-]{20,})/")
MANAGE_URL = re.compile(r"/trips/([0-9a-f-]{36})/manage/")
KEY = "the-plans-own-secret-key"  # the secret of the module's plans


@pytest.fixture(scope="module")
def world(module_transaction) -> Iterator[dict[str, Any]]:  # noqa: F811
    from tourism.celery_app import app

    seed_route()
    offers = make_route_offers()
    bus = make_transport_offer("puno-copacabana-bus")
    Listing.objects.filter(title_en=ON_REQUEST_TITLE).update(
        confirmation=Listing.Confirmation.ON_REQUEST
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    # The on-request experience is a must-see: the booking has a part that waits.
    on_request = Listing.objects.get(title_en=ON_REQUEST_TITLE).pk
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            plan = services.plan_create(
                data={
                    **REQUEST,
                    "start_date": future_start().isoformat(),
                    "include": [on_request],
                },
                secret=KEY,
            )
    finally:
        app.conf.task_always_eager = eager
    plan.refresh_from_db()
    assert plan.status == TripPlan.Status.SOLVED, plan.explanation
    yield {"offers": offers, "bus": bus, "plan": plan}


@pytest.fixture
def plan(world) -> TripPlan:
    return world["plan"]


def book_path(plan: TripPlan) -> str:
    return f"/plans/{plan.pk}/{KEY}/book/"


def plan_copy(plan: TripPlan, **fields) -> TripPlan:
    """Another plan of the same trip, opened by the same key."""
    return TripPlan.objects.create(
        request=plan.request, secret_hash=plan_secret_hash(KEY), **fields
    )


def checkout_path(trip_id) -> str:
    return f"/trips/{trip_id}/checkout/"


def counters(plan: TripPlan) -> dict[tuple, tuple[int, int]]:
    """(held, booked) of every slot the plan books, by (listing, date, time)."""
    result = {}
    for spec in plan_trip_parts(plan)[0]:
        slot = Slot.objects.filter(
            listing_id=spec.listing_id, date=spec.day, start_time=spec.start_time
        ).first()
        result[spec.listing_id, spec.day, spec.start_time] = (
            (slot.held, slot.booked) if slot else (0, 0)
        )
    return result


def book(client: Client, plan: TripPlan) -> TripBooking:
    response = client.post(book_path(plan))
    assert response.status_code == 302, response.content[:2000]
    match = re.fullmatch(r"/trips/([0-9a-f-]{36})/checkout/", response["Location"])
    assert match, response["Location"]
    return TripBooking.objects.get(pk=match.group(1))


def confirm(client: Client, trip: TripBooking, lead=LEAD, **extra) -> str:
    """Confirm at checkout; returns the trip's manage page the redirect goes to
    (no token in it: this session may manage the trip for a while)."""
    response = client.post(checkout_path(trip.pk), lead, **extra)
    assert response.status_code == 302, response.content[:3000]
    assert MANAGE_URL.fullmatch(response["Location"]), response["Location"]
    return response["Location"]


def emailed_token(trip: TripBooking) -> str:
    """The manage token in the confirmation email to the lead traveller."""
    (message,) = [m for m in mail.outbox if m.to == [LEAD["email"]]]
    match = TOKEN_URL.search(message.body)
    assert match, message.body
    assert manage_token_hash(match.group(1)) == trip.manage_token_hash
    return match.group(1)


def small(response) -> str:
    assert len(response.content) < MAX_PAGE, len(response.content)
    return response.content.decode()


def speaking(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


# --- Booking and checkout -----------------------------------------------------------


def test_book_holds_everything_and_checkout_shows_parts_and_countdown(client, plan):
    before = timezone.now()
    trip = book(client, plan)
    held, local = plan_trip_parts(plan)
    assert trip.status == TripBooking.Status.ON_HOLD
    assert trip.user is None and trip.manage_token_hash
    bookings = list(
        Booking.objects.filter(trip_part__trip=trip).select_related("listing")
    )
    assert len(bookings) == len(held)
    assert {b.status for b in bookings} == {Booking.Status.ON_HOLD}
    assert {b.persons for b in bookings} == {PERSONS}
    assert client.session["web_trip_tokens"][str(trip.pk)]

    response = client.get(checkout_path(trip.pk))
    assert response.status_code == 200
    page = small(response)
    for booking in bookings:
        assert booking.listing.provider.name in page
    assert ON_REQUEST_TITLE in page
    assert "(UTC−05:00)" in page  # Peru
    assert "(UTC−04:00)" in page  # Bolivia
    seconds = int(re.search(r'data-seconds="(\d+)"', page).group(1))
    assert 19 * 60 < seconds <= 20 * 60  # a visitor's hold: 20 minutes at most
    assert 'id="countdown"' in page and "<script nonce=" in page  # under the CSP
    # The absolute expiry is there for readers without JavaScript.
    expires = trip.expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert expires in page
    assert trip.expires_at - before <= dt.timedelta(minutes=31)
    # Prices, persons, statuses and the parts paid locally (the bus paid on board).
    assert "On hold" in page and "Paid locally" in page
    assert len(local) >= 1
    assert 'name="name"' in page and 'name="email"' in page and 'name="phone"' in page
    # Booking again from the same session goes back to the same checkout.
    again = client.post(book_path(plan))
    assert again.status_code == 302 and again["Location"] == checkout_path(trip.pk)
    assert TripBooking.objects.filter(plan=plan).count() == 1


def test_bad_lead_input_shows_errors_beside_fields_and_confirms_nothing(client, plan):
    trip = book(client, plan)
    before = counters(plan)
    response = client.post(
        checkout_path(trip.pk), {"name": "  ", "email": "ana@", "phone": "call me"}
    )
    assert response.status_code == 400
    page = small(response)
    for field in ("name", "email", "phone"):
        assert f'id="id_{field}-errors"' in page, field
        errors_at = page.index(f'id="id_{field}-errors"')
        input_at = page.index(f'id="id_{field}"')
        label_at = page.index(f'for="id_{field}"')
        assert label_at < errors_at < input_at  # the error sits with its field
    assert len(re.findall(r'<input[^>]*aria-invalid="true"', page)) == 3
    assert "Enter a valid email address." in page
    assert "This field is required." in page
    assert 'value="call me"' in page  # what was typed is kept
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.ON_HOLD and not trip.lead_name
    assert not Booking.objects.filter(
        status__in=[Booking.Status.CONFIRMED, Booking.Status.PENDING]
    ).exists()
    assert counters(plan) == before


@pytest.mark.parametrize(
    ("language", "title", "greeting"),
    [("es", ON_REQUEST_TITLE_ES, "Ana Mamani"), ("en", ON_REQUEST_TITLE, "Ana")],
)
def test_confirm_books_every_part_and_emails_the_manage_link(
    client, plan, django_capture_on_commit_callbacks, language, title, greeting
):
    speaking(client, language)
    trip = book(client, plan)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        manage = confirm(client, trip)
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.CONFIRMED
    assert manage == f"/trips/{trip.pk}/manage/"
    token = emailed_token(trip)
    assert (trip.lead_name, trip.lead_email, trip.lead_phone) == tuple(LEAD.values())
    statuses = dict(
        Booking.objects.filter(trip_part__trip=trip).values_list(
            "listing__title_en", "status"
        )
    )
    assert statuses.pop(ON_REQUEST_TITLE) == Booking.Status.PENDING
    assert set(statuses.values()) == {Booking.Status.CONFIRMED}
    to_lead = [m for m in mail.outbox if m.to == [LEAD["email"]]]
    assert len(to_lead) == 1, [m.subject for m in mail.outbox]
    body = to_lead[0].body
    assert f"http://testserver/trips/manage/{token}/" in body
    assert title in body and greeting in body
    other = ON_REQUEST_TITLE if language == "es" else ON_REQUEST_TITLE_ES
    assert other not in body  # one language only
    # A second click on "confirm" changes nothing and sends no second email.
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, trip) == manage
    assert len([m for m in mail.outbox if m.to == [LEAD["email"]]]) == 1
    assert trip.manage_token_hash == manage_token_hash(token)  # not replaced
    # The manage page, in the same language, without the token.
    response = client.get(manage)
    assert response.status_code == 200
    page = small(response)
    assert title in page and token not in page
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"
    # Checkout of a confirmed trip goes to its manage page.
    assert client.get(checkout_path(trip.pk))["Location"] == manage


def test_an_expired_hold_says_so_and_can_be_held_again(client, plan):
    trip = book(client, plan)
    past = timezone.now() - dt.timedelta(minutes=1)
    TripBooking.objects.filter(pk=trip.pk).update(expires_at=past)
    Booking.objects.filter(trip_part__trip=trip).update(expires_at=past)
    response = client.post(checkout_path(trip.pk), LEAD)
    assert response.status_code == 409
    page = small(response)
    assert "expired" in page
    assert f'action="/trips/{trip.pk}/hold-again/"' in page
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.EXPIRED
    assert set(counters(plan).values()) == {(0, 0)}
    assert "expired" in small(client.get(checkout_path(trip.pk)))
    again = client.post(f"/trips/{trip.pk}/hold-again/")
    assert again.status_code == 302
    new = TripBooking.objects.exclude(pk=trip.pk).get(plan=plan)
    assert again["Location"] == checkout_path(new.pk)
    assert new.status == TripBooking.Status.ON_HOLD
    assert client.get(checkout_path(new.pk)).status_code == 200


def test_releasing_a_hold_frees_every_part(client, plan):
    trip = book(client, plan)
    release = f"/trips/{trip.pk}/release/"
    assert release in small(client.get(checkout_path(trip.pk)))
    assert Client().post(release).status_code == 404  # not theirs
    assert TripBooking.objects.get(pk=trip.pk).status == TripBooking.Status.ON_HOLD
    response = client.post(release, follow=True)
    assert response.status_code == 200
    assert "nothing was booked" in small(response)
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.CANCELLED
    assert set(counters(plan).values()) == {(0, 0)}


def test_a_part_cancelled_by_its_provider_during_the_hold_is_named_at_confirm(
    client, plan
):
    from providers.services import booking_cancel

    trip = book(client, plan)
    gone = trip.parts.select_related("booking__listing").first()
    booking_cancel(booking=gone.booking)
    response = client.post(checkout_path(trip.pk), LEAD)
    assert response.status_code == 409
    page = small(response)
    assert gone.booking.listing.title_en in page
    assert f'action="/trips/{trip.pk}/hold-again/"' in page
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.EXPIRED
    assert not Booking.objects.filter(
        trip_part__trip=trip,
        status__in=[Booking.Status.CONFIRMED, Booking.Status.PENDING],
    ).exists()
    assert set(counters(plan).values()) == {(0, 0)}


def test_a_part_sold_out_between_plan_and_hold_is_named_and_nothing_held(
    client, plan, django_capture_on_commit_callbacks
):
    held, _local = plan_trip_parts(plan)
    night = [spec for spec in held if spec.kind == "stay"][1]
    listing = Listing.objects.get(pk=night.listing_id)
    booking_hold(
        listing=listing,
        day=night.day,
        start_time=None,
        units={"adult": listing.default_capacity - 1},
        channel=Booking.Channel.WEBSITE,
    )
    before = counters(plan)
    response = client.post(book_path(plan))
    assert response.status_code == 409
    page = small(response)
    assert listing.title_en in page
    assert night.day.isoformat() in page
    assert "1 places left for 3 persons" in page
    assert f'name="drop" value="{night.step_id}"' in page
    assert counters(plan) == before
    assert not TripBooking.objects.filter(plan=plan).exists()
    # Re-plan without it: a new plan, solved without that stay.
    with django_capture_on_commit_callbacks(execute=True):
        replanned = client.post(
            f"/plans/{plan.pk}/{KEY}/book/replan/", {"drop": [night.step_id]}
        )
    assert replanned.status_code == 302
    new = TripPlan.objects.get(parent=plan)
    assert replanned["Location"] == f"/plans/{new.pk}/{KEY}/"
    assert new.status == TripPlan.Status.SOLVED
    assert listing.pk in new.request["exclude"]
    assert listing.pk not in {s.listing_id for s in plan_trip_parts(new)[0]}


def test_a_plan_held_by_someone_else_is_refused_with_a_message(client, plan):
    trip = book(client, plan)
    stranger = Client()
    response = stranger.post(book_path(plan))
    assert response.status_code == 409
    page = small(response)
    assert "already held or booked" in page
    assert str(trip.pk) not in page  # another visitor's trip is not named
    assert TripBooking.objects.filter(plan=plan).count() == 1
    unsolved = plan_copy(plan, status=TripPlan.Status.QUEUED)
    response = client.post(book_path(unsolved))
    assert response.status_code == 409
    assert "Only a solved plan can be held" in small(response)


# --- Managing -----------------------------------------------------------------------


def confirmed_trip(client: Client, plan: TripPlan) -> tuple[TripBooking, str]:
    """Book and confirm; returns the trip and its manage page."""
    trip = book(client, plan)
    manage = confirm(client, trip)
    trip.refresh_from_db()
    return trip, manage


def test_cancel_one_part_shows_the_refund_first_and_releases_it(client, plan):
    trip, manage_page = confirmed_trip(client, plan)
    instant = (
        Booking.objects.filter(
            trip_part__trip=trip,
            status=Booking.Status.CONFIRMED,
            listing__kind=Listing.Kind.ACTIVITY,
        )
        .select_related("listing", "slot", "trip_part")
        .first()
    )
    Listing.objects.filter(pk=instant.listing_id).update(
        cancellation_cutoff_hours=60 * 24, cancellation_refund_percent=50
    )
    part_id = instant.trip_part.pk
    url = f"{manage_page}parts/{part_id}/cancel/"
    manage = small(client.get(manage_page))
    assert url in manage
    preview = client.get(url)
    assert preview.status_code == 200
    page = small(preview)
    half = instant.total_minor // 2
    assert f"{half // 100:,}.{half % 100:02d} {instant.currency}" in page
    assert "50%" in page
    instant.refresh_from_db()
    assert instant.status == Booking.Status.CONFIRMED  # the preview changes nothing
    done = client.post(url)
    assert done.status_code == 302 and done["Location"] == manage_page
    instant.refresh_from_db()
    instant.slot.refresh_from_db()
    assert instant.status == Booking.Status.CANCELLED
    assert instant.refund_minor == half
    assert (instant.slot.held, instant.slot.booked) == (0, 0)
    after = small(client.get(manage_page))
    assert "will be refunded" in after
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.CONFIRMED
    others = Booking.objects.filter(trip_part__trip=trip).exclude(pk=instant.pk)
    assert not others.filter(status=Booking.Status.CANCELLED).exists()
    # A cancelled part has no cancel link any more; posting again changes nothing.
    assert url not in after
    assert client.post(url).status_code == 302
    instant.refresh_from_db()
    assert instant.refund_minor == half


def test_cancel_everything_shows_refunds_then_releases_every_part(client, plan):
    trip, manage_page = confirmed_trip(client, plan)
    url = f"{manage_page}cancel/"
    preview = client.get(url)
    assert preview.status_code == 200
    page = small(preview)
    assert "Total refund" in page
    assert TripBooking.objects.get(pk=trip.pk).status == TripBooking.Status.CONFIRMED
    done = client.post(url)
    assert done.status_code == 302
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.CANCELLED
    assert set(
        Booking.objects.filter(trip_part__trip=trip).values_list("status", flat=True)
    ) == {Booking.Status.CANCELLED}
    assert set(counters(plan).values()) == {(0, 0)}
    after = small(client.get(manage_page))
    assert "Cancelled" in after and "Refunded:" in after
    assert url not in after
    # Nothing left to cancel: a clear message, no error.
    again = client.post(url, follow=True)
    assert again.status_code == 200 and "nothing to cancel" in again.content.decode()


def test_the_trip_calendar_is_valid_with_zones_of_the_places(client, plan):
    _trip, manage_page = confirmed_trip(client, plan)
    response = client.get(f"{manage_page}trip.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    steps = [
        s for day in plan.days for s in day["steps"] if s.get("start") and s.get("end")
    ]
    assert len(events) == len(steps)
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {"America/Lima", "America/La_Paz"}
    from catalogue.models import Place

    zone_of = {p.slug: str(p.zone) for p in Place.objects.select_related("country")}
    uids = set()
    for event, step in zip(events, steps, strict=True):
        for key in ("UID", "DTSTAMP", "SUMMARY", "DTSTART", "DTEND", "LOCATION"):
            assert key in event, (key, step)
        uids.add(str(event["UID"]))
        start_place = step.get("place") or step.get("from")
        end_place = step.get("place") or step.get("to")
        assert event["DTSTART"].params["TZID"] == zone_of[start_place], step
        assert event["DTEND"].params["TZID"] == zone_of[end_place], step
        start = event.decoded("DTSTART")
        assert str(start.tzinfo) == zone_of[start_place]
        assert start == dt.datetime.fromisoformat(step["start"])
        assert event.decoded("DTEND") == dt.datetime.fromisoformat(step["end"])
        assert step["title"]["en"] == str(event["SUMMARY"])
    assert len(uids) == len(events)
    assert {"America/Lima", "America/La_Paz"} <= {
        zone_of[s.get("place") or s.get("from")] for s in steps
    }
    statuses = {str(e["STATUS"]) for e in events}
    assert statuses <= {"CONFIRMED", "TENTATIVE"} and "TENTATIVE" in statuses


def test_the_print_page_has_print_css_and_no_navigation(client, plan):
    _trip, manage_page = confirmed_trip(client, plan)
    response = client.get(f"{manage_page}print/")
    assert response.status_code == 200
    page = small(response)
    assert "@media print" in page
    assert 'name="language"' not in page  # no site header or navigation
    assert ON_REQUEST_TITLE in page and LEAD["name"] in page
    assert "(UTC−04:00)" in page


# --- Ownership ----------------------------------------------------------------------


def test_checkout_of_someone_elses_trip_is_404(client, plan):
    trip = book(client, plan)
    stranger = Client()
    assert stranger.get(checkout_path(trip.pk)).status_code == 404
    assert stranger.post(checkout_path(trip.pk), LEAD).status_code == 404
    assert stranger.post(f"/trips/{trip.pk}/hold-again/").status_code == 404
    user = get_user_model().objects.create_user("eve", "eve@example.org", "x")
    signed_in = Client()
    signed_in.force_login(user)
    assert signed_in.get(checkout_path(trip.pk)).status_code == 404
    trip.refresh_from_db()
    assert trip.status == TripBooking.Status.ON_HOLD and not trip.lead_name
    assert client.get(checkout_path(uuid.uuid4())).status_code == 404
    assert client.post(f"/plans/{uuid.uuid4()}/{KEY}/book/").status_code == 404
    assert client.get(book_path(plan)).status_code == 405


def test_a_signed_in_traveller_owns_their_trip(
    plan, django_capture_on_commit_callbacks
):
    users = get_user_model().objects
    rosa = Client()
    rosa.force_login(users.create_user("rosa", "rosa@example.org", "x"))
    trip = book(rosa, plan)
    assert trip.user is not None and not trip.manage_token_hash
    assert rosa.get(checkout_path(trip.pk)).status_code == 200
    juan = Client()
    juan.force_login(users.create_user("juan", "juan@example.org", "x"))
    assert juan.get(checkout_path(trip.pk)).status_code == 404
    assert juan.post(checkout_path(trip.pk), LEAD).status_code == 404
    assert "rosa@example.org" in rosa.get(checkout_path(trip.pk)).content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        manage = confirm(rosa, trip)
    trip.refresh_from_db()
    token = emailed_token(trip)
    assert rosa.get(manage).status_code == 200  # hers, signed in
    assert juan.get(manage).status_code == 404
    # The emailed link works on any device (the token is the secret).
    elsewhere = Client()
    opened = elsewhere.get(f"/trips/manage/{token}/")
    assert opened.status_code == 302 and opened["Location"] == manage
    assert elsewhere.get(manage).status_code == 200


def test_a_manage_token_shows_its_own_trip_only(
    client, plan, world, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        trip_a, manage_a = confirmed_trip(client, plan)
    token_a = emailed_token(trip_a)
    # A second trip (of another plan) by another visitor.
    other_plan = plan_copy(plan, status=TripPlan.Status.SOLVED, days=plan.days)
    other = Client()
    trip_b, manage_b = confirmed_trip(other, other_plan)
    part_b = trip_b.parts.first()
    page_a = small(client.get(manage_a))
    assert f"{manage_a}parts/" in page_a
    for part in trip_b.parts.all():
        assert f"/parts/{part.pk}/cancel/" not in page_a
    for method in ("get", "post"):
        response = getattr(client, method)(f"{manage_a}parts/{part_b.pk}/cancel/")
        assert response.status_code == 404, method
        for suffix in ("", "cancel/", "trip.ics", "print/", f"parts/{part_b.pk}/"):
            assert getattr(client, method)(manage_b + suffix).status_code in (
                404,
                405,
            ), (method, suffix)
    assert part_b.booking.status == Booking.Status.CONFIRMED or (
        part_b.booking.status == Booking.Status.PENDING
    )
    part_b.booking.refresh_from_db()
    assert part_b.booking.status != Booking.Status.CANCELLED
    for token in ("not-a-token", token_a[:-1] + ("A" if token_a[-1] != "A" else "B")):
        assert Client().get(f"/trips/manage/{token}/").status_code == 404, token
    # The calendar of A has A's events only.
    ics = client.get(f"{manage_a}trip.ics").content.decode()
    assert str(trip_a.pk) in ics and str(trip_b.pk) not in ics
