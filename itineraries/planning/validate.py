"""An independent check of a rendered plan against its request and world.

It reads only the plan as the traveller sees it (days, steps, ISO times, the
places each step starts and ends at) and the world snapshot, never the planner's
internals, so a bug in the skeleton search, the day model or the rendering shows up
here. The planner runs it on every plan it returns and treats a finding as a bug
(never shown as a plan).

What it checks: the plan is a path (each step starts where the previous one ended,
across nights too; the trip starts at the origin and ends at the destination; no
two steps overlap); rides run, through open borders, with seats, at their times;
transfers have a mode, a price and the minutes of a known transfer (or are marked
estimated); experiences and sights are in a free session, inside the pace's hours
and the day's active minutes; every night has a bed in the place the day ended;
altitude and acclimatisation; must-sees, exclusions and the budget.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from itineraries.planning.world import Pace, PlanRequest, World, sight_key

ALTITUDE_RULE_ABOVE_M = 3000
ALTITUDE_STEP_M = 500
MOVING = ("transport", "border")


class PlanBugError(RuntimeError):
    """A plan the planner produced breaks a rule: a bug, never a user error."""


def _minute(world: World, iso: str) -> int:
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {iso}")
    return int((moment - world.epoch).total_seconds() // 60)


def _offset_ok(world: World, iso: str, place: str) -> bool:
    moment = dt.datetime.fromisoformat(iso)
    info = world.places.get(place)
    if info is None:
        return False
    return moment.utcoffset() == moment.astimezone(info.zone).utcoffset()


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
    offers = {offer.key: offer for offer in world.offers}
    first_clock, last_clock, cap = Pace.LIMITS[request.pace]
    persons = request.persons
    if len(days) != request.days:
        errors.append(f"{len(days)} days for a {request.days}-day trip")
    seen_items: set = set()
    visited_sights: set = set()  # sights visited on their own (not ride stops)
    last_altitude: int | None = None
    here = request.origin
    previous_end: int | None = None
    used_rides: set[str] = set()
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
        active = 0
        stay_place: str | None = None
        for step in day["steps"]:
            label = f"{where} step {step['id']}"
            kind = step["kind"]
            origin, destination = step.get("from"), step.get("to")
            if origin is None or destination is None:
                errors.append(f"{label}: no from/to")
                continue
            if origin != here:
                errors.append(
                    f"{label}: starts at {origin}, the traveller is at {here}"
                )
            start, end = _minute(world, step["start"]), _minute(world, step["end"])
            if not _offset_ok(world, step["start"], origin):
                errors.append(f"{label}: start offset is not {origin}'s")
            if not _offset_ok(world, step["end"], destination):
                errors.append(f"{label}: end offset is not {destination}'s")
            if end < start:
                errors.append(f"{label}: ends before it starts")
            if previous_end is not None and start < previous_end:
                errors.append(f"{label}: starts before the previous step ends")
            previous_end = end
            here = destination
            if kind not in MOVING and kind != "activity" and origin != destination:
                errors.append(f"{label}: a {kind} that moves")
            if step.get("ride"):
                errors.extend(
                    _check_ride(step, label, rides, request, start, used_rides)
                )
            elif kind == "transport":
                errors.extend(_check_transfer(world, step, label, start, end))
            elif kind in ("activity", "sight"):
                key = (
                    step.get("listing")
                    if kind == "activity"
                    else f"sight:{step.get('sight')}"
                )
                offer = offers.get(key)
                if offer is None or key in request.exclude:
                    errors.append(f"{label}: {key} not allowed")
                    continue
                if key in seen_items:
                    errors.append(f"{label}: {key} twice")
                seen_items.add(key)
                if step.get("stop"):
                    continue  # a stop of a ride (its time is the ride's)
                if kind == "sight":
                    visited_sights.add(step.get("sight"))
                if origin != offer.place or destination != offer.ends_at:
                    errors.append(f"{label}: not from {offer.place} to {offer.ends_at}")
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
                pace_last = world.minute(offer.ends_at, date, last_clock)
                if start < pace_first or end > pace_last:
                    errors.append(f"{label}: outside the pace's hours")
                if offer.strenuous and request.by_air and index == 0:
                    errors.append(f"{label}: strenuous on the day of a flight")
                if (
                    kind == "sight"
                    and step.get("price") is None
                    and offer.fee_known
                    and not step.get("included")
                ):
                    errors.append(f"{label}: a sight without its fee")
                active += offer.duration_min
            elif kind == "stay":
                stay_place = destination
                if step.get("listing"):
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
            if stay_place != night["place"]:
                errors.append(
                    f"{where}: the night is in {night['place']} but its bed is "
                    f"in {stay_place}"
                )
            if here != night["place"]:
                errors.append(f"{where}: ends at {here}, sleeps in {night['place']}")
            altitude = night["altitude_m"]
            if (
                last_altitude is not None
                and altitude > ALTITUDE_RULE_ABOVE_M
                and altitude - last_altitude > ALTITUDE_STEP_M
            ):
                rise = altitude - last_altitude
                errors.append(f"{where}: sleeping altitude rises {rise} m")
            last_altitude = altitude
    if here != request.destination:
        errors.append(f"the trip ends at {here}, not at {request.destination}")
    if request.by_air:
        for index in range(min(2, len(days) - 1)):
            night = days[index]["night"] or {}
            if night.get("place") != request.origin:
                errors.append(f"day {index + 1}: not an acclimatisation night")
    for key in request.include:
        offer = offers.get(key)
        if offer is None or offer.kind == "stay":
            continue
        if key not in seen_items:
            errors.append(f"must-see {key} is missing")
    covered = {
        slug
        for key in seen_items
        if (offer := offers.get(key)) is not None
        for slug in offer.covers
    }
    for slug in sorted(covered & visited_sights):
        if sight_key(slug) not in request.include:
            errors.append(f"sight {slug} again after an experience that visits it")
    missing = set(request.keep_rides) - used_rides
    if missing:
        errors.append(f"kept rides missing: {sorted(missing)}")
    if request.budget is not None and totals:
        spent = _total_minor(totals, currency)
        # Each price is converted on its own: allow half a minor unit per item.
        items = sum(1 for day in days for step in day["steps"] if step.get("price"))
        if spent > request.budget.amount_minor + items:
            errors.append(
                f"total {spent} over the budget {request.budget.amount_minor}"
            )
    return errors


def _check_ride(step, label, rides, request, start, used_rides) -> list[str]:
    errors = []
    ride = rides.get(step["ride"])
    if ride is None:
        return [f"{label}: ride {step['ride']} does not run"]
    used_rides.add(ride.key)
    if step["ride"] in request.drop_rides:
        errors.append(f"{label}: uses a dropped ride")
    if ride.passage is not None and not ride.passage.passable:
        errors.append(f"{label}: crosses {ride.passage.crossing} closed")
    if not ride.seats_ok:
        errors.append(f"{label}: no seats for the party")
    if step["kind"] == "transport" and step["from"] == ride.origin:
        if start != ride.depart:
            errors.append(f"{label}: not at the ride's departure time")
        if step.get("price") is None:
            errors.append(f"{label}: a ride without its fare")
    if step["kind"] == "transport" and step["to"] == ride.destination:
        end = step["end"]
        if end is None:
            errors.append(f"{label}: no arrival")
    if step["kind"] == "border" and (
        ride.passage is None or step.get("crossing") != ride.passage.crossing
    ):
        errors.append(f"{label}: a border the ride does not cross")
    return errors


def _check_transfer(world: World, step, label, start, end) -> list[str]:
    errors = []
    if not step.get("mode"):
        errors.append(f"{label}: a transfer without its mode")
    if step.get("price") is None:
        errors.append(f"{label}: a transfer without its price")
    minutes = end - start
    known = world.links.get((step["from"], step["to"]), ())
    if known:
        if not any(
            link.minutes == minutes and link.mode == step.get("mode") for link in known
        ):
            errors.append(f"{label}: {minutes} min matches no known transfer")
    elif not step.get("estimated"):
        errors.append(f"{label}: no known transfer and not marked estimated")
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
