"""The tighter bound the benchmarks report: still a bound of every plan the planner
can make, and tighter than the planner's own."""

from __future__ import annotations

import pytest

from itineraries.planning.planner import Planner

from .worlds import request, route_world


@pytest.fixture(scope="module")
def world():
    return route_world().build()


@pytest.mark.parametrize(
    "values",
    [
        {"days": 4, "adults": 2},
        {"days": 7, "adults": 2, "interests": {"archaeology": 5, "lake": 4}},
        {"days": 10, "adults": 1, "pace": "relaxed"},
        {"days": 6, "adults": 3, "origin": "la-paz", "destination": "cusco"},
    ],
)
def test_the_tight_bound_bounds_the_plan_and_is_tighter(world, values):
    values = {"origin": "cusco", "destination": "la-paz", **values}
    plain = Planner(world, request(**values), time_limit_s=10).run()
    tight = Planner(world, request(**values), time_limit_s=10, bound_seconds=5).run()
    assert plain.status == tight.status == "solved"
    assert tight.stats["objective"] == plain.stats["objective"]  # same plan
    # Never below a plan found with more search (the engine's best over more
    # skeletons cannot beat a valid bound either).
    more = Planner(world, request(**values), time_limit_s=20, max_skeletons=30).run()
    assert tight.stats["bound"] >= more.stats["objective"]
    assert tight.stats["bound"] >= tight.stats["objective"]
    assert tight.stats["bound"] < plain.stats["bound"]
    assert tight.stats["gap"] < plain.stats["gap"]


def test_the_tight_bound_with_listing_and_sight_keys_of_equal_worth():
    """Experiences (int keys) and sights ("sight:…" keys) of the same points and
    minutes at one place: the knapsack orders them without comparing keys."""
    builder = route_world()
    builder.activity(50, "copacabana", "09:00", 60, tags=("food",), price=0)
    builder.sight(
        "co-twin", "copacabana", opens="07:00", closes="19:00", minutes=60,
        tags=("viewpoints",),
    )  # fmt: skip
    world = builder.build()
    planner = Planner(
        world, request(days=5, adults=2), time_limit_s=10, bound_seconds=3
    )
    assert planner.item_values[50] == planner.item_values["sight:co-twin"] > 0
    result = planner.run()
    assert result.status == "solved"
    assert result.stats["bound"] >= result.stats["objective"]
