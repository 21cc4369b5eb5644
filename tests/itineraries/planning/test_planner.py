"""The planner on tiny hand-made worlds with known answers (no database)."""

from __future__ import annotations

import datetime as dt
import gc
import weakref

import pytest

from itineraries.planning.messages import render_all
from itineraries.planning.planner import Planner
from itineraries.planning.validate import validate_plan
from itineraries.planning.world import Budget
from itineraries.solver import validate as validate_engine

from .worlds import START, WorldBuilder, minute, request

DAY2 = START + dt.timedelta(days=1)


def plan(world, req, seconds: float = 5.0):
    return Planner(world, req, time_limit_s=seconds).run()


def english(messages) -> str:
    return " ".join(render_all(messages)["en"])


def steps(result, day: int) -> list[dict]:
    return result.days[day]["steps"]


def puno_copacabana() -> WorldBuilder:
    builder = WorldBuilder()
    builder.daily("puno", "copacabana", "07:30", 210, kasani_after=135)
    builder.stay(100, "puno")
    builder.stay(200, "copacabana")
    return builder


def test_known_answer_moves_on_the_day_of_the_only_session():
    builder = puno_copacabana()
    # The one high-interest experience runs in Copacabana on the first day only.
    builder.activity(1, "copacabana", "15:00", 60, days=[START], tags=("lake",))
    result = plan(builder.build(), request(interests={"lake": 5}))
    assert result.status == "solved"
    day1 = steps(result, 0)
    assert [s["kind"] for s in day1] == [
        "transport",
        "border",
        "transport",
        "free",
        "activity",
        "stay",
    ]
    activity = day1[4]
    assert activity["listing"] == 1
    assert activity["start"] == "2027-03-01T15:00:00-04:00"
    assert result.days[0]["night"]["place"] == "copacabana"
    assert result.days[0]["night"]["stay"]["listing"] == 200
    assert result.days[1]["night"] is None


def test_time_zone_jump_at_the_border():
    result = plan(puno_copacabana().build(), request())
    day = next(d for d in result.days if any(s["kind"] == "border" for s in d["steps"]))
    bus, border, onward = day["steps"][:3]
    assert bus["start"].endswith("07:30:00-05:00")
    assert bus["end"].endswith("09:45:00-05:00")  # reaches Kasani 2 h 15 later
    assert border["start"].endswith("09:45:00-05:00")
    assert border["end"].endswith("11:45:00-04:00")  # 1 h crossing, clock +1 h
    assert border["clock_change_h"] == 1
    assert onward["end"].endswith("12:00:00-04:00")  # 210 min after 07:30 Peru time
    explanation = english(result.explanation)
    assert "clocks then move +1 h" in explanation


def test_border_post_closing_explains_the_last_bus_and_the_fix():
    builder = WorldBuilder()
    # Cusco 07:10 train reaches Puno at 17:10: only the 18:00 bus is left that day,
    # and it would reach Kasani at 20:15, after it closes at 20:00.
    builder.daily("cusco", "puno", "07:10", 600, mode="train")
    builder.daily("puno", "copacabana", "14:30", 210, kasani_after=135)
    builder.daily("puno", "copacabana", "18:00", 210, kasani_after=135)
    builder.stay(200, "copacabana")
    builder.stay(100, "puno")
    result = plan(builder.build(), request(origin="cusco", days=1))
    assert result.status == "infeasible"
    text = english(result.explanation)
    assert "The last bus that reaches Kasani before it closes at 20:00" in text
    assert "leaves Puno at 14:30" in text
    assert "add 1 day(s)" in text
    # With the day added, the plan exists and sleeps in Puno.
    longer = plan(builder.build(), request(origin="cusco", days=2))
    assert longer.status == "solved"
    assert longer.days[0]["night"]["place"] == "puno"


def test_train_only_on_the_days_it_runs():
    builder = WorldBuilder()
    wednesday = START + dt.timedelta(days=2)
    builder.ride("cusco", "puno", wednesday, "07:10", 600, mode="train")
    builder.stay(100, "puno")
    builder.stay(300, "cusco")
    # Tuesday start: the train does not run; Wednesday it does.
    tuesday = START + dt.timedelta(days=1)
    result = plan(
        builder.build(),
        request(origin="cusco", destination="puno", start_date=tuesday, days=2),
    )
    assert result.status == "solved"
    rides = [s for d in result.days for s in d["steps"] if s.get("ride")]
    assert len(rides) == 1
    assert rides[0]["start"] == "2027-03-03T07:10:00-05:00"
    assert result.days[0]["night"]["place"] == "cusco"
    # A one-day trip on the Tuesday cannot be done, and says why.
    none = plan(
        builder.build(),
        request(origin="cusco", destination="puno", start_date=tuesday, days=1),
    )
    assert none.status == "infeasible"
    assert "Tuesday" in english(none.explanation)


