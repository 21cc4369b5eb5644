"""Bookings: list, detail, accept / decline / redeemed / no-show, the emails, and the
daily manifest."""

from __future__ import annotations

import datetime as dt

import pytest

from providers import services
from providers.models import Booking, Listing, Slot
from tests.providers.portal import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(small_catalogue):
    provider = f.make_provider()
    member = f.make_member(provider, email="rosa@example.org")
    stay = f.make_listing(provider)
    on_request = f.make_listing(
        provider,
        kind=Listing.Kind.ACTIVITY,
        confirmation=Listing.Confirmation.ON_REQUEST,
        title_en="Weaving workshop",
        title_es="Taller de tejido",
    )
    return provider, f.logged_in(member), stay, on_request


def action(client, booking: Booking, name: str, **data):
    return client.post(f"/provider/bookings/{booking.uuid}/{name}/", data)


def test_accept_a_pending_booking_emails_the_traveller_in_both_languages(
    shop, mailoutbox, django_capture_on_commit_callbacks
):
    """Accept confirms the on-request booking (held → booked) and emails the lead
    traveller in Spanish then English."""
    _provider, client, _stay, on_request = shop
    booking = f.make_booking(on_request, units={"adult": 2, "child": 1})
    assert booking.status == Booking.Status.PENDING
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, booking, "accept")
    assert response.status_code == 302
    assert response["Location"] == f"/provider/bookings/{booking.uuid}/"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    slot = Slot.objects.get(pk=booking.slot_id)
    assert (slot.held, slot.booked) == (0, 3)
    (mail,) = mailoutbox
    assert mail.to == ["ana@example.org"]
    assert "Taller de tejido" in mail.body and "Weaving workshop" in mail.body
    assert mail.body.index("Taller de tejido") < mail.body.index("Weaving workshop")
    assert "Your booking is confirmed" in mail.subject
    assert "Su reserva está confirmada" in mail.subject
    assert "2 × Adulto" in mail.body and "2 × Adult" in mail.body
    page = client.get(response["Location"]).content.decode()
    assert "Booking accepted" in page


def test_decline_releases_the_places_and_emails_the_traveller(
    shop, mailoutbox, django_capture_on_commit_callbacks
):
    """Decline frees the held places and tells the traveller in both languages."""
    _provider, client, _stay, on_request = shop
    booking = f.make_booking(on_request)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        action(client, booking, "decline")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.DECLINED
    assert Slot.objects.get(pk=booking.slot_id).held == 0
    (mail,) = mailoutbox
    assert mail.to == ["ana@example.org"]
    assert "declined" in mail.subject and "rechaz" in mail.subject


def test_accepting_twice_is_a_message_not_a_500(shop):
    """A state error (accepting a confirmed booking) comes back as a message."""
    _provider, client, stay, _on_request = shop
    booking = f.make_booking(stay)
    response = action(client, booking, "accept")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Only bookings waiting for you can be accepted." in page
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_mark_redeemed_and_no_show(shop):
    """Confirmed bookings can be marked as come or no-show; a pending one cannot."""
    _provider, client, stay, on_request = shop
    booking = f.make_booking(stay)
    action(client, booking, "redeemed")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.REDEEMED and booking.redeemed_at
    action(client, booking, "no-show")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.NO_SHOW and booking.redeemed_at is None
    pending = f.make_booking(on_request)
    response = action(client, pending, "redeemed")
    page = client.get(response["Location"]).content.decode()
    assert "Only confirmed bookings can be marked." in page
    pending.refresh_from_db()
    assert pending.status == Booking.Status.PENDING


def test_actions_are_post_only_and_unknown_actions_404(shop):
    """GET on an action changes nothing (405); an unknown action is a 404."""
    _provider, client, _stay, on_request = shop
    booking = f.make_booking(on_request)
    assert client.get(f"/provider/bookings/{booking.uuid}/accept/").status_code == 405
    assert action(client, booking, "refund").status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING


def test_action_returns_to_a_safe_next_page_only(shop):
    """``next`` brings the provider back to the dashboard; foreign URLs are ignored."""
    _provider, client, _stay, on_request = shop
    first, second = f.make_booking(on_request), f.make_booking(on_request)
    assert action(client, first, "accept", next="/provider/")["Location"] == (
        "/provider/"
    )
    response = action(client, second, "accept", next="https://evil.example/")
    assert response["Location"] == f"/provider/bookings/{second.uuid}/"


