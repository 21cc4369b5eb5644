"""An independent check of a rendered plan against its request and world.

It reads only the plan as the traveller sees it (days, steps, ISO times) and the
world snapshot, never the planner's internals, so a bug in the skeleton search, the
day model or the rendering shows up here. The planner runs it on every plan it
returns and treats a finding as a bug (never shown as a plan).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from itineraries.planning.world import Pace, PlanRequest, World

ALTITUDE_RULE_ABOVE_M = 3000
ALTITUDE_STEP_M = 500


class PlanBugError(RuntimeError):
    """A plan the planner produced breaks a rule: a bug, never a user error."""


def _minute(world: World, iso: str) -> int:
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {iso}")
    return int((moment - world.epoch).total_seconds() // 60)


def validate_plan(
    world: World,
    request: PlanRequest,
    days: list[dict],
    totals: dict,
    *,
    currency: str,
) -> list[str]:
    errors: list[str] = []
    rides = {ride.key: ride for ride in world.rides}
    offers = {offer.listing_id: offer for offer in world.offers}
    first_clock, last_clock, cap = Pace.LIMITS[request.pace]
    persons = request.persons
    if len(days) != request.days:
        errors.append(f"{len(days)} days for a {request.days}-day trip")
    seen_listings: set[int] = set()
    last_altitude: int | None = None
    for index, day in enumerate(days):
        date = request.start_date + dt.timedelta(days=index)
        where = f"day {index + 1}"
        if day["date"] != date.isoformat():
            errors.append(f"{where}: date {day['date']} is not {date}")
        night = day["night"]
        if index == len(days) - 1:
            if night is not None:
                errors.append(f"{where}: the last day has a night")
        elif night is None:
            errors.append(f"{where}: no night entry")
        previous_end: int | None = None
        active = 0
        for step in day["steps"]:
            label = f"{where} step {step['id']}"
            start, end = _minute(world, step["start"]), _minute(world, step["end"])
            if end < start:
                errors.append(f"{label}: ends before it starts")
            if previous_end is not None and start < previous_end:
                errors.append(f"{label}: starts before the previous step ends")
            previous_end = end
            kind = step["kind"]
            if step.get("ride"):
                ride = rides.get(step["ride"])
                if ride is None:
                    errors.append(f"{label}: ride {step['ride']} does not run")
                    continue
                if step["ride"] in request.drop_rides:
                    errors.append(f"{label}: uses a dropped ride")
                if ride.passage is not None and not ride.passage.passable:
                    errors.append(f"{label}: crosses {ride.passage.crossing} closed")
                if not ride.seats_ok:
                    errors.append(f"{label}: no seats for the party")
                leaves = kind == "transport" and step["from"] == ride.origin
                if leaves and start != ride.depart:
                    errors.append(f"{label}: not at the ride's departure time")
            elif kind == "activity":
                offer = offers.get(step["listing"])
                if offer is None or offer.listing_id in request.exclude:
                    errors.append(f"{label}: listing {step['listing']} not allowed")
                    continue
                if offer.listing_id in seen_listings:
                    errors.append(f"{label}: listing {offer.listing_id} twice")
                seen_listings.add(offer.listing_id)
                if not offer.party_ok:
                    errors.append(f"{label}: the party size is outside its limits")
                sessions = offer.sessions.get(date, ())
                if not any(
                    s.earliest <= start <= s.latest and s.free >= persons
                    for s in sessions
                ):
                    errors.append(f"{label}: no free session at that time")
                if end - start != offer.duration_min:
                    errors.append(f"{label}: wrong duration")
                pace_first = world.minute(offer.place, date, first_clock)
                pace_last = world.minute(offer.place, date, last_clock)
                if start < pace_first or end > pace_last:
                    errors.append(f"{label}: outside the pace's hours")
                if offer.strenuous and request.by_air and index == 0:
                    errors.append(f"{label}: strenuous on the day of a flight")
                active += offer.duration_min
            elif kind == "stay" and step.get("listing"):
                offer = offers.get(step["listing"])
                if offer is None or offer.kind != "stay":
                    errors.append(f"{label}: listing {step['listing']} is no stay")
                    continue
                if offer.place != step["place"]:
                    errors.append(f"{label}: stay is not in {step['place']}")
                if not any(s.free >= persons for s in offer.sessions.get(date, ())):
                    errors.append(f"{label}: no room for the party that night")
        if active > cap:
            errors.append(f"{where}: {active} active minutes over the pace's {cap}")
        if night and night.get("place"):
            altitude = night["altitude_m"]
            if (
                last_altitude is not None
                and altitude > ALTITUDE_RULE_ABOVE_M
                and altitude - last_altitude > ALTITUDE_STEP_M
            ):
                rise = altitude - last_altitude
                errors.append(f"{where}: sleeping altitude rises {rise} m")
            last_altitude = altitude
    if request.by_air:
        for index in range(min(2, len(days) - 1)):
            night = days[index]["night"] or {}
            if night.get("place") != request.origin:
                errors.append(f"day {index + 1}: not an acclimatisation night")
    for listing_id in request.include:
        offer = offers.get(listing_id)
        if offer is None or offer.kind == "stay":
            continue
        if listing_id not in seen_listings:
            errors.append(f"must-see listing {listing_id} is missing")
    if request.budget is not None and totals:
        spent = _total_minor(totals, currency)
        # Each price is converted on its own: allow half a minor unit per item.
        items = sum(1 for day in days for step in day["steps"] if step.get("price"))
        if spent > request.budget.amount_minor + items:
            errors.append(
                f"total {spent} over the budget {request.budget.amount_minor}"
            )
    return errors


def _total_minor(totals: dict, currency: str) -> int:
    from decimal import Decimal

    from catalogue.models import CURRENCY_EXPONENT

    amount = Decimal(totals["amount"])
    return int(amount * 10 ** CURRENCY_EXPONENT[currency])


def count_by_kind(days: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for day in days:
        for step in day["steps"]:
            counts[step["kind"]] += 1
    return dict(counts)