def test_full_homestay_is_not_used_and_the_other_stay_is():
    builder = WorldBuilder()
    builder.daily("puno", "copacabana", "07:30", 210, kasani_after=135)
    builder.stay(100, "puno", free=0)  # the community homestay is full
    builder.stay(101, "puno", free=2, price=20000)
    result = plan(builder.build(), request(days=2))
    nights = [d["night"] for d in result.days[:-1]]
    stays = {n["place"]: n["stay"] for n in nights}
    assert all(s["listing"] != 100 for s in stays.values() if s)
    if "puno" in stays:
        assert stays["puno"]["listing"] == 101


def test_no_bookable_stay_gives_an_estimate_and_a_warning():
    builder = WorldBuilder()
    builder.daily("puno", "copacabana", "07:30", 210, kasani_after=135)
    builder.stay(100, "puno", free=1)  # too small for two
    builder.stay(200, "copacabana", free=1)
    result = plan(builder.build(), request(days=2))
    assert result.status == "solved"
    night = result.days[0]["night"]
    assert night["stay"]["listing"] is None
    assert night["stay"]["estimated"] is True
    assert result.totals["estimated"]["amount"] != "0.00"
    assert "No bookable stay has room for 2" in english(result.warnings)


def test_flight_needs_two_nights_first():
    builder = WorldBuilder()
    builder.daily("cusco", "puno", "07:10", 600, mode="train")
    builder.stay(300, "cusco")
    builder.stay(100, "puno")
    short = plan(
        builder.build(),
        request(origin="cusco", destination="puno", arrival="flight", days=2),
    )
    assert short.status == "infeasible"
    assert "cannot include the two acclimatisation nights" in english(short.explanation)
    enough = plan(
        builder.build(),
        request(origin="cusco", destination="puno", arrival="flight", days=3),
    )
    assert enough.status == "solved"
    assert [d["night"]["place"] for d in enough.days[:2]] == ["cusco", "cusco"]
    # No ride before the third day.
    assert all(not s.get("ride") for d in enough.days[:2] for s in d["steps"])


def test_no_strenuous_experience_on_the_day_of_arrival_by_air():
    builder = WorldBuilder()
    builder.daily("cusco", "puno", "07:10", 600, mode="train")
    builder.stay(300, "cusco")
    builder.activity(7, "cusco", "10:00", 180, tags=("hiking",), strenuous=True)
    result = plan(
        builder.build(),
        request(
            origin="cusco",
            destination="puno",
            arrival="flight",
            days=3,
            interests={"hiking": 5},
        ),
    )
    listings = {
        (i, s["listing"])
        for i, d in enumerate(result.days)
        for s in d["steps"]
        if s["kind"] == "activity"
    }
    assert (1, 7) in listings  # the hike, on the second day
    assert all(day != 0 for day, _ in listings)


def test_altitude_rise_of_more_than_500_m_is_refused():
    builder = WorldBuilder(satellites={"copacabana": ("isla-del-sol-yumani",)})
    builder.daily("puno", "isla-del-sol-yumani", "07:30", 300, kasani_after=135)
    builder.daily("isla-del-sol-yumani", "copacabana", "10:30", 90)
    builder.stay(400, "isla-del-sol-yumani")
    builder.stay(200, "copacabana")
    builder.stay(100, "cusco")
    # Cusco (3,399 m) → Isla del Sol (4,000 m) in one night rises 601 m.
    builder.daily("cusco", "isla-del-sol-yumani", "06:00", 900, kasani_after=700)
    result = plan(
        builder.build(),
        request(origin="cusco", destination="copacabana", days=3),
    )
    assert result.status == "infeasible"
    assert "rises more than 500 m in one night" in english(result.explanation)
    # Through Puno (3,827 m, +428 m) the same trip works.
    builder.daily("cusco", "puno", "07:10", 600, mode="train")
    builder.stay(100, "puno")
    result = plan(
        builder.build(),
        request(origin="cusco", destination="copacabana", days=4),
    )
    assert result.status == "solved"
    nights = [d["night"]["place"] for d in result.days[:-1]]
    assert nights[0] == "puno"


