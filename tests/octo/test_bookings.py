"""Booking rules behind the OCTO endpoints: idempotent reserve, hold expiry (lazy,
releasing places), agencies isolated from each other, on-request listings, the
cancellation policy, extend and update rules, and the provider's manifest."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from providers.models import Booking, Listing, Slot
from providers.services import booking_accept, booking_decline
from tests.octo.conftest import DAY, availability_id, reserve_body
from tests.providers.factories import make_member

pytestmark = pytest.mark.django_db


def slot_of(listing: Listing, start_time: dt.time | None = None) -> Slot:
    return Slot.objects.get(listing=listing, date=DAY, start_time=start_time)


def expire(booking_uuid: str) -> None:
    """Let the hold's time run out (as if its expiry had passed)."""
    Booking.objects.filter(uuid=booking_uuid).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


def test_same_uuid_and_body_is_the_same_booking(world):
    """A retried reserve (same uuid, same body, key order aside) returns the same
    booking with the same unit item uuids, and holds nothing more."""
    client = world.agency_a.client()
    booking_uuid = str(uuid.uuid4())
    body = reserve_body(
        world.stay, availability_id(DAY), ["adult", "child"], uuid=booking_uuid
    )
    first = client.post("/bookings", body)
    replay = client.post("/bookings", dict(reversed(list(body.items()))))
    assert replay.status_code == 200
    assert replay.json()["uuid"] == first.json()["uuid"] == booking_uuid
    assert replay.json()["unitItems"] == first.json()["unitItems"]
    assert Booking.objects.count() == 1
    assert slot_of(world.stay).held == 2


def test_same_uuid_with_another_body_or_agency_is_refused(world):
    booking_uuid = str(uuid.uuid4())
    body = reserve_body(world.stay, availability_id(DAY), ["adult"], uuid=booking_uuid)
    world.agency_a.client().post("/bookings", body)
    changed = world.agency_a.client().post(
        "/bookings", {**body, "unitItems": [{"unitId": "adult"}] * 2}
    )
    assert changed.status_code == 400
    assert changed.json()["error"] == "INVALID_BOOKING_UUID"
    assert changed.json()["uuid"] == booking_uuid
    other = world.agency_b.client().post("/bookings", body)
    assert other.status_code == 400
    assert other.json() == {
        "error": "INVALID_BOOKING_UUID",
        "errorMessage": other.json()["errorMessage"],
        "uuid": booking_uuid,
    }
    assert Booking.objects.count() == 1 and slot_of(world.stay).held == 1


def test_reserve_without_uuid_makes_one(world):
    client = world.agency_a.client()
    body = reserve_body(world.stay, availability_id(DAY), ["adult"])
    a, b = client.post("/bookings", body).json(), client.post("/bookings", body).json()
    assert a["uuid"] != b["uuid"] and slot_of(world.stay).held == 2


def test_expiration_is_capped(world, settings):
    settings.HOLD_MAX_MINUTES = 90
    client = world.agency_a.client()
    hold = client.post(
        "/bookings",
        reserve_body(
            world.stay, availability_id(DAY), ["adult"], expirationMinutes=100000
        ),
    ).json()
    left = dt.datetime.fromisoformat(hold["utcExpiresAt"]) - timezone.now()
    assert dt.timedelta(minutes=89) < left <= dt.timedelta(minutes=90)
    default = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"])
    ).json()
    left = dt.datetime.fromisoformat(default["utcExpiresAt"]) - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)


def test_expiration_is_capped_by_the_agencys_contract(world):
    """An agency's contract (Agency.hold_max_minutes, edited in the admin) caps its
    holds, on reserve and on extend; another agency keeps HOLD_MAX_MINUTES."""
    agency = world.agency_a.agency
    agency.hold_max_minutes = 45
    agency.save()
    client = world.agency_a.client()
    body = reserve_body(
        world.stay, availability_id(DAY), ["adult"], expirationMinutes=600
    )
    hold = client.post("/bookings", body).json()
    left = dt.datetime.fromisoformat(hold["utcExpiresAt"]) - timezone.now()
    assert dt.timedelta(minutes=44) < left <= dt.timedelta(minutes=45)
    extended = client.post(
        f"/bookings/{hold['uuid']}/extend", {"expirationMinutes": 600}
    ).json()
    left = dt.datetime.fromisoformat(extended["utcExpiresAt"]) - timezone.now()
    assert dt.timedelta(minutes=44) < left <= dt.timedelta(minutes=45)
    other = world.agency_b.client().post("/bookings", body).json()
    left = dt.datetime.fromisoformat(other["utcExpiresAt"]) - timezone.now()
    assert dt.timedelta(minutes=599) < left <= dt.timedelta(minutes=600)


