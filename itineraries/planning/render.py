"""A solved skeleton as the day-by-day plan the API returns and the website shows.

Times are ISO 8601 in the local zone of the place (``2026-12-03T10:15:00-05:00``);
prices are the provider's own currency; totals add up in the plan's currency and
are also given in PEN, BOB and USD with the rates used.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from itineraries.planning.messages import Msg, Text
from itineraries.planning.money import money
from itineraries.planning.skeleton import ACCLIMATISATION_NIGHTS, Skeleton
from itineraries.planning.world import Offer, Pace, Ride

if TYPE_CHECKING:
    from itineraries.planning.planner import Planner, PlanResult, StayChoice

CURRENCIES = ("PEN", "BOB", "USD")
MIN_FREE_MIN = 60


def _text(value: Text) -> dict[str, str]:
    return {"en": value.en, "es": value.es}


def render_plan(
    planner: Planner,
    skeleton: Skeleton,
    stays: dict[int, StayChoice],
    problem,
    meta,
    solution,
) -> PlanResult:
    from itineraries.planning.planner import PlanResult, ride_title

    world = planner.world
    request = planner.request
    spend: dict[str, int] = defaultdict(int)
    estimated: dict[str, int] = defaultdict(int)
    warnings: list[Msg] = []
    explanation: list[Msg] = []
    days: list[dict] = []
    experiences = community_experiences = 0
    pace_first, pace_last, _ = Pace.LIMITS[request.pace]

    def iso(place: str, minute: int) -> str:
        return world.local(place, minute).isoformat()

    for day, tour in zip(skeleton.days, solution.tours, strict=True):
        writer = _DayWriter(
            day.index,
            iso,
            lambda place, date=day.date: (
                world.minute(place, date, pace_first),
                world.minute(place, date, pace_last),
            ),
        )
        step, free_until = writer.step, writer.free_until
        steps = writer.steps
        here, writer.now = day.morning, tour.departure

        for visit in tour.visits:
            kind, ref = meta[visit.node]
            if kind == "ride":
                ride: Ride = ref  # type: ignore[assignment]
                free_until(ride.depart - 30, here)
                spend[ride.currency] += ride.price_minor
                _ride_steps(world, ride, step, ride_title(world, ride), iso, money)
                if not ride.verified:
                    warnings.append(
                        Msg(
                            gettext_noop(
                                "The %(mode)s %(origin)s → %(destination)s at %(time)s "
                                "is from a timetable we could not verify; confirm it "
                                "with %(operator)s."
                            ),
                            {
                                "mode": ride.mode_name,
                                "origin": world.places[ride.origin].name,
                                "destination": world.places[ride.destination].name,
                                "time": world.local(ride.origin, ride.depart).strftime(
                                    "%H:%M"
                                ),
                                "operator": ride.operator,
                            },
                        )
                    )
                if ride.passage and ride.passage.disrupted:
                    warnings.append(
                        Msg(
                            gettext_noop("%(crossing)s: %(note)s"),
                            {
                                "crossing": ride.passage.name,
                                "note": ride.passage.disrupted,
                            },
                        )
                    )
                here, writer.now = ride.destination, ride.arrive
                continue
            offer: Offer = ref  # type: ignore[assignment]
            travel = world.between(here, offer.place)
            if offer.place != here:
                to_name = world.places[offer.place].name
                leave = max(writer.now, visit.start - travel)
                free_until(leave, here)
                step(
                    "transport",
                    title=_text(
                        Text(
                            f"Transfer to {to_name.en} (about {travel} min)",
                            f"Traslado a {to_name.es} (unos {travel} min)",
                        )
                    ),
                    **{
                        "from": here,
                        "to": offer.place,
                        "start": iso(here, leave),
                        "end": iso(offer.place, leave + travel),
                        "estimated": True,
                    },
                )
                writer.now = leave + travel
            else:
                free_until(visit.start, here)
            session = _session_at(offer, day.date, visit.start)
            price = session.price_minor if session else 0
            spend[offer.currency] += price
            experiences += 1
            community_experiences += offer.community_run
            if offer.on_request:
                warnings.append(
                    Msg(
                        gettext_noop(
                            "'%(title)s' is confirmed on request: the provider answers "
                            "after you book."
                        ),
                        {"title": offer.title},
                    )
                )
            step(
                "activity",
                title=_text(offer.title),
                place=offer.place,
                start=iso(offer.place, visit.start),
                end=iso(offer.place, visit.start + offer.duration_min),
                listing=offer.listing_id,
                provider=offer.provider,
                community_run=offer.community_run,
                slot={
                    "date": day.date.isoformat(),
                    "start_time": session.start_time if session else None,
                },
                price=money(price, offer.currency),
            )
            here, writer.now = offer.place, visit.start + offer.duration_min
        night = None
        if day.index < len(skeleton.days) - 1:
            choice = stays.get(day.index)
            if day.night is None or choice is None:
                night = {"place": None, "altitude_m": None, "stay": None}
            else:
                place = world.places[day.night]
                free_until(tour.arrival - 10, here)
                next_tour = solution.tours[day.index + 1]
                next_start = world.minute(
                    day.night, skeleton.days[day.index + 1].date, pace_first
                )
                if next_tour.visits:
                    first_visit = next_tour.visits[0].start - 30
                    next_start = min(next_start, max(first_visit, next_tour.departure))
                stay = _stay(choice, money)
                if choice.estimated:
                    estimated[choice.currency] += choice.price_minor
                    warnings.append(
                        Msg(
                            gettext_noop(
                                "No bookable stay has room for %(persons)s in "
                                "%(place)s on the night of %(date)s: budget about "
                                "%(price)s (estimate) and book locally."
                            ),
                            {
                                "persons": request.persons,
                                "place": place.name,
                                "date": day.date.isoformat(),
                                "price": f"{stay['price']['amount']} {choice.currency}",
                            },
                        )
                    )
                else:
                    spend[choice.currency] += choice.price_minor
                step(
                    "stay",
                    title=stay["title"],
                    place=day.night,
                    start=iso(day.night, max(tour.arrival, writer.now)),
                    end=iso(day.night, next_start),
                    listing=stay["listing"],
                    provider=stay.get("provider"),
                    community_run=stay.get("community_run", False),
                    slot={"date": day.date.isoformat(), "start_time": None}
                    if stay["listing"]
                    else None,
                    price=stay["price"],
                    estimated=choice.estimated,
                )
                night = {
                    "place": day.night,
                    "altitude_m": place.altitude_m,
                    "stay": stay,
                }
        else:
            free_until(tour.arrival - 10, here)
        days.append({"date": day.date.isoformat(), "night": night, "steps": steps})

    explanation.extend(
        _explanation(planner, skeleton, stays, experiences, community_experiences)
    )
    totals = _totals(planner, spend, estimated)
    if request.budget is not None:
        totals["budget"] = money(request.budget.amount_minor, request.budget.currency)
    return PlanResult(
        status="solved",
        days=days,
        totals=totals,
        explanation=explanation,
        warnings=warnings,
    )


class _DayWriter:
    """Collects one day's steps, numbering them ``<day>.<n>``."""

    def __init__(self, index: int, iso, window) -> None:
        self.index = index
        self.iso = iso
        self.window = window  # place -> the pace's (first, last) minute that day
        self.steps: list[dict] = []
        self.now = 0

    def step(self, kind: str, **values) -> None:
        values.setdefault("listing", None)
        values.setdefault("departure", None)
        values.setdefault("price", None)
        number = f"{self.index + 1}.{len(self.steps) + 1}"
        self.steps.append({"id": number, "kind": kind, **values})

    def free_until(self, minute: int, place: str) -> None:
        """A free-time step from now until ``minute`` when it is an hour or more."""
        first, last = self.window(place)
        start, end = max(self.now, first), min(minute, last)
        if end - start >= MIN_FREE_MIN:
            self.step(
                "free",
                title=_text(Text("Free time", "Tiempo libre")),
                place=place,
                start=self.iso(place, start),
                end=self.iso(place, end),
            )