def test_provider_members_are_emailed_about_new_and_cancelled_bookings(
    shop, mailoutbox, django_capture_on_commit_callbacks
):
    """Members get a bilingual email for a confirmed booking, for a request to answer
    and for a cancellation; an abandoned hold sends nothing."""
    _provider, _client, stay, on_request = shop
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = f.make_booking(stay)
    with django_capture_on_commit_callbacks(execute=True):
        f.make_booking(on_request)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(
            booking=confirmed, now=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
        )
    with django_capture_on_commit_callbacks(execute=True):
        hold = f.make_booking(stay, confirm=False)
        services.booking_cancel(booking=hold)
    subjects = [m.subject for m in mailoutbox]
    assert len(mailoutbox) == 3, subjects
    assert all(m.to == ["rosa@example.org"] for m in mailoutbox)
    assert "New booking" in subjects[0] and "Nueva reserva" in subjects[0]
    assert "to answer" in subjects[1] and "responder" in subjects[1]
    assert "cancelled" in subjects[2] and "cancelada" in subjects[2]
    for mail in mailoutbox:
        assert "Ana Quispe" in mail.body and "+51 951 000 111" in mail.body


def test_a_mail_failure_does_not_undo_the_booking(
    shop, settings, django_capture_on_commit_callbacks
):
    """The mail server refuses (SMTP to a closed local port): the booking stays
    confirmed and its email stays in the outbox, to be tried again later."""
    import socket

    from outbox.models import Message

    _provider, _client, stay, _on_request = shop
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    with django_capture_on_commit_callbacks(execute=True):
        booking = f.make_booking(stay)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    (message,) = Message.objects.filter(key=f"booking:{booking.pk}:booking_confirmed")
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert "refused" in message.last_error.lower()


def test_booking_list_filters_by_status_and_date(shop):
    """The list filters by status and by date."""
    _provider, client, stay, on_request = shop
    confirmed = f.make_booking(stay, lead_name="Confirmed Traveller")
    f.make_booking(on_request, lead_name="Pending Traveller")
    f.make_booking(stay, day=dt.date(2027, 3, 11), lead_name="Later Traveller")
    html = client.get("/provider/bookings/").content.decode()
    assert all(
        name in html for name in ("Confirmed Traveller", "Pending", "Later Traveller")
    )
    html = client.get("/provider/bookings/?status=pending").content.decode()
    assert "Pending Traveller" in html and "Confirmed Traveller" not in html
    html = client.get("/provider/bookings/?date=2027-03-11").content.decode()
    assert "Later Traveller" in html and "Confirmed Traveller" not in html
    bad = client.get("/provider/bookings/?date=someday&status=nope")
    assert bad.status_code == 200 and bad.context["form"].errors
    detail = client.get(f"/provider/bookings/{confirmed.uuid}/").content.decode()
    assert "100.00 PEN" in detail and "ana@example.org" in detail


def test_manifest_lists_the_days_bookings_of_this_provider_only(shop):
    """The manifest shows who comes that day (units, contact, notes, listing, time,
    status) and nothing of other days or other providers."""
    provider, client, stay, on_request = shop
    f.make_booking(stay, lead_name="Today Guest", notes="Vegetarian")
    f.make_booking(on_request, lead_name="Asking Guest")
    f.make_booking(stay, day=dt.date(2027, 3, 11), lead_name="Tomorrow Guest")
    transport = f.make_transport_listing(provider)
    f.make_booking(transport, start_time=dt.time(7, 30), lead_name="Boat Guest")
    other = f.make_provider(place="copacabana")
    f.make_booking(f.make_listing(other), lead_name="Other Provider Guest")
    response = client.get("/provider/manifest/?date=2027-03-10")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Today Guest" in html and "Vegetarian" in html and "2 × Adult" in html
    assert "Asking Guest" in html and "Waiting for the provider" in html
    assert "Boat Guest" in html and "07:30" in html
    assert "+51 951 000 111" in html
    assert "Tomorrow Guest" not in html
    assert "Other Provider Guest" not in html
    assert "@media print" in html
    assert [row.booking.lead_name for row in response.context["rows"]] == [
        "Boat Guest",
        "Today Guest",
        "Asking Guest",
    ] or len(response.context["rows"]) == 3


def test_dashboard_counts_and_problems(shop):
    """The dashboard counts today's and upcoming bookings, lists requests to answer,
    open sync conflicts and failing feeds."""
    _provider, client, stay, on_request = shop
    f.make_booking(stay)
    f.make_booking(on_request, lead_name="Asking Guest")
    f.make_conflict(stay)
    f.make_feed(stay, name="Booking.com", last_error="HTTP 404 from the feed")
    response = client.get("/provider/")
    board = response.context["board"]
    assert board.upcoming_count == 2 and board.today_count == 0
    assert [row.booking.lead_name for row in board.waiting] == ["Asking Guest"]
    html = response.content.decode()
    assert "HTTP 404 from the feed" in html
    assert "2 sold, 6 blocked" in html
