"""From a request and a world snapshot to a plan (or the reason there is none).

1. Value every experience and night for this traveller (:mod:`objective`).
2. Enumerate skeletons best bound first (:mod:`skeleton`).
3. For the best skeletons, choose the nights' stays and solve the days with the
   orienteering engine (:mod:`itineraries.solver`): one tour per day from the
   morning's place to the evening's, the day's rides as mandatory fixed-time visits,
   experiences inside their windows with free capacity, the pace's active-time cap,
   and what is left of the budget once rides and nights are paid.
4. Stop when the next skeleton's bound cannot beat the best plan (proven), or the
   time is up; render the best plan day by day with local times.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

from itineraries.planning import objective
from itineraries.planning.messages import Msg, Text
from itineraries.planning.money import money_text
from itineraries.planning.skeleton import (
    ACCLIMATISATION_NIGHTS,
    BOARDING_MIN,
    DayPlan,
    Skeleton,
    SkeletonSearch,
)
from itineraries.planning.validate import PlanBugError, validate_plan
from itineraries.planning.world import HUBS, Offer, Pace, PlanRequest, Ride, World
from itineraries.solver import (
    Node,
    OrienteeringProblem,
    SolverParams,
    Tour,
    solve,
)

MAX_SKELETONS = 8  # skeletons whose days are solved with the engine (12: +1.3 % mean
# objective, +35 % time on the route-scale benchmark)
MAX_LOOKED = 400  # skeletons whose tighter bound is computed
# Engine effort per skeleton, in seconds of the engine's deterministic work budget
# (iterations, not the wall clock, so a plan does not depend on the machine's load;
# the time limit stays a safety net). Measured on the route-scale benchmark.
SKELETON_SECONDS = 0.1
CANDIDATES_PER_AREA = 40
MIN_FREE_STEP_MIN = 60


@dataclass(frozen=True)
class StayChoice:
    offer: Offer | None
    price_minor: int  # in the offer's currency (or the estimate's)
    currency: str
    plan_minor: int  # in the plan currency
    points: int
    estimated: bool


@dataclass
class PlanResult:
    status: str  # "solved" | "infeasible"
    days: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    explanation: list[Msg] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def plan_currency(request: PlanRequest, world: World) -> str:
    if request.budget:
        return request.budget.currency
    return "BOB" if world.places[request.origin].country == "BO" else "PEN"


class Planner:
    def __init__(
        self,
        world: World,
        request: PlanRequest,
        *,
        time_limit_s: float = 10.0,
        skeleton_seconds: float = SKELETON_SECONDS,
        max_skeletons: int = MAX_SKELETONS,
    ) -> None:
        self.world = world
        self.request = request
        self.time_limit_s = time_limit_s
        self.skeleton_seconds = skeleton_seconds
        self.max_skeletons = max_skeletons
        self.currency = plan_currency(request, world)
        self.persons = request.persons
        excluded = set(request.exclude)
        self.offers = {
            o.listing_id: o for o in world.offers if o.listing_id not in excluded
        }
        self.include = [i for i in request.include if i in self.offers]
        self.areas = {o.listing_id: self._area(o.place) for o in self.offers.values()}
        self.activity_values: dict[int, int] = {}
        self.offers_by_area: dict[str, list[Offer]] = defaultdict(list)
        for offer in self.offers.values():
            if offer.kind == "stay" or not offer.party_ok:
                continue
            area = self.areas[offer.listing_id]
            if area is None:
                continue
            self.activity_values[offer.listing_id] = self._experience_points(
                offer, area
            )
            self.offers_by_area[area].append(offer)
        self.night_values = self._night_values()
        self._over_budget: list[int] = []  # real least costs of routes over budget

    # --- values ---------------------------------------------------------------

    def _area(self, place: str) -> str | None:
        if place in HUBS or any(place in s for s in self.world.satellites.values()):
            return place
        return self.world.areas.get(place)

    def _usd_per_person(self, amount_minor: int, currency: str) -> int:
        usd = self.world.rates.convert_minor(amount_minor, currency, "USD")
        return usd // max(1, self.persons)

    def _experience_points(self, offer: Offer, area: str) -> int:
        prices = [s.price_minor for ss in offer.sessions.values() for s in ss]
        price = max(prices, default=0)
        detour = 0 if offer.place == area else 2 * self.world.between(area, offer.place)
        return objective.experience_points(
            tags=offer.tags,
            duration_min=offer.duration_min,
            community_run=offer.community_run,
            usd_cents_per_person=self._usd_per_person(price, offer.currency),
            detour_min=detour,
            interests=self.request.interests,
        )

    def _night_points(self, offer: Offer, price_minor: int) -> int:
        return objective.night_points(
            tags=offer.tags,
            community_run=offer.community_run,
            usd_cents_per_person=self._usd_per_person(price_minor, offer.currency),
            interests=self.request.interests,
        )

    def _stays_on(self, place: str, night: dt.date) -> list[tuple[Offer, int]]:
        """(stay, party price that night) with room for the whole party."""
        found = []
        for offer in self.offers.values():
            if offer.kind != "stay" or offer.place != place or not offer.party_ok:
                continue
            for session in offer.sessions.get(night, ()):
                if session.free >= self.persons:
                    found.append((offer, session.price_minor))
                    break
        return found

    def _estimate(self, place: str) -> tuple[int, str]:
        per_person, currency = self.world.stay_estimates.get(
            place, self.world.stay_estimates.get("*", (10000, "PEN"))
        )
        return per_person * self.persons, currency

    def _night_values(self) -> dict[tuple[str, dt.date], tuple[int, int]]:
        values: dict[tuple[str, dt.date], tuple[int, int]] = {}
        places = set(HUBS) | {p for s in self.world.satellites.values() for p in s}
        for day in range(self.request.days):
            night = self.request.start_date + dt.timedelta(days=day)
            for place in places:
                if place not in self.world.places:
                    continue
                stays = self._stays_on(place, night)
                if stays:
                    best = max(self._night_points(o, p) for o, p in stays)
                    cheapest = min(self._to_plan(p, o.currency) for o, p in stays)
                    values[place, night] = (max(0, best), cheapest)
                else:
                    amount, currency = self._estimate(place)
                    values[place, night] = (0, self._to_plan(amount, currency))
        return values

    def _to_plan(self, amount_minor: int, currency: str) -> int:
        return self.world.rates.convert_minor(amount_minor, currency, self.currency)

    # --- the search -------------------------------------------------------------

    def search(self) -> SkeletonSearch:
        return SkeletonSearch(
            self.world,
            self.request,
            currency=self.currency,
            activity_values=self.activity_values,
            night_values=self.night_values,
            offers_by_area=self.offers_by_area,
        )

    def _covers_includes(self, days: tuple[DayPlan, ...]) -> bool:
        for listing_id in self.include:
            offer = self.offers[listing_id]
            if offer.kind == "stay":
                if not any(
                    day.night == offer.place and day.date in offer.sessions
                    for day in days
                ):
                    return False
                continue
            area = self.areas.get(listing_id)
            if not any(
                area in self._day_areas(day) and day.date in offer.sessions
                for day in days
            ):
                return False
        return True

    @staticmethod
    def _day_spans(day: DayPlan) -> dict[str, tuple[int, int]]:
        """Where experiences can be done that day, and when: inside the pace's hours,
        before the day's rides where the day starts, after them where it ends."""
        first, last = day.pace_morning
        low = max(day.start, first)
        if day.move is None:
            return {day.morning: (low, min(day.end, last))}
        before = (low, min(day.move.depart - BOARDING_MIN, last))
        if day.move.overnight:
            return {day.morning: before}
        first_e, last_e = day.pace_evening
        after = (max(day.move.arrive + 10, first_e), min(day.end, last_e))
        return {day.morning: before, day.evening: after}

    @staticmethod
    def _day_areas(day: DayPlan) -> tuple[str, ...]:
        if day.move is None:
            return (day.morning,)
        if day.move.overnight:
            return (day.morning,)
        return (day.morning, day.evening)

    def run(self) -> PlanResult:
        started = time.perf_counter()
        deadline = started + self.time_limit_s
        request = self.request
        if request.by_air and request.nights < ACCLIMATISATION_NIGHTS:
            return self._infeasible([self._msg_acclimatisation()], started)
        search = self.search()
        kept_rides = set(request.keep_rides)
        budget = request.budget.amount_minor if request.budget is not None else None
        stats = {"over_budget": 0, "missing_include": 0, "missing_keep": 0}
        cheapest_seen: list[int] = []

        def accept(days: tuple[DayPlan, ...], cost: int) -> bool:
            used = {r.key for d in days if d.move for r in d.move.rides}
            if not kept_rides <= used:
                stats["missing_keep"] += 1
                return False
            if not self._covers_includes(days):
                stats["missing_include"] += 1
                return False
            if budget is not None and cost > budget:
                cheapest_seen.append(cost)
                stats["over_budget"] += 1
                return False
            return True

        best: tuple[int, Skeleton, dict, object, object] | None = None
        solved = looked = 0
        engine_fail: list[Msg] = []
        upper: int | None = None  # best bound of the skeletons looked at
        next_bound: int | None = None  # bound of every skeleton not looked at
        if budget is not None:
            cheapest = search.cheapest_to_go()(search.initial())
            if cheapest != float("inf") and cheapest > budget:
                return self._infeasible([self._msg_budget(cheapest)], started)
        for skeleton in search.skeletons(accept, budget=budget, deadline=deadline):
            looked += 1
            if best is not None and skeleton.bound <= best[0]:
                next_bound = skeleton.bound
                break  # no skeleton left can beat the best plan: proven
            remaining = deadline - time.perf_counter()
            if (
                looked > MAX_LOOKED
                or solved >= self.max_skeletons
                or remaining < min(0.05, self.skeleton_seconds)
            ):
                next_bound = skeleton.bound
                break
            tight = self._tight_bound(skeleton, search)
            if best is not None and tight <= best[0]:
                continue
            outcome = self._solve_days(skeleton, remaining, engine_fail)
            solved += 1
            if outcome is None:
                continue
            total, refined, stays, problem, solution = outcome
            refined = max(total, min(refined, tight))
            upper = refined if upper is None else max(upper, refined)
            if best is None or total > best[0]:
                best = (total, skeleton, stays, problem, solution)
        elapsed = time.perf_counter() - started
        if best is None:
            reasons = self._explain_failure(search, cheapest_seen, stats, engine_fail)
            return self._infeasible(reasons, started)
        if next_bound is not None:
            next_bound = min(next_bound, self._trip_cap(search))
        bound = max(x for x in (upper, next_bound, best[0]) if x is not None)
        total, skeleton, stays, problem, solution = best
        result = self._render(skeleton, stays, problem, solution)
        errors = validate_plan(
            self.world, request, result.days, result.totals, currency=self.currency
        )
        if errors:
            raise PlanBugError("plan breaks its rules: " + "; ".join(errors))
        result.stats = {
            "objective": total,
            "bound": bound,
            "gap": round((bound - total) / bound, 4) if bound > 0 else 0.0,
            "proven": bound <= total,
            "skeletons_solved": solved,
            "skeletons_looked_at": looked,
            "seconds": round(elapsed, 3),
            "engine_status": str(solution.status),
        }
        return result

    def _infeasible(self, reasons: list[Msg], started: float) -> PlanResult:
        return PlanResult(
            status="infeasible",
            explanation=reasons,
            stats={"seconds": round(time.perf_counter() - started, 3)},
        )

    # --- stays ------------------------------------------------------------------

    def choose_stays(
        self, skeleton: Skeleton, *, cheapest: bool = False
    ) -> dict[int, StayChoice]:
        """A stay for every night: one stay for a run of nights in a place when one
        has room all along, else the best each night, else an estimate."""
        choices: dict[int, StayChoice] = {}
        nights = [(d.index, d.night, d.date) for d in skeleton.days if d.night]
        runs: list[list[tuple[int, str, dt.date]]] = []
        for night in nights:
            if runs and runs[-1][-1][1] == night[1] and runs[-1][-1][0] == night[0] - 1:
                runs[-1].append(night)
            else:
                runs.append([night])
        forced = {lid for lid in self.include if self.offers[lid].kind == "stay"}
        forced |= {lid for lid, _ in self.request.keep_stays if lid in self.offers}
        for run in runs:
            per_night = {i: self._stays_on(place, date) for i, place, date in run}
            common: dict[int, list[tuple[Offer, int]]] = defaultdict(list)
            for options in per_night.values():
                for offer, price in options:
                    common[offer.listing_id].append((offer, price))

            def rank(items: list[tuple[Offer, int]]) -> tuple:
                offer = items[0][0]
                cost = sum(self._to_plan(p, o.currency) for o, p in items)
                points = sum(self._night_points(o, p) for o, p in items)
                key = -cost if cheapest else points
                return (offer.listing_id in forced, key, -cost, -offer.listing_id)

            whole = [items for items in common.values() if len(items) == len(run)]
            # Cheapest: night by night (one stay for the run is a comfort, not a
            # saving, and the budget check must use the true minimum).
            if whole and not cheapest:
                items = max(whole, key=rank)
                for (index, _place, _date), (offer, price) in zip(
                    run, items, strict=True
                ):
                    choices[index] = self._choice(offer, price)
                continue
            for index, place, _date in run:
                options = per_night[index]
                if options:
                    offer, price = max(([o] for o in options), key=rank)[0]
                    choices[index] = self._choice(offer, price)
                else:
                    amount, currency = self._estimate(place)
                    choices[index] = StayChoice(
                        None, amount, currency, self._to_plan(amount, currency), 0, True
                    )
        return choices

    def _choice(self, offer: Offer, price: int) -> StayChoice:
        return StayChoice(
            offer,
            price,
            offer.currency,
            self._to_plan(price, offer.currency),
            self._night_points(offer, price),
            False,
        )

    # --- the days -----------------------------------------------------------------

    def _solve_days(self, skeleton: Skeleton, seconds: float, failures: list[Msg]):
        request = self.request
        stays = self.choose_stays(skeleton)
        ride_cost = sum(
            self._to_plan(r.price_minor, r.currency)
            for d in skeleton.days
            if d.move
            for r in d.move.rides
        )
        budget_left = None
        if request.budget is not None:
            budget_left = (
                request.budget.amount_minor
                - ride_cost
                - sum(c.plan_minor for c in stays.values())
            )
            if budget_left < 0:
                stays = self.choose_stays(skeleton, cheapest=True)
                budget_left = (
                    request.budget.amount_minor
                    - ride_cost
                    - sum(c.plan_minor for c in stays.values())
                )
                if budget_left < 0:
                    # What this route really costs at the least (cheapest stay each
                    # night, no experiences): the budget explanation quotes it.
                    self._over_budget.append(request.budget.amount_minor - budget_left)
                    return None
        # The rides are mandatory engine nodes with their price: the engine's budget
        # is what is left once the nights are paid.
        engine_budget = None if budget_left is None else budget_left + ride_cost
        problem, meta = self._problem(skeleton, engine_budget)
        work = max(0.05, min(self.skeleton_seconds, seconds))
        params = SolverParams(
            time_limit_s=work,
            wall_limit_s=max(work, seconds),
            random_seed=request.seed,
            deterministic=True,
            num_workers=1,
        )
        solution = solve(problem, params)
        if not solution.has_plan:
            failures.append(
                Msg(
                    gettext_noop(
                        "The must-see experiences do not fit in the days of any "
                        "route that works (opening days, times, pace or capacity)."
                    )
                )
            )
            return None
        penalties = sum(
            search_penalty
            for search_penalty in (
                self._move_penalty(d) for d in skeleton.days if d.move is not None
            )
        )
        night_points = sum(c.points for c in stays.values())
        total = solution.score + night_points - penalties
        engine_bound = solution.bound if solution.bound is not None else solution.score
        # The skeleton bound holds the best nights; the engine's bound the best days.
        refined = min(
            skeleton.bound,
            engine_bound + max(night_points, self._best_nights(skeleton)) - penalties,
        )
        return total, max(refined, total), (stays, meta), problem, solution

    def _trip_cap(self, search: SkeletonSearch) -> int:
        """A bound on every skeleton at once: the best nights-minus-rides of any
        skeleton (exact, by the same dynamic programme without experiences) plus
        every experience of the route counted once in the trip's active minutes."""
        bare = SkeletonSearch(
            self.world,
            self.request,
            currency=self.currency,
            activity_values={},
            night_values=self.night_values,
            offers_by_area={},
        )
        bare._moves = search._moves  # same rides: share the chains already found
        nights_and_rides = bare.best_to_go()(bare.initial())
        _, _, cap = Pace.LIMITS[self.request.pace]
        items = sorted(
            (
                (value, max(1, self.offers[lid].duration_min))
                for lid, value in self.activity_values.items()
                if value > 0
            ),
            key=lambda item: -item[0] / item[1],
        )
        capacity = cap * self.request.days
        total = 0.0
        for value, minutes in items:
            if capacity <= 0:
                break
            take = min(minutes, capacity)
            total += value * take / minutes
            capacity -= take
        return int(nights_and_rides + total + 0.999)

    def _tight_bound(self, skeleton: Skeleton, search: SkeletonSearch) -> int:
        """The skeleton's bound with each experience counted once over the whole trip
        (the per-day bound of the search may count one experience on every day)."""
        _, _, cap = Pace.LIMITS[self.request.pace]
        nights = self._best_nights(skeleton)
        penalties = sum(
            search.move_value(d.move)[0] for d in skeleton.days if d.move is not None
        )
        per_day_part = skeleton.bound - nights + penalties
        items: dict[int, tuple[int, int]] = {}
        capacity = 0
        for day in skeleton.days:
            spans = self._day_spans(day)
            capacity += min(cap, sum(max(0, hi - lo) for lo, hi in spans.values()))
            for area in spans:
                for offer in self.offers_by_area.get(area, ()):
                    value = self.activity_values.get(offer.listing_id, 0)
                    if value <= 0 or day.date not in offer.sessions:
                        continue
                    if offer.strenuous and self.request.by_air and day.index == 0:
                        continue
                    items[offer.listing_id] = (value, max(1, offer.duration_min))
        union = 0.0
        for value, minutes in sorted(items.values(), key=lambda i: -i[0] / i[1]):
            if capacity <= 0:
                break
            take = min(minutes, capacity)
            union += value * take / minutes
            capacity -= take
        return skeleton.bound - per_day_part + min(per_day_part, int(union + 0.999))

    def _best_nights(self, skeleton: Skeleton) -> int:
        return sum(
            self.night_values.get((d.night, d.date), (0, 0))[0]
            for d in skeleton.days
            if d.night
        )

    def _move_penalty(self, day: DayPlan) -> int:
        assert day.move is not None
        usd = sum(
            self.world.rates.convert_minor(r.price_minor, r.currency, "USD")
            for r in day.move.rides
        )
        return objective.ride_penalty(
            minutes=day.move.arrive - day.move.depart,
            usd_cents_per_person=usd // max(1, self.persons),
            overnight=day.move.overnight,
        )

    def _problem(
        self, skeleton: Skeleton, budget_left: int | None
    ) -> tuple[OrienteeringProblem, list[tuple[str, object]]]:
        """The days as one orienteering problem; ``meta[i]`` says what node i is."""
        request = self.request
        _, _, cap = Pace.LIMITS[request.pace]
        meta: list[tuple[str, object]] = []
        places_in: list[str] = []
        places_out: list[str] = []
        nodes: list[Node] = []
        terminal: dict[str, int] = {}

        def add(
            node_kwargs: dict, kind: str, ref: object, p_in: str, p_out: str
        ) -> int:
            index = len(nodes)
            nodes.append(Node(id=index, **node_kwargs))
            meta.append((kind, ref))
            places_in.append(p_in)
            places_out.append(p_out)
            return index

        for day in skeleton.days:
            for place in (day.morning, day.evening):
                if place not in terminal:
                    terminal[place] = add(
                        {"name": place}, "terminal", place, place, place
                    )
        for day in skeleton.days:
            if day.move:
                for ride in day.move.rides:
                    add(
                        {
                            "service_min": ride.minutes,
                            "windows": ((ride.depart, ride.depart),),
                            "price_minor": self._to_plan(
                                ride.price_minor, ride.currency
                            ),
                            "mandatory": True,
                            "allowed_tours": frozenset({day.index}),
                            "active": False,
                            "name": ride.key,
                        },
                        "ride",
                        ride,
                        ride.origin,
                        ride.destination,
                    )
        # Experiences: windows on every day the traveller is in their area.
        windows: dict[int, list[tuple[int, int]]] = defaultdict(list)
        tours_of: dict[int, set[int]] = defaultdict(set)
        prices: dict[int, int] = defaultdict(int)
        for day in skeleton.days:
            for area, (low, high) in self._day_spans(day).items():
                offers = self.offers_by_area.get(area, [])
                ranked = sorted(
                    (o for o in offers if day.date in o.sessions),
                    key=lambda o: (
                        o.listing_id not in self.include,
                        -self.activity_values.get(o.listing_id, 0),
                        o.listing_id,
                    ),
                )[:CANDIDATES_PER_AREA]
                for offer in ranked:
                    lid = offer.listing_id
                    if (
                        self.activity_values.get(lid, 0) <= 0
                        and lid not in self.include
                    ):
                        continue
                    if offer.strenuous and request.by_air and day.index == 0:
                        continue
                    for session in offer.sessions[day.date]:
                        if session.free < self.persons:
                            continue
                        lo = max(session.earliest, low)
                        hi = min(session.latest, high - offer.duration_min)
                        if lo > hi:
                            continue
                        windows[lid].append((lo, hi))
                        tours_of[lid].add(day.index)
                        prices[lid] = max(
                            prices[lid],
                            self._to_plan(session.price_minor, offer.currency),
                        )
        for lid in sorted(windows):
            offer = self.offers[lid]
            merged = _merge(windows[lid])
            add(
                {
                    "service_min": offer.duration_min,
                    "score": self.activity_values.get(lid, 0),
                    "windows": tuple(merged),
                    "price_minor": prices[lid],
                    "mandatory": lid in self.include,
                    "allowed_tours": frozenset(tours_of[lid]),
                    "name": f"listing {lid}",
                },
                "offer",
                offer,
                offer.place,
                offer.place,
            )
        # A must-see with no usable window gets none: the engine then reports that
        # no plan exists, and the explanation names it.
        for lid in self.include:
            offer = self.offers[lid]
            if offer.kind != "stay" and lid not in windows:
                add(
                    {
                        "service_min": offer.duration_min,
                        "mandatory": True,
                        "allowed_tours": frozenset(),
                        "name": f"listing {lid}",
                    },
                    "offer",
                    offer,
                    offer.place,
                    offer.place,
                )
        tours = tuple(
            Tour(
                start=terminal[day.morning],
                end=terminal[day.evening],
                earliest_departure=day.start,
                latest_arrival=day.end,
                max_active_min=cap,
            )
            for day in skeleton.days
        )
        return self._problem_with(
            nodes, tours, places_in, places_out, meta, budget_left
        )

    def _problem_with(self, nodes, tours, places_in, places_out, meta, budget_left):
        n = len(nodes)
        travel = tuple(
            tuple(
                0
                if i == j
                else self.world.between(places_out[i], places_in[j])
                + (BOARDING_MIN if meta[j][0] == "ride" else 0)
                for j in range(n)
            )
            for i in range(n)
        )
        return (
            OrienteeringProblem(
                nodes=tuple(nodes), tours=tours, travel=travel, budget_minor=budget_left
            ),
            meta,
        )

    # --- explanations ---------------------------------------------------------------

    def _msg_budget(self, cheapest: float) -> Msg:
        assert self.request.budget is not None
        return Msg(
            gettext_noop(
                "The cheapest feasible plan costs %(cost)s, above your %(budget)s: "
                "raise the budget to %(cost)s, or shorten the trip."
            ),
            {
                "cost": money_text(int(cheapest), self.currency),
                "budget": money_text(self.request.budget.amount_minor, self.currency),
            },
        )

    def _msg_acclimatisation(self) -> Msg:
        return Msg(
            gettext_noop(
                "A %(days)s-day trip cannot include the two acclimatisation nights "
                "needed after flying into %(place)s: plan at least %(minimum)s days, "
                "or arrive overland."
            ),
            {
                "days": self.request.days,
                "place": self.world.places[self.request.origin].name,
                "minimum": ACCLIMATISATION_NIGHTS + 2,
            },
        )

    def _explain_failure(
        self,
        search: SkeletonSearch,
        cheapest_seen: list[int],
        stats: dict,
        engine_fail: list[Msg],
    ) -> list[Msg]:
        reasons: list[Msg] = []
        exists = search.best_to_go()(search.initial()) != float("-inf")
        if not exists:
            reasons.extend(self._explain_route(search))
            return reasons
        if cheapest_seen or stats["over_budget"] or self._over_budget:
            cheapest = search.cheapest_to_go()(search.initial())
            if self._over_budget:
                cheapest = max(cheapest, min(self._over_budget))
            reasons.append(self._msg_budget(cheapest))
            return reasons
        if stats["missing_include"]:
            for lid in self.include:
                offer = self.offers[lid]
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
                            "place": self.world.places[offer.place].name,
                            "dates": ", ".join(d.isoformat() for d in dates[:5]) or "—",
                        },
                    )
                )
            return reasons
        if stats["missing_keep"]:
            reasons.append(
                Msg(
                    gettext_noop(
                        "The transport you asked to keep does not fit a route that "
                        "works any more; drop it and plan again."
                    )
                )
            )
            return reasons
        return engine_fail[:1] or [
            Msg(gettext_noop("No plan fits these dates and choices; try adding a day."))
        ]

    def _explain_route(self, search: SkeletonSearch) -> list[Msg]:
        request = self.request
        world = self.world
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
            for origin, _dest, day in keys:
                border = self._border_reason(origin, day)
                reasons.append(border or refusals[origin, _dest, day][0])
                break
            if not reasons and search.diagnosis.altitude:
                reasons.append(search.diagnosis.altitude[0])
            if not reasons:
                reasons.append(self._no_ride(place, date))
        extra = self._days_needed()
        origin = world.places[request.origin].name
        destination = world.places[request.destination].name
        if extra is not None:
            reasons.append(
                Msg(
                    gettext_noop(
                        "From %(origin)s to %(destination)s starting %(date)s takes at "
                        "least %(needed)s days: start a day earlier or add %(extra)s "
                        "day(s)."
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

    def _no_ride(self, place: str, date: dt.date) -> Msg:
        return Msg(
            gettext_noop(
                "Nothing leaves %(place)s towards %(destination)s on %(weekday)s "
                "%(date)s at the hours a plan can use (timetables run on some days "
                "only)."
            ),
            {
                "place": self.world.places[place].name,
                "destination": self.world.places[self.request.destination].name,
                "weekday": _weekday(date),
                "date": date.isoformat(),
            },
        )

    def _border_reason(self, place: str, date: dt.date) -> Msg | None:
        """ "The last bus that reaches Kasani before it closes at 20:00 (Peru time)
        leaves Puno at 14:30", when a border's hours stopped the trip that day."""
        rides = [
            r
            for r in self.world.rides
            if r.origin == place
            and r.passage is not None
            and self.world.date_of(place, r.depart) == date
        ]
        refused = [r for r in rides if not r.passage.passable]  # type: ignore[union-attr]
        if not refused:
            return None
        passable = [r for r in rides if r.passage.passable]  # type: ignore[union-attr]
        passage = refused[-1].passage
        assert passage is not None
        if not passable:
            return refused[-1].passage.problems[0] if passage.problems else None
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
                "zone": _zone_name(self.world, passage.first_side),
                "origin": self.world.places[place].name,
                "time": self.world.local(place, last.depart).strftime("%H:%M"),
            },
        )

    def _days_needed(self) -> int | None:
        """How many days to add for a route to exist (rides of later dates must be
        in the world; the loader loads a week beyond the trip)."""
        from dataclasses import replace

        for extra in range(1, 6):
            longer = replace(self.request, days=self.request.days + extra)
            planner = Planner(self.world, longer, time_limit_s=self.time_limit_s)
            search = planner.search()
            if search.best_to_go()(search.initial()) != float("-inf"):
                return extra
        return None

    # --- rendering -------------------------------------------------------------

    def _render(self, skeleton: Skeleton, stays_meta, problem, solution) -> PlanResult:
        from itineraries.planning.render import render_plan

        stays, meta = stays_meta
        return render_plan(self, skeleton, stays, problem, meta, solution)


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(set(windows)):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado")


def _weekday(date: dt.date) -> Text:
    return Text(
        (*WEEKDAYS_EN, "Sunday")[date.weekday()],
        (*WEEKDAYS_ES, "domingo")[date.weekday()],
    )


def _zone_name(world: World, place: str) -> Text:
    country = world.places[place].country
    if country == "BO":
        return Text("Bolivia time", "hora de Bolivia")
    return Text("Peru time", "hora de Perú")


def ride_title(world: World, ride: Ride) -> Text:
    origin = world.places[ride.origin].name
    destination = world.places[ride.destination].name
    mode, operator = ride.mode_name, ride.operator
    return Text(
        f"{mode.en.capitalize()} {origin.en} → {destination.en} ({operator})",
        f"{mode.es.capitalize()} {origin.es} → {destination.es} ({operator})",
    )