def test_an_expired_hold_is_expired_on_read_and_its_places_released(world):
    client = world.agency_a.client()
    hold = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"] * 6)
    ).json()
    assert slot_of(world.stay).held == 6
    sold_out = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"])
    )
    assert sold_out.json()["error"] == "UNPROCESSABLE_ENTITY"
    expire(hold["uuid"])
    read = client.get(f"/bookings/{hold['uuid']}").json()
    assert read["status"] == "EXPIRED"
    assert read["utcExpiresAt"] is None and read["cancellation"] is None
    assert read["cancellable"] is False
    assert slot_of(world.stay).held == 0
    again = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"] * 6)
    )
    assert again.json()["status"] == "ON_HOLD"


def test_confirming_an_expired_hold_is_refused_and_releases_it(world):
    """OCTO: confirming an expired booking is INVALID_BOOKING_UUID."""
    client = world.agency_a.client()
    hold = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"] * 2)
    ).json()
    expire(hold["uuid"])
    refused = client.post(
        f"/bookings/{hold['uuid']}/confirm", {"contact": {"fullName": "Ana"}}
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "INVALID_BOOKING_UUID"
    assert Booking.objects.get(uuid=hold["uuid"]).status == Booking.Status.EXPIRED
    assert slot_of(world.stay).held == 0
    extend = client.post(f"/bookings/{hold['uuid']}/extend", {"expirationMinutes": 5})
    assert extend.json()["error"] == "INVALID_BOOKING_UUID"
    listed = client.get(f"/bookings?localDate={DAY.isoformat()}").json()
    assert [b["status"] for b in listed] == ["EXPIRED"]


def test_the_periodic_sweep_and_the_lazy_check_agree(world):
    """A hold the sweep already expired reads as EXPIRED with its places released
    once (never twice)."""
    from providers.services import booking_expire_holds

    client = world.agency_a.client()
    hold = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"] * 2)
    ).json()
    expire(hold["uuid"])
    assert booking_expire_holds() == 1
    assert client.get(f"/bookings/{hold['uuid']}").json()["status"] == "EXPIRED"
    assert slot_of(world.stay).held == 0


def test_agencies_never_see_or_touch_each_others_bookings(world):
    """Agency B gets INVALID_BOOKING_UUID for A's booking on every endpoint, none of
    its data, and nothing changes; A's lists do not include B's bookings."""
    a, b = world.agency_a.client(), world.agency_b.client()
    hold = a.post(
        "/bookings",
        reserve_body(
            world.stay, availability_id(DAY), ["adult"], resellerReference="SECRET"
        ),
    ).json()
    path = f"/bookings/{hold['uuid']}"
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"notes": "mine now"}),
        ("POST", "/confirm", {"contact": {"fullName": "Mallory"}}),
        ("POST", "/extend", {"expirationMinutes": 600}),
        ("POST", "/cancel", {}),
    ):
        response = b.request(method, path + suffix, body)
        assert response.status_code == 400
        payload = response.json()
        assert payload["error"] == "INVALID_BOOKING_UUID"
        assert set(payload) == {"error", "errorMessage", "uuid"}
        assert "SECRET" not in response.content.decode()
    booking = Booking.objects.get(uuid=hold["uuid"])
    assert booking.status == Booking.Status.ON_HOLD
    assert booking.notes == "" and booking.lead_name == ""
    assert booking.expires_at.replace(microsecond=0) == dt.datetime.fromisoformat(
        hold["utcExpiresAt"]
    )
    assert slot_of(world.stay).held == 1
    assert b.get("/bookings?resellerReference=SECRET").json() == []
    assert b.get(f"/bookings?localDate={DAY.isoformat()}").json() == []
    assert len(a.get("/bookings?resellerReference=SECRET").json()) == 1


