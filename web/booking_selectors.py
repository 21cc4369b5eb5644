"""Reads for the booking pages: a trip booking as rows to show (local times with
their offset, persons, price, status, refund), trips found by their manage token,
and what cancelling would refund."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import formats, timezone, translation

from catalogue.models import minor_to_decimal
from catalogue.services import money_to_minor
from itineraries.models import TripBooking
from itineraries.planning.money import sum_by_currency
from itineraries.selectors import (
    manage_token_hash,
    plan_trip_parts,
    trip_booking_list,
    trip_parts_in_plan_order,
)
from providers.models import Booking
from providers.services.bookings import cancellation_refund
from web.ics import localised

CANCELLABLE = (Booking.Status.ON_HOLD, Booking.Status.PENDING, Booking.Status.CONFIRMED)


def language() -> str:
    return "es" if (translation.get_language() or "en").startswith("es") else "en"


def money_text(amount_minor: int, currency: str) -> str:
    value = minor_to_decimal(amount_minor, currency)
    shown = formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    return f"{shown} {currency}"


def local_text(moment: dt.datetime) -> str:
    """``Tue 3 Dec 2026, 14:00 (UTC−05:00)``: the place's wall clock and offset."""
    offset = moment.strftime("%z")
    sign = "−" if offset.startswith("-") else "+"
    shown = formats.date_format(moment.replace(tzinfo=None), "D j M Y, H:i")
    return f"{shown} (UTC{sign}{offset[1:3]}:{offset[3:5]})"


def _iso_text(value: str | None) -> str:
    return local_text(dt.datetime.fromisoformat(value)) if value else ""


def _totals(amounts: list[tuple[int, str]]) -> list[str]:
    return [money_text(value, currency) for currency, value in sum_by_currency(amounts)]


def part_refund(booking: Booking, now: dt.datetime | None = None) -> int | None:
    """What cancelling the part now would refund (None: it cannot be cancelled):
    held and waiting parts in full, confirmed ones under their listing's policy."""
    now = now or timezone.now()
    if booking.status in Booking.HOLDING:
        return booking.total_minor
    if booking.status == Booking.Status.CONFIRMED:
        return cancellation_refund(booking=booking, now=now)
    return None


def _money_from(price: Any) -> tuple[int, str] | None:
    """A plan price (``{"amount": "12.50", "currency": "PEN"}``) in minor units."""
    if not isinstance(price, dict) or not price.get("currency"):
        return None
    return money_to_minor(price["amount"], price["currency"]), price["currency"]


def trip_rows(trip: TripBooking, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the checkout, manage, print pages and the email show of ``trip`` (from
    ``trip_booking_list``): its parts in plan order, the parts paid locally and the
    totals per currency."""
    now = now or timezone.now()
    lang = language()
    parts = []
    for item in trip_parts_in_plan_order(trip):
        part, step, starts = item.part, item.step, item.starts
        booking = part.booking
        listing = booking.listing
        refund_now = part_refund(booking, now)
        parts.append(
            {
                "id": part.pk,
                "step_id": part.step_id,
                "kind": step.get("kind", listing.kind),
                "title": localised(step.get("title"), lang)
                or (listing.title_es if lang == "es" else listing.title_en),
                "provider": listing.provider.name,
                "reference": booking.supplier_reference,
                "starts": local_text(starts),
                "starts_iso": starts.isoformat(),
                "place": listing.place.name_es
                if lang == "es"
                else listing.place.name_en,
                "persons": booking.persons,
                "price": money_text(booking.total_minor, booking.currency),
                "status": booking.status,
                "status_display": booking.get_status_display(),
                "on_request": listing.confirmation == listing.Confirmation.ON_REQUEST,
                "refund": money_text(booking.refund_minor, booking.currency)
                if booking.refund_minor is not None
                else "",
                "refund_now": money_text(refund_now, booking.currency)
                if refund_now is not None
                else "",
                "refund_now_minor": refund_now,
                "refund_full": refund_now == booking.total_minor,
                "cancellable": trip.status == TripBooking.Status.CONFIRMED
                and booking.status
                in (Booking.Status.PENDING, Booking.Status.CONFIRMED),
                "policy_hours": listing.cancellation_cutoff_hours,
                "policy_percent": listing.cancellation_refund_percent,
                "booking": booking,
            }
        )
    _held, local = plan_trip_parts(trip.plan)
    pay_locally = []
    local_amounts = []
    for spec in local:
        price = _money_from(spec.price)
        if price:
            local_amounts.append(price)
        pay_locally.append(
            {
                "step_id": spec.step_id,
                "kind": spec.kind,
                "title": localised(spec.title, lang),
                "starts": _iso_text(spec.start) or spec.day.isoformat(),
                "price": money_text(*price) if price else "",
                "transport": spec.kind == "transport",
            }
        )
    live = [p["booking"] for p in parts if p["booking"].status not in Booking.ENDED]
    bookings = [p["booking"] for p in parts]
    return {
        "parts": parts,
        "pay_locally": pay_locally,
        "totals": {
            "held": _totals([(b.total_minor, b.currency) for b in live]),
            "local": _totals(local_amounts),
            "refund": _totals(
                [(b.refund_minor, b.currency) for b in bookings if b.refund_minor]
            ),
            "refund_now": _totals(
                [
                    (p["refund_now_minor"], p["booking"].currency)
                    for p in parts
                    if p["refund_now_minor"] is not None
                ]
            ),
        },
        "pending": [p for p in parts if p["status"] == Booking.Status.PENDING],
    }


def trip_by_manage_token(token: str) -> TripBooking | None:
    """The website trip booking whose manage token this is (compared by its SHA-256;
    agency bookings have none), else None."""
    if not token or len(token) > 200:
        return None
    return (
        trip_booking_list()
        .filter(manage_token_hash=manage_token_hash(token), agency__isnull=True)
        .first()
    )
