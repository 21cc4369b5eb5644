"""Plans on the seeded route (catalogue/data/route.yaml plus the demo providers),
for generated requests: whatever is asked, a solved plan is a continuous path from
the origin to the destination that the independent validator accepts, a Cusco → La
Paz trip long enough for it passes Copacabana, and no base is returned to again
and again (the first round's "three returns to Puno")."""

from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itineraries.planning.planner import Planner
from itineraries.planning.validate import validate_plan
from itineraries.planning.world import HUBS
from itineraries.selectors import world_load
from itineraries.services import plan_request_build

from .test_route_plans import all_steps, assert_path, nights

START = dt.date(2027, 5, 3)


def runs(places: list[str | None]) -> dict[str, int]:
    """How many separate stretches of nights each place has."""
    counts: dict[str, int] = {}
    previous = None
    for place in places:
        if place and place != previous:
            counts[place] = counts.get(place, 0) + 1
        previous = place
    return counts


def test_generated_requests_on_the_seeded_route_give_sound_plans(route):
    call_command("seed_demo", stdout=StringIO())

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        direction=st.sampled_from(
            [
                ("cusco", "la-paz"),
                ("la-paz", "cusco"),
                ("puno", "la-paz"),
                ("cusco", "puno"),
                ("copacabana", "la-paz"),
            ]
        ),
        days=st.integers(min_value=2, max_value=9),
        adults=st.integers(min_value=1, max_value=4),
        offset=st.integers(min_value=0, max_value=30),
        pace=st.sampled_from(["relaxed", "normal", "packed"]),
        arrival=st.sampled_from(["overland", "flight"]),
        interests=st.dictionaries(
            st.sampled_from(["weaving", "farming", "food", "hiking", "history"]),
            st.integers(min_value=1, max_value=5),
            max_size=3,
        ),
    )
    def check(direction, days, adults, offset, pace, arrival, interests):
        origin, destination = direction
        request = plan_request_build(
            {
                "origin": origin,
                "destination": destination,
                "start_date": START + dt.timedelta(days=offset),
                "days": days,
                "adults": adults,
                "pace": pace,
                "arrival": arrival,
                "interests": interests,
            }
        )
        world = world_load(request)
        result = Planner(world, request, time_limit_s=10).run(with_fixes=False)
        assert result.status in ("solved", "infeasible", "failed")
        if result.status != "solved":
            # Too short a trip for the distance is the only honest reason here.
            assert result.explanation
            return
        assert_path(result, origin, destination)
        assert (
            validate_plan(
                world,
                request,
                result.days,
                result.totals,
                currency=result.totals["currency"],
            )
            == []
        )
        for day in result.days[:-1]:
            night = (day["night"] or {}).get("place")
            if night and night not in HUBS:
                # A village, an island or a site to sleep in is reached in daylight.
                arrived = dt.datetime.fromisoformat(day["steps"][-1]["start"])
                assert arrived.time() <= dt.time(19), (night, day["steps"][-1])
        for place, count in runs(nights(result)).items():
            assert count <= 2, (place, nights(result))
        if (origin, destination) == ("cusco", "la-paz") and days >= 5:
            assert "copacabana" in {s["to"] for s in all_steps(result)}
        for step in all_steps(result):
            if step["kind"] == "border":
                local = dt.datetime.fromisoformat(step["start"])
                peru = (
                    local
                    if step["from"] == "kasani-pe"
                    else local - dt.timedelta(hours=1)
                )
                if step["crossing"] == "kasani":
                    assert dt.time(7) <= peru.time() <= dt.time(20), step

    check()
