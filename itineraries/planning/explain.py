"""Why no plan fits, named by its binding cause, and the one-click fixes that are
checked to give a plan before they are offered.

Exact arguments come first (a must-see that takes at least two people when the
party is one, is offered on none of the trip's dates, is full, or starts outside the
pace's hours); then what the search found (no route at all: the border post that
closes, the train that does not run that day, the days needed; the budget; the
must-see that no route can reach on a day it is offered).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from itineraries.planning.messages import Msg, Text
from itineraries.planning.money import money_text
from itineraries.planning.skeleton import ACCLIMATISATION_NIGHTS
from itineraries.planning.world import HUBS, Budget, Pace

if TYPE_CHECKING:
    from itineraries.planning.planner import Planner, PlanResult
    from itineraries.planning.world import World

BUDGET_MARGIN = 1.10  # the budget fix offers this much above the cheapest plan
# The budget fix tries these multiples of the least cost the explanation quotes
# (a lower bound, or a route's cost without experiences) before the cost of the
# plan made without a budget.
BUDGET_STEPS = (1.10, 1.30, 1.60)
LEAST_SECONDS = 1.0  # looking for a route with the must-sees, without the budget
FIXES_MIN_SECONDS = 3.0  # time for checking fixes (at least; else the solver limit)


def _place(planner: Planner, slug: str) -> Text:
    return planner.world.places[slug].name


def hub_of(world: World, place: str) -> str | None:
    """The stop of the route a place belongs to (Llachón: Puno); None when the
    place is no hub's satellite."""
    if place in HUBS:
        return place
    for hub, satellites in world.satellites.items():
        if place in satellites:
            return hub
    return None


def must_see_problems(planner: Planner) -> list[Msg]:
    """Exact reasons a must-see cannot be in any plan."""
    request = planner.request
    persons = request.persons
    first_day = request.start_date
    last_day = first_day + dt.timedelta(days=request.days - 1)
    pace_first, pace_last, _ = Pace.LIMITS[request.pace]
    reasons: list[Msg] = []
    route = sorted(HUBS.index(p) for p in (request.origin, request.destination))
    for key in planner.include:
        offer = planner.offers[key]
        title = offer.title
        place = _place(planner, offer.place)
        hub = hub_of(planner.world, offer.place)
        if hub is not None and not route[0] <= HUBS.index(hub) <= route[1]:
            # Plans move along the route, never back (Copacabana → Puno → La Paz).
            reasons.append(
                Msg(
                    gettext_noop(
                        "'%(title)s' in %(place)s is off the route from %(origin)s "
                        "to %(destination)s: plans do not go back along the route. "
                        "Start or end the trip nearer to it, or remove it."
                    ),
                    {
                        "title": title,
                        "place": place,
                        "origin": _place(planner, request.origin),
                        "destination": _place(planner, request.destination),
                    },
                )
            )
            continue
        if not offer.party_ok:
            if persons < offer.min_party:
                reasons.append(
                    Msg(
                        gettext_noop(
                            "'%(title)s' in %(place)s takes at least %(minimum)s "
                            "people; you are %(persons)s."
                        ),
                        {
                            "title": title,
                            "place": place,
                            "minimum": offer.min_party,
                            "persons": persons,
                        },
                    )
                )
            else:
                reasons.append(
                    Msg(
                        gettext_noop(
                            "'%(title)s' in %(place)s takes at most %(maximum)s "
                            "people; you are %(persons)s."
                        ),
                        {
                            "title": title,
                            "place": place,
                            "maximum": offer.max_party,
                            "persons": persons,
                        },
                    )
                )
            continue
        dates = [d for d in offer.sessions if first_day <= d <= last_day]
        if offer.kind == "stay":
            dates = [d for d in dates if d < last_day]
        if not dates:
            reasons.append(
                Msg(
                    gettext_noop(
                        "'%(title)s' in %(place)s is not offered between %(first)s "
                        "and %(last)s."
                    ),
                    {
                        "title": title,
                        "place": place,
                        "first": first_day.isoformat(),
                        "last": last_day.isoformat(),
                    },
                )
            )
            continue
        if not any(s.free >= persons for d in dates for s in offer.sessions[d]):
            reasons.append(
                Msg(
                    gettext_noop(
                        "'%(title)s' in %(place)s has no room for %(persons)s on any "
                        "date of your trip."
                    ),
                    {"title": title, "place": place, "persons": persons},
                )
            )
            continue
        if offer.kind == "stay":
            continue
        world = planner.world
        fits = False
        for d in dates:
            lo = world.minute(offer.place, d, pace_first)
            hi = world.minute(offer.ends_at, d, pace_last) - offer.duration_min
            if any(
                s.free >= persons and s.earliest <= hi and s.latest >= lo
                for s in offer.sessions[d]
            ):
                fits = True
                break
        if not fits:
            session = offer.sessions[dates[0]][0]
            starts = world.local(offer.place, session.earliest).strftime("%H:%M")
            reasons.append(
                Msg(
                    gettext_noop(
                        "'%(title)s' in %(place)s starts at %(time)s and takes "
                        "%(minutes)s min, outside your pace's day (%(first)s–"
                        "%(last)s); choose a faster pace or remove it."
                    ),
                    {
                        "title": title,
                        "place": place,
                        "time": starts,
                        "minutes": offer.duration_min,
                        "first": pace_first.strftime("%H:%M"),
                        "last": pace_last.strftime("%H:%M"),
                    },
                )
            )
    return reasons


