"""A solved skeleton as the day-by-day plan the API returns and the website shows.

The plan is a path: every step has the place where it starts (``from``) and where
it ends (``to``), and starts where the previous one ended — the renderer writes the
transfer between two places whenever the traveller has to move (to an experience, to
a bus, back from a day trip), with its mode, minutes and price.

Times are ISO 8601 in the local zone of the place (``2026-12-03T10:15:00-05:00``);
prices are the provider's or operator's own currency; totals add up in the plan's
currency and are also given in PEN, BOB and USD with the rates used.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from itineraries.planning.messages import Msg, Text
from itineraries.planning.money import money
from itineraries.planning.skeleton import (
    ACCLIMATISATION_NIGHTS,
    BOARDING_MIN,
    Hop,
    Skeleton,
)
from itineraries.planning.world import HUBS, Link, Offer, Pace, Ride, sight_key

if TYPE_CHECKING:
    from itineraries.planning.planner import Planner, PlanResult, StayChoice

CURRENCIES = ("PEN", "BOB", "USD")
MIN_FREE_MIN = 60
CHECK_IN = dt.time(14, 0)


def _text(value: Text) -> dict[str, str]:
    return {"en": value.en, "es": value.es}


class _PlanWriter:
    """Writes the steps of the whole plan, keeping where the traveller is."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.world = planner.world
        first, last, _ = Pace.LIMITS[planner.request.pace]
        self.pace_first, self.pace_last = first, last
        self.spend: dict[str, int] = defaultdict(int)
        self.estimated: dict[str, int] = defaultdict(int)
        self.warnings: list[Msg] = []
        self.steps: list[dict] = []
        self.day_index = 0
        self.date: dt.date | None = None
        self.here = planner.request.origin
        self.now = 0
        self.crossings: list[str] = []
        self.experiences = 0
        self.community_experiences = 0
        # The last night's stay step lasts until the next step starts.
        self.pending_stay: tuple[dict, int] | None = None
        self.tickets: set[str] = set()  # shared sight tickets already paid
        self.unverified: list[Text] = []  # rides from timetables not verified
        self.seen: set = set()  # sights already in the plan

    # --- primitives ---------------------------------------------------------------

    def iso(self, place: str, minute: int) -> str:
        return self.world.local(place, minute).isoformat()

    def step(self, kind: str, origin: str, destination: str, start, end, **values):
        values.setdefault("listing", None)
        values.setdefault("departure", None)
        values.setdefault("price", None)
        number = f"{self.day_index + 1}.{len(self.steps) + 1}"
        if self.pending_stay is not None:
            stay, _morning = self.pending_stay
            stay["end"] = self.iso(stay["to"], start)
            self.pending_stay = None
        step = {
            "id": number,
            "kind": kind,
            "from": origin,
            "to": destination,
            "start": self.iso(origin, start),
            "end": self.iso(destination, end),
            **values,
        }
        self.steps.append(step)
        return step

    def pay(self, amount: int, currency: str) -> dict[str, str]:
        self.spend[currency] += amount
        return money(amount, currency)

    def free_until(self, minute: int) -> None:
        """A free-time step from now until ``minute`` when it is an hour or more,
        inside the pace's hours."""
        assert self.date is not None
        first = self.world.minute(self.here, self.date, self.pace_first)
        last = self.world.minute(self.here, self.date, self.pace_last)
        start, end = max(self.now, first), min(minute, last)
        if end - start >= MIN_FREE_MIN:
            self.step(
                "free",
                self.here,
                self.here,
                start,
                end,
                title=_text(Text("Free time", "Tiempo libre")),
                place=self.here,
            )
            self.now = max(self.now, end)

    # --- moving -----------------------------------------------------------------------

    def go_to(self, place: str, *, arrive_by: int | None = None) -> None:
        """Move to ``place`` by the transfers that link it to where we are: leaving
        as late as arriving by ``arrive_by`` allows (free time first), or now (back
        to the base, or to a bus: wait there)."""
        if place == self.here:
            return
        connection = self.planner.connection(self.here, place)
        if connection is None:
            raise ValueError(f"no way from {self.here} to {place}")
        minutes = sum(link.minutes for link in connection.links)
        leave = self.now
        if arrive_by is not None:
            leave = max(self.now, arrive_by - minutes)
            self.free_until(leave)
            leave = max(self.now, arrive_by - minutes)
        for link in connection.links:
            self.link_step(link, leave)
            leave += link.minutes

    def link_step(self, link: Link, leave: int, *, day_trip: bool = False) -> None:
        from itineraries.planning.planner import link_title

        step = self.step(
            "transport",
            link.origin,
            link.destination,
            leave,
            leave + link.minutes,
            title=_text(link_title(self.world, link)),
            mode=link.mode,
            operator=link.operator,
            transfer=True,
            estimated=link.estimated,
            verified=link.verified,
            price=self.pay(link.price_minor, link.currency),
        )
        if day_trip:
            step["day_trip"] = True
        if link.estimated:
            origin = self.world.places[link.origin].name
            destination = self.world.places[link.destination].name
            self.warnings.append(
                Msg(
                    gettext_noop(
                        "We know no transfer from %(origin)s to %(destination)s: "
                        "the %(minutes)s min and the price are estimates from the "
                        "distance; ask locally."
                    ),
                    {
                        "origin": origin,
                        "destination": destination,
                        "minutes": link.minutes,
                    },
                )
            )
        self.here, self.now = link.destination, leave + link.minutes

    def hop(self, hop: Hop, start: int, *, day_trip: bool = False) -> None:
        if hop.ride is None:
            assert hop.link is not None
            self.go_to(hop.origin, arrive_by=start)
            self.free_until(start)
            self.link_step(hop.link, start, day_trip=day_trip)
            return
        ride = hop.ride
        # To the terminal or the pier in time to board, not hours before.
        self.go_to(hop.origin, arrive_by=ride.depart - BOARDING_MIN)
        self.free_until(ride.depart - 30)
        self.ride(ride, day_trip=day_trip)

    def ride(self, ride: Ride, *, day_trip: bool = False) -> None:
        from itineraries.planning.planner import ride_title

        world = self.world
        title = _text(ride_title(world, ride))
        common = {
            "listing": ride.listing_id,
            "departure": ride.departure_id,
            "ride": ride.key,
            "mode": ride.mode,
            "operator": ride.operator,
            "verified": ride.verified,
        }
        if day_trip:
            common["day_trip"] = True
        # The ride's pieces: stops with their sights and the border, in time order.
        events: list[tuple[int, str, object]] = []
        for stop in ride.stops:
            events.append((stop.arrive, "stop", stop))
        if ride.passage is not None:
            events.append((ride.passage.arrive, "border", ride.passage))
        events.sort(key=lambda e: e[0])
        price = self.pay(ride.price_minor, ride.currency)
        at, now = ride.origin, ride.depart
        for _when, kind, event in events:
            if kind == "stop":
                stop = event
                self.step(
                    "transport",
                    at,
                    stop.place,
                    now,
                    stop.arrive,  # type: ignore[attr-defined]
                    title=title,
                    price=price,
                    **common,
                )
                price = None
                self.stop_steps(stop)
                at, now = stop.place, stop.leave  # type: ignore[attr-defined]
                continue
            passage = event
            self.step(
                "transport",
                at,
                passage.first_side,
                now,
                passage.arrive,  # type: ignore[attr-defined]
                title=title,
                price=price,
                **common,
            )
            price = None
            self.border(ride, passage, common)
            at, now = passage.second_side, passage.leave  # type: ignore[attr-defined]
        self.step(
            "transport",
            at,
            ride.destination,
            now,
            ride.arrive,
            title=title,
            price=price,
            **common,
        )
        self.here, self.now = ride.destination, ride.arrive
        if not ride.verified:
            local = world.local(ride.origin, ride.depart)
            origin = world.places[ride.origin].name
            destination = world.places[ride.destination].name
            self.unverified.append(
                Text(
                    f"{origin.en} → {destination.en} {local:%H:%M} ({ride.operator})",
                    f"{origin.es} → {destination.es} {local:%H:%M} ({ride.operator})",
                )
            )
        if ride.passage and ride.passage.disrupted:
            self.warnings.append(
                Msg(
                    gettext_noop("%(crossing)s: %(note)s"),
                    {"crossing": ride.passage.name, "note": ride.passage.disrupted},
                )
            )

    def border(self, ride: Ride, passage, common: dict) -> None:
        jump = clock_change(self.world, passage)
        first = self.world.local(passage.first_side, passage.arrive)
        second = self.world.local(passage.second_side, passage.arrive)
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
        self.crossings.append(passage.crossing)
        self.step(
            "border",
            passage.first_side,
            passage.second_side,
            passage.arrive,
            passage.leave,
            title={
                "en": f"Cross {name.en} (open {hours.en}).{clock.en}".replace(
                    " ().", "."
                ),
                "es": f"Cruce {name.es} (abierto {hours.es}).{clock.es}".replace(
                    " ().", "."
                ),
            },
            crossing=passage.crossing,
            clock_change_h=jump,
            documents=_text(passage.documents) if passage.documents else None,
            **common | {"listing": None},
        )

    # --- experiences and sights -------------------------------------------------------

    def stop_steps(self, stop) -> None:
        """The sights a ride stops at, inside the stop's time; each once a trip."""
        sights = [self.planner.offers.get(f"sight:{slug}") for slug in stop.sights]
        sights = [s for s in sights if s is not None and s.key not in self.seen]
        if not sights:
            # A stop without a sight to see (or seen already): the ride waits.
            return
        share = (stop.leave - stop.arrive) // len(sights)
        for i, sight in enumerate(sights):
            start = stop.arrive + i * share
            end = stop.leave if i == len(sights) - 1 else start + share
            self.sight_step(
                sight, stop.place, start, end, stop=True, included=stop.fee_included
            )

    def sight_step(
        self,
        offer: Offer,
        place: str,
        start: int,
        end: int,
        *,
        included: bool = False,
        stop: bool = False,
    ) -> None:
        self.seen.add(offer.key)
        extra: dict = {"stop": True} if stop else {}
        if included:
            price = None
        elif not offer.fee_known:
            price = None
            extra["fee_known"] = False
        elif offer.ticket and offer.ticket in self.tickets:
            price = self.pay(0, offer.currency)
            extra["ticket"] = offer.ticket  # paid with an earlier sight
        else:
            price = self._price(offer, start)
            if offer.ticket:
                self.tickets.add(offer.ticket)
                extra["ticket"] = offer.ticket
        self.step(
            "sight",
            place,
            place,
            start,
            end,
            title=_text(offer.title),
            place=place,
            sight=offer.sight,
            listing=None,
            included=included,
            verified=offer.verified,
            price=price,
            **extra,
        )
        if offer.confirm_locally:
            self._confirm_locally(offer)

    def _confirm_locally(self, offer: Offer) -> None:
        self.warnings.append(
            Msg(
                gettext_noop(
                    "Access to '%(title)s' changes with local agreements: confirm "
                    "it in %(place)s before you go."
                ),
                {"title": offer.title, "place": self.world.places[offer.place].name},
            )
        )

    def _price(self, offer: Offer, start: int) -> dict[str, str]:
        assert self.date is not None
        session = _session_at(offer, self.date, start)
        amount = session.price_minor if session else 0
        return self.pay(amount, offer.currency)

    def item(self, offer: Offer, start: int) -> None:
        self.go_to(offer.place, arrive_by=start)
        self.free_until(start)
        end = start + offer.duration_min
        if offer.kind == "sight":
            self.sight_step(offer, offer.place, start, end)
        else:
            assert self.date is not None
            session = _session_at(offer, self.date, start)
            self.experiences += 1
            self.community_experiences += offer.community_run
            if offer.on_request:
                self.warnings.append(
                    Msg(
                        gettext_noop(
                            "'%(title)s' is confirmed on request: the provider "
                            "answers after you book."
                        ),
                        {"title": offer.title},
                    )
                )
            self.step(
                "activity",
                offer.place,
                offer.ends_at,
                start,
                end,
                title=_text(offer.title),
                place=offer.place,
                listing=offer.listing_id,
                provider=offer.provider,
                community_run=offer.community_run,
                slot={
                    "date": self.date.isoformat(),
                    "start_time": session.start_time if session else None,
                },
                price=self._price(offer, start),
                sights=self._covered(offer),
            )
        self.here, self.now = offer.ends_at, end

    def _covered(self, offer: Offer) -> list[dict]:
        """The sights an experience visits (``{"slug", "title"}``): the plan does
        not send the traveller to them again."""
        found = []
        for slug in offer.covers:
            sight = self.planner.offers.get(sight_key(slug))
            if sight is not None:
                self.seen.add(sight.key)
                found.append({"slug": slug, "title": _text(sight.title)})
        return found