def test_budget_infeasibility_names_the_cheapest_plan():
    builder = puno_copacabana()
    result = plan(
        builder.build(),
        request(days=2, budget=Budget(5000, "PEN")),  # 50 PEN for two people
    )
    assert result.status == "infeasible"
    # Cheapest: the bus (30 PEN for the party) + a night at 100 BOB (= 50 PEN here).
    text = english(result.explanation)
    # Known before any route is looked at: a lower bound, said as one.
    assert "costs at least 80.00 PEN, above your 50.00 PEN" in text


@pytest.mark.parametrize("amount", [8000, 8100, 9000])
def test_a_budget_at_or_just_above_the_cheapest_plan_is_solved(amount):
    """The quoted cheapest cost is a plan that exists: a budget of exactly that (or a
    little more) is planned within it. (The rides are counted once: they used to be
    charged against the engine's budget a second time, so such budgets failed with a
    misleading must-see message.)"""
    builder = puno_copacabana()
    builder.activity(1, "copacabana", "15:00", 60, price=50000, tags=("lake",))
    result = plan(
        builder.build(),
        request(interests={"lake": 5}, budget=Budget(amount, "PEN")),
    )
    assert result.status == "solved", english(result.explanation)
    assert float(result.totals["amount"]) * 100 <= amount
    assert not any(s["listing"] == 1 for d in result.days for s in d["steps"])


def test_budget_keeps_the_total_and_drops_what_does_not_fit():
    builder = puno_copacabana()
    builder.activity(1, "copacabana", "15:00", 60, price=50000, tags=("lake",))
    rich = plan(builder.build(), request(interests={"lake": 5}))
    poor = plan(
        builder.build(),
        request(interests={"lake": 5}, budget=Budget(20000, "PEN")),
    )
    assert any(s["listing"] == 1 for d in rich.days for s in d["steps"])
    assert poor.status == "solved"
    assert not any(s["listing"] == 1 for d in poor.days for s in d["steps"])
    assert float(poor.totals["amount"]) <= 200


@pytest.mark.parametrize("ticket", ["", "one-ticket"])
def test_sights_under_one_ticket_are_paid_once(ticket):
    """Two sights under one entrance ticket cost the ticket once: a budget that
    holds the cheapest plan and one ticket takes both (the second shows 0), while
    two separate fees leave room for one sight only. (Each 40 BOB fee is 20 PEN.)"""
    builder = puno_copacabana()
    req = request(interests={"culture": 5}, budget=Budget(8000 + 2000 + 500, "PEN"))
    for slug in ("co-a", "co-b"):
        builder.sight(
            slug,
            "copacabana",
            opens="08:00",
            closes="18:00",
            minutes=45,
            fee=2000,
            tags=("culture",),
            ticket=ticket,
        )
    world = builder.build()
    result = plan(world, req)
    assert result.status == "solved", english(result.explanation)
    assert validate_plan(world, req, result.days, result.totals, currency="PEN") == []
    sights = [s for d in result.days for s in d["steps"] if s["kind"] == "sight"]
    assert float(result.totals["amount"]) * 100 <= 10500
    if ticket:
        assert {s["sight"] for s in sights} == {"co-a", "co-b"}
        assert sorted(float(s["price"]["amount"]) for s in sights) == [0.0, 40.0]
    else:
        assert len(sights) == 1


def test_must_include_and_exclude():
    builder = puno_copacabana()
    builder.activity(1, "copacabana", "15:00", 60, tags=("lake",))
    builder.activity(2, "copacabana", "17:00", 60, tags=("farming",))
    result = plan(
        builder.build(),
        request(interests={"lake": 5, "farming": 0}, include=(2,), exclude=(1,)),
    )
    listings = [s["listing"] for d in result.days for s in d["steps"] if s["listing"]]
    assert 2 in listings
    assert 1 not in listings


def test_must_include_that_cannot_fit_is_explained():
    builder = puno_copacabana()
    # Offered only on a date outside the trip.
    builder.activity(9, "copacabana", "15:00", 60, days=[START + dt.timedelta(days=8)])
    result = plan(builder.build(), request(include=(9,)))
    assert result.status == "infeasible"
    # The exact cause, named before any search.
    text = english(result.explanation)
    assert "'Activity 9' in Copacabana is not offered between 2027-03-01" in text
    assert "and 2027-03-02" in text