def engine_failure(planner: Planner, skeleton, meta) -> Msg:
    """Why the engine found no plan on a skeleton: the must-sees it cannot place."""
    names = [
        planner.offers[k].title
        for k in planner.include
        if planner.offers[k].kind != "stay"
    ]
    return Msg(
        gettext_noop(
            "The must-see %(items)s do not fit together in the days of any route "
            "that works (opening days, times, pace, capacity or budget)."
        ),
        {"items": names or "—"},
    )


def msg_budget(planner: Planner, cheapest: float, *, exact: bool = True) -> Msg:
    """Over budget: the least cost of a route that was found (``exact``), else a
    lower bound of every route's (quoted as "at least")."""
    assert planner.request.budget is not None
    planner.cheapest_cost = int(cheapest)  # the budget fix starts from it
    text = (
        gettext_noop(
            "The cheapest feasible plan costs %(cost)s, above your %(budget)s: "
            "raise the budget to %(cost)s, or shorten the trip."
        )
        if exact
        else gettext_noop(
            "A plan for these dates costs at least %(cost)s, above your "
            "%(budget)s: raise the budget, or shorten the trip."
        )
    )
    return Msg(
        text,
        {
            "cost": money_text(int(cheapest), planner.currency),
            "budget": money_text(planner.request.budget.amount_minor, planner.currency),
        },
    )


def msg_acclimatisation(planner: Planner) -> Msg:
    return Msg(
        gettext_noop(
            "A %(days)s-day trip cannot include the two acclimatisation nights "
            "needed after flying into %(place)s: plan at least %(minimum)s days, "
            "or arrive overland."
        ),
        {
            "days": planner.request.days,
            "place": _place(planner, planner.request.origin),
            "minimum": ACCLIMATISATION_NIGHTS + 2,
        },
    )