def test_on_request_listing_waits_for_the_provider(world):
    """Confirm → PENDING (places still held, no confirmation time) until the
    provider accepts (CONFIRMED) or declines (REJECTED, places released)."""
    world.tour.confirmation = Listing.Confirmation.ON_REQUEST
    world.tour.save()
    client = world.agency_a.client()
    product = client.get(f"/products/{world.tour.pk}").json()
    assert product["instantConfirmation"] is False
    uuids = []
    for _n in range(2):
        hold = client.post(
            "/bookings",
            reserve_body(world.tour, availability_id(DAY, "14:00"), ["adult"]),
        ).json()
        pending = client.post(
            f"/bookings/{hold['uuid']}/confirm", {"contact": {"fullName": "Ana"}}
        ).json()
        assert pending["status"] == "PENDING"
        assert pending["utcConfirmedAt"] is None and pending["utcExpiresAt"] is None
        assert pending["voucher"] is None
        uuids.append(hold["uuid"])
    slot = slot_of(world.tour, dt.time(14, 0))
    assert (slot.held, slot.booked) == (2, 0)
    booking_accept(booking=Booking.objects.get(uuid=uuids[0]))
    booking_decline(booking=Booking.objects.get(uuid=uuids[1]))
    accepted = client.get(f"/bookings/{uuids[0]}").json()
    assert accepted["status"] == "CONFIRMED" and accepted["utcConfirmedAt"]
    declined = client.get(f"/bookings/{uuids[1]}").json()
    assert declined["status"] == "REJECTED" and declined["cancellable"] is False
    slot.refresh_from_db()
    assert (slot.held, slot.booked) == (0, 1)


def test_cancellation_follows_the_policy(world):
    """Confirmed bookings are cancellable until the cut-off (48 h before check-in);
    after it, cancel and update are UNPROCESSABLE_ENTITY and nothing changes."""
    client = world.agency_a.client()
    today = timezone.localdate(timezone=world.stay.place.zone)
    soon = today + dt.timedelta(days=2)
    world.stay.booking_cutoff_hours = 0
    world.stay.save()
    hold = client.post(
        "/bookings", reserve_body(world.stay, availability_id(soon), ["adult"])
    ).json()
    assert hold["cancellable"] is True  # a hold can always be let go
    confirmed = client.post(
        f"/bookings/{hold['uuid']}/confirm", {"contact": {"fullName": "Ana"}}
    ).json()
    # Check-in is at 14:00 in two days: inside 48 h from any time after 14:00 today.
    starts = dt.datetime.combine(soon, dt.time(14), tzinfo=world.stay.place.zone)
    inside = starts - timezone.now() < dt.timedelta(hours=48)
    assert confirmed["cancellable"] is not inside
    if not inside:
        world.stay.cancellation_cutoff_hours = 24 * 5
        world.stay.save()
        assert client.get(f"/bookings/{hold['uuid']}").json()["cancellable"] is False
    refused = client.post(f"/bookings/{hold['uuid']}/cancel", {})
    assert refused.json()["error"] == "UNPROCESSABLE_ENTITY"
    patch = client.patch(f"/bookings/{hold['uuid']}", {"notes": "late change"})
    assert patch.json()["error"] == "UNPROCESSABLE_ENTITY"
    booking = Booking.objects.get(uuid=hold["uuid"])
    assert booking.status == Booking.Status.CONFIRMED and booking.notes == ""


def test_cancel_a_hold_releases_it(world):
    client = world.agency_a.client()
    hold = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"] * 2)
    ).json()
    cancelled = client.post(f"/bookings/{hold['uuid']}/cancel").json()
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancellation"]["refund"] == "FULL"
    assert cancelled["utcConfirmedAt"] is None
    assert slot_of(world.stay).held == 0
    confirm = client.post(
        f"/bookings/{hold['uuid']}/confirm", {"contact": {"fullName": "Ana"}}
    )
    assert confirm.json()["error"] == "UNPROCESSABLE_ENTITY"