def test_pace_caps_active_time():
    builder = puno_copacabana()
    for i, clock in enumerate(("08:00", "10:00", "12:00", "14:00", "16:00")):
        builder.activity(10 + i, "puno", clock, 110, tags=("culture",))
    relaxed = plan(
        builder.build(), request(days=2, pace="relaxed", interests={"culture": 5})
    )
    packed = plan(
        builder.build(), request(days=2, pace="packed", interests={"culture": 5})
    )

    def active(result):
        return max(
            sum(
                (
                    dt.datetime.fromisoformat(s["end"])
                    - dt.datetime.fromisoformat(s["start"])
                ).seconds
                // 60
                for s in d["steps"]
                if s["kind"] == "activity"
            )
            for d in result.days
        )

    assert active(relaxed) <= 300
    assert active(packed) > 300


def test_deterministic_for_a_seed():
    builder = puno_copacabana()
    for i in range(6):
        builder.activity(20 + i, "puno", f"{8 + 2 * i:02d}:00", 90, tags=("culture",))
        builder.activity(30 + i, "copacabana", f"{13 + i:02d}:00", 60)
    world = builder.build()
    req = request(days=3, interests={"culture": 4, "lake": 3}, seed=7)
    first, second = plan(world, req), plan(world, req)
    assert first.days == second.days
    assert first.totals == second.totals


def test_every_solved_plan_passes_both_validators():
    builder = puno_copacabana()
    for i in range(5):
        builder.activity(40 + i, "puno", f"{9 + 2 * i:02d}:00", 90)
    world = builder.build()
    req = request(days=3, interests={"lake": 5})
    planner = Planner(world, req, time_limit_s=5)
    search = planner.search()
    skeleton = next(iter(search.skeletons(lambda days, cost: True)))
    outcome = planner._solve_days(skeleton, 1.0, [])
    assert outcome is not None
    _, _, problem, solution = outcome
    assert validate_engine(problem, solution) == []
    result = planner.run()
    assert validate_plan(world, req, result.days, result.totals, currency="PEN") == []


def test_the_plan_validator_catches_a_broken_plan():
    world = puno_copacabana().build()
    req = request()
    result = plan(world, req)
    broken = [dict(day, steps=list(day["steps"])) for day in result.days]
    bus = dict(broken[0]["steps"][0])
    bus["start"] = "2027-03-01T08:30:00-05:00"  # not when the bus leaves
    broken[0]["steps"][0] = bus
    errors = validate_plan(world, req, broken, result.totals, currency="PEN")
    assert any("departure time" in e for e in errors)
    errors = validate_plan(world, req, result.days[:1], result.totals, currency="PEN")
    assert any("1 days for a 2-day trip" in e for e in errors)


def test_spanish_rendering():
    result = plan(puno_copacabana().build(), request())
    spanish = render_all(result.explanation)["es"]
    assert spanish and spanish[0].startswith("Noches:")


@pytest.mark.parametrize("direction", [("puno", "copacabana"), ("copacabana", "puno")])
def test_both_directions(direction):
    builder = WorldBuilder()
    builder.daily("puno", "copacabana", "07:30", 210, kasani_after=135)
    builder.daily("copacabana", "puno", "13:30", 210, kasani_after=15)
    builder.stay(100, "puno")
    builder.stay(200, "copacabana")
    origin, destination = direction
    result = plan(builder.build(), request(origin=origin, destination=destination))
    assert result.status == "solved"
    last = result.days[-1]["steps"] or result.days[0]["steps"]
    assert any(s.get("to") == destination for d in result.days for s in d["steps"])
    assert last is not None


def test_minute_helper_matches_zones():
    # 07:30 in Puno and 08:30 in Copacabana are the same instant.
    assert minute("puno", START, "07:30") == minute("copacabana", START, "08:30")


def test_a_search_is_freed_once_planned():
    """The search's memo tables die with it: a worker plans for days, and memoising
    on the class (functools.cache on a method) would keep every search alive."""
    builder = puno_copacabana()
    for i in range(3):
        builder.activity(50 + i, "puno", f"{9 + 2 * i:02d}:00", 90)
    world = builder.build()
    planner = Planner(world, request(days=3), time_limit_s=5)
    search = planner.search()
    assert list(search.skeletons(lambda days, cost: True))  # fills the memo tables
    freed = weakref.ref(search)
    del search
    gc.collect()
    assert freed() is None