def explain_failure(
    planner: Planner, search, cheapest_seen: list[int], stats: dict, engine_fail
) -> list[Msg]:
    reasons: list[Msg] = []
    exists = search.best_to_go()(search.initial()) != float("-inf")
    cut = search.budget_cut
    if exists and search.exhausted and not search.generated and cut is not None:
        # Every way through was cut by the budget before it was complete.
        planner._cause = "budget"
        least = max(cut, search.cheapest_to_go()(search.initial()))
        return [msg_budget(planner, least, exact=False)]
    if not exists or (search.exhausted and not search.generated):
        # No route at all (the canonical bound says so, or the exhaustive search
        # found no complete skeleton even before the must-sees and the budget).
        planner._cause = "route"
        return explain_route(planner, search)
    if cheapest_seen or stats["over_budget"] or planner._over_budget:
        planner._cause = "budget"
        # The least cost of a real route that was looked at (its cheapest nights,
        # rides and nothing else), else a lower bound of every route's.
        real = [*cheapest_seen, *planner._over_budget]
        if real:
            reasons.append(msg_budget(planner, min(real)))
        else:
            lower = search.cheapest_to_go()(search.initial())
            reasons.append(msg_budget(planner, lower, exact=False))
        return reasons
    if stats["missing_include"] and cut is not None:
        # Routes were cut by the budget before they were complete: when one that
        # reaches every must-see exists without the budget, the budget is the cause.
        least = _least_with_includes(planner, search)
        if least is not None:
            planner._cause = "budget"
            return [msg_budget(planner, least, exact=False)]
    if stats["missing_include"]:
        planner._cause = "must_see"
        for key in planner.include:
            offer = planner.offers[key]
            dates = sorted(offer.sessions)
            reasons.append(
                Msg(
                    gettext_noop(
                        "'%(title)s' in %(place)s cannot be fitted: no route "
                        "that works has you there on a day it is offered "
                        "(%(dates)s). Add a day, change the dates, or remove it "
                        "from the must-see list."
                    ),
                    {
                        "title": offer.title,
                        "place": _place(planner, offer.place),
                        "dates": ", ".join(d.isoformat() for d in dates[:5]) or "—",
                    },
                )
            )
        return reasons
    if stats["missing_keep"]:
        planner._cause = "keep"
        reasons.append(
            Msg(
                gettext_noop(
                    "The transport you asked to keep does not fit a route that "
                    "works any more; drop it and plan again."
                )
            )
        )
        return reasons
    planner._cause = "must_see" if planner.include else "other"
    return engine_fail[:1] or [
        Msg(gettext_noop("No plan fits these dates and choices; try adding a day."))
    ]


def _raised(amount_minor: float, factor: float) -> int:
    """``amount_minor`` times ``factor``, rounded up to a whole unit of money."""
    return math.ceil(amount_minor * factor / 100.0) * 100


def _least_with_includes(planner: Planner, search) -> int | None:
    """The least cost (cheapest rides and nights, plus the must-sees' prices) of
    a route that reaches every must-see, looked for without the budget for a
    second at most; None when none is found."""
    found: list[int] = []

    def accept(days, cost: int) -> bool:
        if planner._covers_includes(days):
            found.append(cost)
        return False  # look on; only the costs matter

    deadline = time.perf_counter() + LEAST_SECONDS
    for _ in search.skeletons(accept, deadline=deadline, max_expansions=20_000):
        pass
    if not found:
        return None
    return min(found) + planner.must_cost


def explain_route(planner: Planner, search) -> list[Msg]:
    request = planner.request
    reasons: list[Msg] = []
    furthest = search.diagnosis.furthest
    if furthest is not None:
        _, day_index, place = furthest
        date = request.start_date + dt.timedelta(days=day_index)
        refusals = search.diagnosis.refusals
        # Rides refused on the furthest day first: a border closing, a full bus.
        keys = sorted(
            (key for key, problems in refusals.items() if problems),
            key=lambda key: (key[2] != date, key[0] != place),
        )
        for origin, destination, day in keys:
            border = border_reason(planner, origin, day)
            reasons.append(border or refusals[origin, destination, day][0])
            break
        if not reasons and search.diagnosis.altitude:
            reasons.append(search.diagnosis.altitude[0])
        if not reasons:
            reasons.append(no_ride(planner, place, date))
    extra = planner.days_needed()
    origin = _place(planner, request.origin)
    destination = _place(planner, request.destination)
    if extra is not None:
        reasons.append(
            Msg(
                gettext_noop(
                    "From %(origin)s to %(destination)s starting %(date)s takes at "
                    "least %(needed)s days: add %(extra)s day(s)."
                ),
                {
                    "origin": origin,
                    "destination": destination,
                    "date": request.start_date.isoformat(),
                    "needed": request.days + extra,
                    "extra": extra,
                },
            )
        )
    else:
        reasons.append(
            Msg(
                gettext_noop(
                    "No route from %(origin)s to %(destination)s works from "
                    "%(date)s even with a few more days; try other dates."
                ),
                {
                    "origin": origin,
                    "destination": destination,
                    "date": request.start_date.isoformat(),
                },
            )
        )
    return reasons