def test_extend_and_update_rules(world):
    client = world.agency_a.client()
    hold = client.post(
        "/bookings",
        reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult", "child"]),
    ).json()
    path = f"/bookings/{hold['uuid']}"
    patched = client.patch(
        path,
        {
            "resellerReference": "R-2",
            "expirationMinutes": 120,
            "productId": str(world.tour.pk),
            "optionId": "DEFAULT",
            "availabilityId": availability_id(DAY, "07:30"),
        },
    ).json()
    assert patched["resellerReference"] == "R-2"
    left = dt.datetime.fromisoformat(patched["utcExpiresAt"]) - timezone.now()
    assert dt.timedelta(minutes=119) < left <= dt.timedelta(minutes=120)
    for change, code in (
        ({"availabilityId": availability_id(DAY, "09:00")}, "INVALID_AVAILABILITY_ID"),
        # Another product needs the availability to move to.
        ({"productId": str(world.stay.pk)}, "INVALID_AVAILABILITY_ID"),
        ({"productId": "999999"}, "INVALID_PRODUCT_ID"),
        ({"optionId": "VIP"}, "INVALID_OPTION_ID"),
        ({"unitItems": [{"unitId": "ghost"}]}, "INVALID_UNIT_ID"),
        ({"expirationMinutes": -5}, "BAD_REQUEST"),
    ):
        response = client.patch(path, change)
        assert response.json()["error"] == code, change
    client.post(f"{path}/confirm", {"contact": {"fullName": "Ana"}})
    extend = client.post(f"{path}/extend", {"expirationMinutes": 10})
    assert extend.json()["error"] == "UNPROCESSABLE_ENTITY"
    no_expiry = client.patch(path, {"expirationMinutes": 10})
    assert no_expiry.json()["error"] == "UNPROCESSABLE_ENTITY"
    items = client.get(path).json()["unitItems"]
    renamed = client.patch(
        path,
        {
            "unitItems": [
                {
                    **{k: items[1][k] for k in ("uuid", "unitId")},
                    "resellerReference": "C",
                },
                {"unitId": "adult", "contact": {"firstName": "Ana"}},
            ]
        },
    ).json()
    assert {i["uuid"] for i in renamed["unitItems"]} == {i["uuid"] for i in items}
    assert slot_of(world.tour, dt.time(7, 30)).booked == 2


def test_confirm_is_idempotent_and_needs_a_contact(world):
    client = world.agency_a.client()
    hold = client.post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"])
    ).json()
    path = f"/bookings/{hold['uuid']}/confirm"
    assert client.post(path, {}).json()["error"] == "BAD_REQUEST"
    first = client.post(path, {"contact": {"fullName": "Ana"}}).json()
    second = client.post(path, {"contact": {"fullName": "Ana"}}).json()
    assert first["status"] == second["status"] == "CONFIRMED"
    assert slot_of(world.stay).booked == 1 and slot_of(world.stay).held == 0