def _session_at(offer: Offer, date: dt.date, minute: int):
    for session in offer.sessions.get(date, ()):
        if session.earliest <= minute <= session.latest:
            return session
    return None


def _stay(choice: StayChoice, money) -> dict:
    if choice.offer is None:
        return {
            "listing": None,
            "title": {
                "en": "Stay to book locally (estimate)",
                "es": "Alojamiento a reservar en destino (estimado)",
            },
            "price": money(choice.price_minor, choice.currency),
            "estimated": True,
        }
    return {
        "listing": choice.offer.listing_id,
        "title": _text(choice.offer.title),
        "provider": choice.offer.provider,
        "community_run": choice.offer.community_run,
        "price": money(choice.price_minor, choice.currency),
        "estimated": False,
    }


def _ride_steps(world, ride: Ride, step, title: Text, iso, money) -> None:
    price = money(ride.price_minor, ride.currency)
    common = {
        "listing": ride.listing_id,
        "departure": ride.departure_id,
        "ride": ride.key,
    }
    passage = ride.passage
    if passage is None:
        step(
            "transport",
            title=_text(title),
            start=iso(ride.origin, ride.depart),
            end=iso(ride.destination, ride.arrive),
            price=price,
            **{"from": ride.origin, "to": ride.destination},
            **common,
        )
        return
    step(
        "transport",
        title=_text(title),
        start=iso(ride.origin, ride.depart),
        end=iso(passage.first_side, passage.arrive),
        price=price,
        **{"from": ride.origin, "to": passage.first_side},
        **common,
    )
    first = world.local(passage.first_side, passage.arrive)
    second = world.local(passage.second_side, passage.arrive)
    jump = int((second.utcoffset() - first.utcoffset()).total_seconds() // 3600)
    if jump:
        here, there = f"{first:%H:%M}", f"{second:%H:%M}"
        clock = Text(
            f" Clocks move {jump:+d} h: {here} here is {there} on the other side.",
            f" El reloj cambia {jump:+d} h: las {here} aquí son las {there} "
            "al otro lado.",
        )
    else:
        clock = Text("", "")
    hours = passage.hours or Text("", "")
    name = passage.name
    step(
        "border",
        title={
            "en": f"Cross {name.en} (open {hours.en}).{clock.en}".replace(" ().", "."),
            "es": f"Cruce {name.es} (abierto {hours.es}).{clock.es}".replace(
                " ().", "."
            ),
        },
        start=iso(passage.first_side, passage.arrive),
        end=iso(passage.second_side, passage.leave),
        clock_change_h=jump,
        documents=_text(passage.documents) if passage.documents else None,
        **{"from": passage.first_side, "to": passage.second_side},
        **common | {"listing": None},
    )
    step(
        "transport",
        title=_text(title),
        start=iso(passage.second_side, passage.leave),
        end=iso(ride.destination, ride.arrive),
        **{"from": passage.second_side, "to": ride.destination},
        **common,
    )


def _totals(planner: Planner, spend: dict[str, int], estimated: dict[str, int]) -> dict:
    rates = planner.world.rates
    currency = planner.currency
    booked_total = sum(rates.convert_minor(v, c, currency) for c, v in spend.items())
    estimate_total = sum(
        rates.convert_minor(v, c, currency) for c, v in estimated.items()
    )
    grand = booked_total + estimate_total
    return {
        "currency": currency,
        "amount": money(grand, currency)["amount"],
        "priced": money(booked_total, currency),
        "estimated": money(estimate_total, currency),
        "by_currency": [money(v, c) for c, v in sorted(spend.items()) if v],
        "in": {
            c: money(
                sum(rates.convert_minor(v, cur, c) for cur, v in spend.items())
                + sum(rates.convert_minor(v, cur, c) for cur, v in estimated.items()),
                c,
            )["amount"]
            for c in CURRENCIES
        },
        "persons": planner.persons,
    }


def _explanation(
    planner: Planner,
    skeleton: Skeleton,
    stays: dict[int, StayChoice],
    experiences: int,
    community_experiences: int,
) -> list[Msg]:
    world = planner.world
    request = planner.request
    messages: list[Msg] = []
    runs: list[list] = []
    for day in skeleton.days[:-1]:
        if runs and runs[-1][0] == day.night:
            runs[-1][1] += 1
        else:
            runs.append([day.night, 1])
    parts_en, parts_es = [], []
    for place, count in runs:
        if place is None:
            parts_en.append(f"a night on the road ×{count}")
            parts_es.append(f"noche de viaje ×{count}")
        else:
            name = world.places[place].name
            parts_en.append(f"{name.en} ({count} night{'s' if count > 1 else ''})")
            parts_es.append(f"{name.es} ({count} noche{'s' if count > 1 else ''})")
    if runs:
        messages.append(
            Msg(
                gettext_noop("Nights: %(route)s."),
                {"route": Text(" → ".join(parts_en), " → ".join(parts_es))},
            )
        )
    if request.by_air:
        messages.append(
            Msg(
                gettext_noop(
                    "You arrive by air: the first %(nights)s nights are in %(place)s "
                    "to acclimatise, with nothing strenuous on the first day."
                ),
                {
                    "nights": ACCLIMATISATION_NIGHTS,
                    "place": world.places[request.origin].name,
                },
            )
        )
    for day in skeleton.days:
        if day.move is None:
            continue
        for ride in day.move.rides:
            passage = ride.passage
            if passage is None:
                continue
            first = world.local(passage.first_side, passage.arrive)
            second = world.local(passage.second_side, passage.arrive)
            jump = int((second.utcoffset() - first.utcoffset()).total_seconds() // 3600)
            if jump:
                messages.append(
                    Msg(
                        gettext_noop(
                            "You cross %(crossing)s on %(date)s at %(time)s local time "
                            "(open %(hours)s); clocks then move %(jump)s h."
                        ),
                        {
                            "crossing": passage.name,
                            "date": first.date().isoformat(),
                            "time": first.strftime("%H:%M"),
                            "hours": passage.hours or "",
                            "jump": f"{jump:+d}",
                        },
                    )
                )
    nights = [c for c in stays.values() if c.offer is not None]
    community_nights = sum(1 for c in nights if c.offer and c.offer.community_run)
    if experiences or nights:
        messages.append(
            Msg(
                gettext_noop(
                    "%(community_experiences)s of %(experiences)s experiences and "
                    "%(community_nights)s of %(nights)s booked nights are with "
                    "community-run providers."
                ),
                {
                    "community_experiences": community_experiences,
                    "experiences": experiences,
                    "community_nights": community_nights,
                    "nights": len(nights),
                },
            )
        )
    if request.interests:
        top = sorted(request.interests.items(), key=lambda kv: -kv[1])[:3]
        messages.append(
            Msg(
                gettext_noop(
                    "Experiences are chosen by your interests (strongest: %(top)s), "
                    "favouring community-run providers, and weighed against cost and "
                    "time on the road."
                ),
                {"top": ", ".join(f"{k} {v}/5" for k, v in top)},
            )
        )
    return messages