def no_ride(planner: Planner, place: str, date: dt.date) -> Msg:
    from itineraries.planning.planner import weekday

    return Msg(
        gettext_noop(
            "Nothing leaves %(place)s towards %(destination)s on %(weekday)s "
            "%(date)s at the hours a plan can use (timetables run on some days "
            "only)."
        ),
        {
            "place": _place(planner, place),
            "destination": _place(planner, planner.request.destination),
            "weekday": weekday(date),
            "date": date.isoformat(),
        },
    )


def border_reason(planner: Planner, place: str, date: dt.date) -> Msg | None:
    """ "The last bus that reaches Kasani before it closes at 20:00 (Peru time)
    leaves Puno at 14:30", when a border's hours stopped the trip that day."""
    from itineraries.planning.planner import zone_name

    world = planner.world
    rides = [
        r
        for r in world.rides
        if r.origin == place
        and r.passage is not None
        and world.date_of(place, r.depart) == date
    ]
    refused = [r for r in rides if not r.passage.passable]  # type: ignore[union-attr]
    if not refused:
        return None
    passable = [r for r in rides if r.passage.passable]  # type: ignore[union-attr]
    passage = refused[-1].passage
    assert passage is not None
    if not passable:
        return passage.problems[0] if passage.problems else None
    last = max(passable, key=lambda r: r.depart)
    return Msg(
        gettext_noop(
            "The last %(mode)s that reaches %(crossing)s before it closes at "
            "%(closes)s (%(zone)s) leaves %(origin)s at %(time)s."
        ),
        {
            "mode": last.mode_name,
            "crossing": passage.name,
            "closes": passage.closes_local,
            "zone": zone_name(world, passage.first_side),
            "origin": _place(planner, place),
            "time": world.local(place, last.depart).strftime("%H:%M"),
        },
    )


# --- one-click fixes -----------------------------------------------------------------