def test_agency_bookings_are_on_the_provider_manifest(world):
    """An agency's confirmed booking shows on the provider's manifest with the
    traveller's name and contact taken from the OCTO contact; holds do not."""
    client = world.agency_a.client()
    booked = client.post(
        "/bookings",
        reserve_body(
            world.stay, availability_id(DAY), ["adult", "adult"], notes="Late"
        ),
    ).json()
    client.post(
        f"/bookings/{booked['uuid']}/confirm",
        {
            "contact": {
                "firstName": "Rosa",
                "lastName": "Mamani",
                "emailAddress": "rosa@example.org",
                "phoneNumber": "+591 700 000 00",
            }
        },
    )
    client.post(
        "/bookings",
        reserve_body(
            world.stay,
            availability_id(DAY),
            ["adult"],
            contact={"fullName": "Only Holding"},
        ),
    )
    portal = Client()
    portal.force_login(make_member(world.provider))
    page = portal.get(f"/provider/manifest/?date={DAY.isoformat()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Rosa Mamani" in html and "rosa@example.org" in html
    assert "+591 700 000 00" in html and "Late" in html
    assert "Only Holding" not in html
    assert "via Agency A" in html
    (row,) = page.context["rows"]
    assert row.booking.agency.name == "Agency A"
    assert row.booking.channel == Booking.Channel.AGENCY


def test_a_booking_is_never_attached_to_another_agency(world):
    """The selector that completes a booking for its OCTO object refuses another
    agency's booking (callers look bookings up by agency first)."""
    from octo.selectors import booking_with_listing

    world.agency_a.client().post(
        "/bookings", reserve_body(world.stay, availability_id(DAY), ["adult"])
    )
    booking = Booking.objects.get()
    with pytest.raises(ValueError):
        booking_with_listing(booking, agency=world.agency_b.agency)
    assert Booking.objects.get().agency == world.agency_a.agency


def test_a_hold_never_runs_past_the_cutoff(world):
    """OCTO's utcCutoffAt: a hold's utcExpiresAt is capped at the availability's
    cut-off (on reserve, extend and PATCH), and once the cut-off has passed the hold
    can be neither extended nor confirmed."""
    from providers.selectors import booking_cutoff_at, slot_starts_at

    client = world.agency_a.client()
    starts = slot_starts_at(listing=world.tour, day=DAY, start_time=dt.time(7, 30))
    hours = (starts - timezone.now()) / dt.timedelta(hours=1)
    # The cut-off falls within the next hour.
    world.tour.booking_cutoff_hours = int(hours)
    world.tour.save()
    cutoff = booking_cutoff_at(listing=world.tour, day=DAY, start_time=dt.time(7, 30))
    assert timezone.now() < cutoff <= timezone.now() + dt.timedelta(hours=1)
    body = reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult"])
    hold = client.post("/bookings", {**body, "expirationMinutes": 120}).json()
    assert hold["status"] == "ON_HOLD"
    assert dt.datetime.fromisoformat(hold["utcExpiresAt"]) == cutoff
    path = f"/bookings/{hold['uuid']}"
    for extended in (
        client.post(f"{path}/extend", {"expirationMinutes": 120}).json(),
        client.patch(path, {"expirationMinutes": 120}).json(),
    ):
        assert dt.datetime.fromisoformat(extended["utcExpiresAt"]) == cutoff
    # The cut-off passes (an hour later, as far as the hold is concerned): a
    # running hold is refused an extension and a confirmation, and stays held.
    Booking.objects.filter(uuid=hold["uuid"]).update(
        expires_at=timezone.now() + dt.timedelta(minutes=30)
    )
    world.tour.booking_cutoff_hours = int(hours) + 1
    world.tour.save()  # as the provider portal saves it (the OCTO caches follow)
    for refused in (
        client.post(f"{path}/extend", {"expirationMinutes": 10}),
        client.post(f"{path}/confirm", {"contact": {"fullName": "Ana"}}),
    ):
        assert refused.status_code == 400, refused.json()
        assert refused.json()["error"] == "UNPROCESSABLE_ENTITY"
        assert "cut-off" in refused.json()["errorMessage"]
    assert Booking.objects.get(uuid=hold["uuid"]).status == Booking.Status.ON_HOLD


def test_unit_prices_are_frozen_at_reserve_and_add_up_exactly(world):
    """Each unit item keeps the price it was reserved at when the provider changes
    prices later, and with a 12.5 % commission the per-item nets add up to the
    booking's net exactly (each rounded on its own they came one céntimo short:
    2 × (5555 − 695) = 9720 against 11110 − 1389 = 9721)."""
    from tests.octo.conftest import make_agency

    adult = world.tour.units.get(code="adult")
    adult.price_minor = 5555
    adult.save()
    agency = make_agency("Agency 12.5", commission_bps=1250)
    client = agency.client()
    booking_uuid = str(uuid.uuid4())
    held = client.post(
        "/bookings",
        reserve_body(
            world.tour,
            availability_id(DAY, "07:30"),
            ["adult", "adult"],
            uuid=booking_uuid,
        ),
    )
    assert held.status_code == 200, held.json()
    body = held.json()
    assert body["pricing"]["retail"] == 11110 and body["pricing"]["net"] == 9721
    items = body["unitItems"]
    assert [i["pricing"]["retail"] for i in items] == [5555, 5555]
    assert sum(i["pricing"]["net"] for i in items) == 9721

    # A seasonal rise after the reserve does not reprice the booking.
    adult.price_minor = 7777
    adult.save()
    later = client.get(f"/bookings/{booking_uuid}").json()
    assert [i["pricing"]["retail"] for i in later["unitItems"]] == [5555, 5555]
    assert later["pricing"]["retail"] == 11110
    assert sum(i["pricing"]["net"] for i in later["unitItems"]) == 9721
    assert Booking.objects.get(uuid=booking_uuid).unit_prices == {"adult": 5555}
    # New reserves take the new price.
    other = client.post(
        "/bookings",
        reserve_body(world.tour, availability_id(DAY, "14:00"), ["adult"]),
    ).json()
    assert other["unitItems"][0]["pricing"]["retail"] == 7777


def test_split_exactly_uses_the_largest_remainders():
    from providers.services.bookings import split_exactly

    assert split_exactly(9721, [5555, 5555]) == [4861, 4860]
    assert split_exactly(10, [1, 1, 1]) == [4, 3, 3]
    assert split_exactly(100, [0, 0]) == [50, 50]
    assert split_exactly(7, []) == []
    for total, weights in ((12345, [3, 7, 11]), (1, [5, 5, 5]), (0, [2, 9])):
        parts = split_exactly(total, weights)
        assert sum(parts) == total
        assert all(p >= 0 for p in parts)


def test_changes_move_the_places_all_or_nothing(world):
    """PATCH moves a booking to another time, other units or another product of
    the same provider, and confirm takes other units: the new places are taken and
    the old released together; when they do not fit nothing changes. A confirmed
    booking stays confirmed and its provider gets a "changed" e-mail."""
    from outbox.models import Message
    from tests.providers.factories import make_listing, make_provider

    client = world.agency_a.client()
    hold = client.post(
        "/bookings",
        reserve_body(world.tour, availability_id(DAY, "07:30"), ["adult", "child"]),
    ).json()
    path = f"/bookings/{hold['uuid']}"
    moved = client.patch(path, {"availabilityId": availability_id(DAY, "14:00")})
    assert moved.status_code == 200, moved.json()
    assert moved.json()["availabilityId"] == availability_id(DAY, "14:00")
    assert moved.json()["status"] == "ON_HOLD"
    assert (
        slot_of(world.tour, dt.time(7, 30)).held,
        slot_of(world.tour, dt.time(14)).held,
    ) == (0, 2)

    more = client.patch(path, {"unitItems": [{"unitId": "adult"}] * 3}).json()
    assert [i["unitId"] for i in more["unitItems"]] == ["adult"] * 3
    adult = world.tour.units.get(code="adult").price_minor
    assert more["pricing"]["retail"] == 3 * adult
    assert slot_of(world.tour, dt.time(14)).held == 3

    confirmed = client.post(
        f"{path}/confirm",
        {"contact": {"fullName": "Ana"}, "unitItems": [{"unitId": "adult"}] * 2},
    ).json()
    assert confirmed["status"] == "CONFIRMED"
    assert len(confirmed["unitItems"]) == 2
    slot = slot_of(world.tour, dt.time(14))
    assert (slot.held, slot.booked) == (0, 2)

    next_day = DAY + dt.timedelta(days=1)
    later = client.patch(path, {"availabilityId": availability_id(next_day, "07:30")})
    assert later.json()["status"] == "CONFIRMED"
    assert slot_of(world.tour, dt.time(14)).booked == 0
    assert (
        Slot.objects.get(
            listing=world.tour, date=next_day, start_time=dt.time(7, 30)
        ).booked
        == 2
    )
    assert Message.objects.filter(key__contains=":changed:").count() == 1

    # No room on the new time: refused, and the booking and every counter stay.
    from providers.services.availability import slot_get_or_create

    full = slot_get_or_create(listing=world.tour, day=next_day, start_time=dt.time(14))
    full.capacity = 1
    full.save()
    refused = client.patch(path, {"availabilityId": availability_id(next_day, "14:00")})
    assert refused.status_code == 400, refused.json()
    assert refused.json()["error"] == "UNPROCESSABLE_ENTITY"
    after = client.get(path).json()
    assert after["availabilityId"] == availability_id(next_day, "07:30")
    assert (
        Slot.objects.get(
            listing=world.tour, date=next_day, start_time=dt.time(7, 30)
        ).booked
        == 2
    )
    full.refresh_from_db()
    assert (full.held, full.booked) == (0, 0)

    # Another product of another provider: refused; of the same provider: moved.
    stranger = make_listing(make_provider(), kind=Listing.Kind.STAY)
    other = client.patch(
        path,
        {"productId": str(stranger.pk), "availabilityId": availability_id(next_day)},
    )
    assert other.json()["error"] == "UNPROCESSABLE_ENTITY"
    to_stay = client.patch(
        path,
        {"productId": str(world.stay.pk), "availabilityId": availability_id(next_day)},
    )
    assert to_stay.status_code == 200, to_stay.json()
    assert to_stay.json()["productId"] == str(world.stay.pk)
    assert Slot.objects.get(listing=world.stay, date=next_day).booked == 2
    assert (
        Slot.objects.get(
            listing=world.tour, date=next_day, start_time=dt.time(7, 30)
        ).booked
        == 0
    )