def _retimed(
    planner: Planner, day, tour, problem, meta
) -> list[tuple[str, object, int]]:
    """The day's visits as (kind, what, start), timed as a traveller would take
    them: a frequent service from where they slept (a minibus every 30 min) at its
    last run that still makes the next step, and a transfer leaving as late as the
    next step allows (no waiting at a site before it opens). From the day's end
    backwards, so a transfer to a re-timed ride leaves for the new time."""
    visits = tour.visits
    timed: list[tuple[str, object, int]] = [
        (meta[v.node][0], meta[v.node][1], v.start) for v in visits
    ]
    for position in range(len(visits) - 1, -1, -1):
        kind, ref, start = timed[position]
        if kind != "hop" or position + 1 >= len(visits):
            continue
        hop: Hop = ref  # type: ignore[assignment]
        next_kind, _next_ref, next_start = timed[position + 1]
        travel = problem.travel[visits[position].node][visits[position + 1].node]
        if not hop.fixed:
            latest = next_start - travel - hop.minutes
            start = max(start, min(hop.latest, latest))
            timed[position] = (kind, hop, start)
        elif next_kind != "hop" and hop.origin in (day.morning, *HUBS):
            later = _later_run(planner, hop, next_start - travel)
            timed[position] = (kind, later, later.earliest)
    return timed