def _solves(planner: Planner, request) -> tuple[bool, object]:
    from itineraries.planning.planner import FIX_SECONDS, Planner

    other = Planner(
        planner.world,
        request,
        time_limit_s=min(FIX_SECONDS, planner.time_limit_s),
        skeleton_seconds=planner.skeleton_seconds,
        max_skeletons=max(2, planner.max_skeletons // 3),
    )
    result = other.run(with_fixes=False)
    return result.status == "solved", result


def verified_fixes(planner: Planner, result: PlanResult) -> list[dict]:
    """One-click changes of the request that give a plan: each was solved here
    before it is offered. ``changes`` is what to change in the stored request; a
    change that still breaks the budget is offered with the budget it needs."""
    request = planner.request
    world = planner.world
    fixes: list[dict] = []
    last_ride_day = max(
        (world.date_of(r.origin, r.depart) for r in world.rides), default=None
    )
    cause = result.stats.get("cause", "other")
    deadline = time.perf_counter() + max(FIXES_MIN_SECONDS, planner.time_limit_s)
    # What can help, by cause (a larger budget does not shorten a route).
    wanted = {
        "route": {"add_days", "via", "overland"},
        "acclimatisation": {"add_days", "overland"},
        "budget": {"budget"},
        "must_see": {"drop_include", "add_days"},
        "keep": set(),
    }.get(cause, {"add_days", "drop_include", "budget", "via", "overland"})

    def budget_for(candidate) -> int | None:
        """The budget (with a margin) the plan of ``candidate`` needs."""
        assert request.budget is not None
        ok, found = _solves(planner, replace(candidate, budget=None))
        if not ok:
            return None
        currency = request.budget.currency
        amount = _minor_of(found.totals, currency, world)  # type: ignore[union-attr]
        raised = _raised(amount, BUDGET_MARGIN)
        return raised if raised > request.budget.amount_minor else None

    def offer(code: str, label: Msg, changes: dict, candidate) -> bool:
        if time.perf_counter() > deadline:
            return False  # out of time for checking fixes: offer none unchecked
        ok, _ = _solves(planner, candidate)
        if not ok and request.budget is not None and "budget" not in changes:
            raised = budget_for(candidate)
            if raised is not None:
                candidate = replace(
                    candidate, budget=Budget(raised, request.budget.currency)
                )
                ok, _ = _solves(planner, candidate)
                if ok:
                    changes = {**changes, "budget": _money_json(raised, candidate)}
                    label = Msg(
                        gettext_noop("%(fix)s, and raise the budget to %(amount)s"),
                        {
                            "fix": label,
                            "amount": money_text(raised, request.budget.currency),
                        },
                    )
        if ok:
            fixes.append({"code": code, "label": label.both(), "changes": changes})
        return ok

    # More days (the rides of a week beyond the trip are in the world).
    for extra in range(1, 4) if "add_days" in wanted else ():
        days = request.days + extra
        end = request.start_date + dt.timedelta(days=days - 1)
        if last_ride_day is not None and end > last_ride_day:
            break
        candidate = replace(request, days=days)
        label = Msg(
            gettext_noop("Add %(n)s day(s): %(days)s days in all"),
            {"n": extra, "days": days},
        )
        if offer("add_days", label, {"days": days}, candidate):
            break
    # Drop a must-see that cannot fit.
    for key in list(planner.include)[:3] if "drop_include" in wanted else ():
        candidate = replace(
            request,
            include=tuple(k for k in request.include if k != key),
        )
        title = planner.offers[key].title
        offer(
            f"drop_include:{key}",
            Msg(gettext_noop("Plan without '%(title)s'"), {"title": title}),
            {"include": list(candidate.include)},
            candidate,
        )
    # A larger budget: the least that gives a plan — the cheapest route's cost the
    # explanation quotes, plus a margin — else the cost of the plan found without a
    # budget, plus a margin.
    if request.budget is not None and "budget" in wanted:
        raised = None
        least = planner.cheapest_cost
        for factor in BUDGET_STEPS if least is not None else ():
            trial = _raised(least, factor)
            if trial <= request.budget.amount_minor:
                continue
            if time.perf_counter() > deadline:
                break
            candidate = replace(request, budget=Budget(trial, request.budget.currency))
            if _solves(planner, candidate)[0]:
                raised = trial
                break
        if raised is None:
            raised = budget_for(request)
        if raised is not None:
            candidate = replace(request, budget=Budget(raised, request.budget.currency))
            offer(
                "budget",
                Msg(
                    gettext_noop("Raise the budget to %(amount)s"),
                    {"amount": money_text(raised, request.budget.currency)},
                ),
                {"budget": _money_json(raised, candidate)},
                candidate,
            )
    # The other border crossing.
    if planner.via == "copacabana" and _crosses(planner) and "via" in wanted:
        candidate = replace(request, via="desaguadero")
        offer(
            "via",
            Msg(gettext_noop("Cross the border at Desaguadero instead")),
            {"via": "desaguadero"},
            candidate,
        )
    # Arrive overland instead of flying in (acclimatisation nights).
    if request.by_air and "overland" in wanted:
        candidate = replace(request, arrival="overland")
        offer(
            "overland",
            Msg(gettext_noop("Arrive overland instead of by air")),
            {"arrival": "overland"},
            candidate,
        )
    return fixes


def _money_json(amount: int, candidate) -> dict[str, str]:
    from itineraries.planning.money import money

    return money(amount, candidate.budget.currency)


def _crosses(planner: Planner) -> bool:
    from itineraries.planning.planner import crosses_border

    return crosses_border(planner.world, planner.request)


def _minor_of(totals: dict, currency: str, world) -> int:
    from decimal import Decimal

    from catalogue.models import CURRENCY_EXPONENT

    amount = Decimal(totals["amount"])
    minor = int(amount * 10 ** CURRENCY_EXPONENT[totals["currency"]])
    return world.rates.convert_minor(minor, totals["currency"], currency)
