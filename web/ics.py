"""A trip booking as an iCalendar (RFC 5545) file: one VEVENT per timed step of the
plan (every step with a start and an end), times in the zone of the place where
they happen (``TZID``) with one VTIMEZONE per zone used.

A ride starts in its origin's zone and ends in its destination's (a bus crossing
into Bolivia starts on Peru time and ends on Bolivia time). Steps whose booking was
cancelled, expired or declined are kept as ``STATUS:CANCELLED`` events, on-request
parts still waiting for their provider as ``TENTATIVE``, free time as transparent
(it does not make the traveller busy).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
from django.utils import timezone, translation

from catalogue.models import Place
from itineraries.models import TripBooking
from providers.models import Booking

PRODID = "-//Titicaca route//Trip booking//EN"
UID_DOMAIN = "trips.titicaca-route"


def localised(value: Any, language: str) -> str:
    """A ``{"en": …, "es": …}`` text of a plan in ``language`` (else English)."""
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    return str(value or "")


def _language() -> str:
    return "es" if (translation.get_language() or "en").startswith("es") else "en"


def _places(days: list[dict]) -> dict[str, Place]:
    slugs = set()
    for day in days:
        for step in day["steps"]:
            slugs.update(
                s for s in (step.get("place"), step.get("from"), step.get("to")) if s
            )
    return {
        place.slug: place
        for place in Place.objects.filter(slug__in=slugs).select_related("country")
    }


def _in_zone(value: str, place: Place | None) -> dt.datetime:
    """An ISO 8601 time of the plan in the place's IANA zone (same instant)."""
    moment = dt.datetime.fromisoformat(value)
    if place is None:
        return moment.astimezone(dt.UTC)
    return moment.astimezone(place.zone)


def _place_name(place: Place | None, slug: str, language: str) -> str:
    if place is None:
        return slug
    return place.name_es if language == "es" else place.name_en


def _booking_status(booking: Booking | None, trip: TripBooking) -> str:
    if trip.status in (TripBooking.Status.CANCELLED, TripBooking.Status.EXPIRED):
        return "CANCELLED"
    if booking is None:
        return (
            "CONFIRMED"
            if trip.status == TripBooking.Status.CONFIRMED
            else ("TENTATIVE")
        )
    if booking.status in Booking.ENDED:
        return "CANCELLED"
    if booking.status in Booking.HOLDING:
        return "TENTATIVE"
    return "CONFIRMED"


def trip_calendar(
    trip: TripBooking, *, language: str | None = None, now: dt.datetime | None = None
) -> bytes:
    """The whole trip as an ``.ics`` body (``trip`` from ``trip_booking_get``)."""
    language = language or _language()
    now = now or timezone.now()
    days = trip.plan.days or []
    places = _places(days)
    bookings = {part.step_id: part.booking for part in trip.parts.all()}
    # A ride split at a border is one part, named by its first step: its other steps
    # share that booking.
    by_ride: dict[str, Booking] = {}
    for day in days:
        for step in day["steps"]:
            if step.get("ride") and step["id"] in bookings:
                by_ride.setdefault(step["ride"], bookings[step["id"]])

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", localised(_trip_name(trip, places), language))
    for day in days:
        for step in day["steps"]:
            if not step.get("start") or not step.get("end"):
                continue
            start_slug = step.get("place") or step.get("from") or ""
            end_slug = step.get("place") or step.get("to") or start_slug
            start_place, end_place = places.get(start_slug), places.get(end_slug)
            booking = bookings.get(step["id"]) or by_ride.get(step.get("ride") or "")
            event = icalendar.Event()
            event.add("uid", f"{trip.pk}-{step['id']}@{UID_DOMAIN}")
            event.add("dtstamp", now.astimezone(dt.UTC))
            event.add("dtstart", _in_zone(step["start"], start_place))
            event.add("dtend", _in_zone(step["end"], end_place))
            event.add("summary", localised(step.get("title"), language))
            if start_slug != end_slug:
                location = " → ".join(
                    (
                        _place_name(start_place, start_slug, language),
                        _place_name(end_place, end_slug, language),
                    )
                )
            else:
                location = _place_name(start_place, start_slug, language)
            if location:
                event.add("location", location)
            event.add("status", _booking_status(booking, trip))
            if step["kind"] == "free":
                event.add("transp", "TRANSPARENT")
            description = _description(step, booking, language)
            if description:
                event.add("description", description)
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _trip_name(trip: TripBooking, places: dict[str, Place]) -> dict[str, str]:
    request = trip.plan.request or {}
    origin, destination = request.get("origin", ""), request.get("destination", "")
    names = {}
    for language in ("en", "es"):
        names[language] = " → ".join(
            _place_name(places.get(slug), slug, language)
            for slug in (origin, destination)
        )
    return names


def _description(step: dict, booking: Booking | None, language: str) -> str:
    with translation.override(language):
        from django.utils.translation import gettext as _

        lines = []
        if step.get("provider"):
            lines.append(_("Provider: %(name)s") % {"name": step["provider"]})
        if booking is not None:
            lines.append(_("Reference: %(ref)s") % {"ref": booking.supplier_reference})
            lines.append(
                _("Status: %(status)s") % {"status": booking.get_status_display()}
            )
            lines.append(_("Persons: %(n)s") % {"n": booking.persons})
        elif step["kind"] != "free" and step.get("price"):
            lines.append(_("Not booked ahead: pay locally."))
        return "\n".join(lines)