def _later_run(planner: Planner, hop: Hop, arrive_by: int) -> Hop:
    """The latest run of the same departure (same date, seats, no border on the
    way, no bookable seats of its own) that arrives by ``arrive_by``; the hop
    itself when none is later or the traveller kept that ride."""
    ride = hop.ride
    assert ride is not None
    request = planner.request
    if ride.passage is not None or ride.listing_id is not None:
        return hop
    if ride.key in request.keep_rides or ride.key in request.pinned_rides:
        return hop
    best = ride
    for other in planner.runs_of(ride.departure_id):
        if (
            best.depart < other.depart
            and other.arrive <= arrive_by
            and other.arrive - other.depart == ride.arrive - ride.depart
            and other.depart - ride.depart < 24 * 60  # the same day's service
            and other.seats_ok
            and (other.price_minor, other.currency) == (ride.price_minor, ride.currency)
            and other.passage is None
            and other.listing_id is None
            and other.key not in request.drop_rides
        ):
            best = other
    return hop if best is ride else Hop.of_ride(best)


def clock_change(world, passage) -> int:
    """Hours the clock moves passing from the first post to the second."""
    first = world.local(passage.first_side, passage.arrive)
    second = world.local(passage.second_side, passage.arrive)
    return int((second.utcoffset() - first.utcoffset()).total_seconds() // 3600)


def render_plan(
    planner: Planner,
    skeleton: Skeleton,
    stays: dict[int, StayChoice],
    problem,
    meta,
    solution,
) -> PlanResult:
    from itineraries.planning.planner import PlanResult

    world = planner.world
    request = planner.request
    writer = _PlanWriter(planner)
    days: list[dict] = []
    excursion_hops = {
        (d.index, h.key)
        for d in skeleton.days
        if d.excursion is not None
        for h in (d.excursion.go, d.excursion.back)
    }
    # Sights that an experience of the plan visits are not visited again (the
    # planner forbids them and solves again; this is the guard when its rounds
    # ran out), unless the traveller asked for them.
    covered = {
        sight_key(slug)
        for tour in solution.tours
        for visit in tour.visits
        if meta[visit.node][0] == "offer"
        for slug in meta[visit.node][1].covers
    } - set(request.include)
    for day, tour in zip(skeleton.days, solution.tours, strict=True):
        writer.day_index, writer.date, writer.steps = day.index, day.date, []
        assert writer.here == day.morning, (writer.here, day.morning)
        writer.now = max(writer.now, tour.departure)
        timed = _retimed(planner, day, tour, problem, meta)
        for (kind, ref, start), visit in zip(timed, tour.visits, strict=True):
            if kind == "hop":
                original: Hop = meta[visit.node][1]  # type: ignore[assignment]
                day_trip = (day.index, original.key) in excursion_hops
                writer.hop(ref, start, day_trip=day_trip)  # type: ignore[arg-type]
            elif ref.key not in covered:  # type: ignore[attr-defined]
                writer.item(ref, start)  # type: ignore[arg-type]
        # Back to where the day ends (a day trip's last transfer is a hop; this is
        # the walk or taxi inside the evening's cluster).
        writer.go_to(day.evening)
        night = None
        if day.index < len(skeleton.days) - 1:
            night = _night(writer, planner, skeleton, day, stays, solution)
        else:
            writer.free_until(world.minute(writer.here, day.date, writer.pace_last))
        days.append(
            {"date": day.date.isoformat(), "night": night, "steps": writer.steps}
        )
    assert writer.here == request.destination, (writer.here, request.destination)
    volatile = [
        slug
        for slug in dict.fromkeys(
            step["to"] for day_json in days for step in day_json["steps"]
        )
        if world.places[slug].access_confirm
    ]
    for slug in volatile:
        writer.warnings.append(
            Msg(
                gettext_noop(
                    "Access to %(place)s changes with local agreements (it has been "
                    "closed to visitors before): confirm it locally the day before."
                ),
                {"place": world.places[slug].name},
            )
        )
    if writer.unverified:
        # One notice for all of them, not one per ride.
        writer.warnings.insert(
            0,
            Msg(
                gettext_noop(
                    "Times we could not verify with the operator (confirm them "
                    "locally a day before): %(rides)s."
                ),
                {
                    "rides": Text(
                        "; ".join(t.en for t in writer.unverified),
                        "; ".join(t.es for t in writer.unverified),
                    )
                },
            ),
        )
    explanation = _explanation(planner, skeleton, stays, writer)
    totals = _totals(planner, writer.spend, writer.estimated)
    if request.budget is not None:
        totals["budget"] = money(request.budget.amount_minor, request.budget.currency)
    crossing = next(
        (c for c in writer.crossings if c in ("kasani", "desaguadero", "cebaf")), None
    )
    return PlanResult(
        status="solved",
        days=days,
        totals=totals,
        explanation=explanation,
        warnings=writer.warnings,
        route={"via": planner.via, "crossing": crossing},
    )


def _night(writer: _PlanWriter, planner, skeleton, day, stays, solution):
    """The night's stay step: from arrival (after free time until check-in) until
    the traveller leaves the next morning (set when the next step is written)."""
    world = planner.world
    request = planner.request
    choice = stays.get(day.index)
    if day.night is None or choice is None:
        return {"place": None, "altitude_m": None, "stay": None}
    place = world.places[day.night]
    check_in = world.minute(day.night, day.date, CHECK_IN)
    writer.free_until(check_in)
    stay = _stay(choice)
    if choice.estimated:
        writer.estimated[choice.currency] += choice.price_minor
        writer.warnings.append(
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
        writer.spend[choice.currency] += choice.price_minor
    next_date = skeleton.days[day.index + 1].date
    morning = world.minute(day.night, next_date, writer.pace_first)
    step = writer.step(
        "stay",
        day.night,
        day.night,
        writer.now,
        max(writer.now, morning),
        title=stay["title"],
        place=day.night,
        listing=stay["listing"],
        provider=stay.get("provider"),
        community_run=stay.get("community_run", False),
        slot={"date": day.date.isoformat(), "start_time": None}
        if stay["listing"]
        else None,
        price=stay["price"],
        estimated=choice.estimated,
    )
    writer.pending_stay = (step, max(writer.now, morning))
    return {"place": day.night, "altitude_m": place.altitude_m, "stay": stay}


def _session_at(offer: Offer, date: dt.date, minute: int):
    for session in offer.sessions.get(date, ()):
        if session.earliest <= minute <= session.latest:
            return session
    return None


def _stay(choice: StayChoice) -> dict:
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
    writer: _PlanWriter,
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
    trips = [d for d in skeleton.days if d.excursion is not None]
    if trips:
        names_en, names_es = [], []
        for day in trips:
            assert day.excursion is not None
            place = world.places[day.excursion.go.destination].name
            names_en.append(f"{place.en} ({day.date:%d %b})")
            names_es.append(f"{place.es} ({day.date:%d/%m})")
        messages.append(
            Msg(
                gettext_noop("Day trips, there and back the same day: %(trips)s."),
                {"trips": Text(", ".join(names_en), ", ".join(names_es))},
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
        for ride in day.move.rides if day.move else ():
            passage = ride.passage
            if passage is None:
                continue
            jump = clock_change(world, passage)
            if jump:
                first = world.local(passage.first_side, passage.arrive)
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
    if planner.via == "desaguadero" and request.via == "desaguadero":
        messages.append(
            Msg(
                gettext_noop(
                    "As you asked, the plan crosses the border at Desaguadero."
                )
            )
        )
    nights = [c for c in stays.values() if c.offer is not None]
    community_nights = sum(1 for c in nights if c.offer and c.offer.community_run)
    if writer.experiences or nights:
        messages.append(
            Msg(
                gettext_noop(
                    "%(community_experiences)s of %(experiences)s experiences and "
                    "%(community_nights)s of %(nights)s booked nights are with "
                    "community-run providers."
                ),
                {
                    "community_experiences": writer.community_experiences,
                    "experiences": writer.experiences,
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
