"""Assertions on the plan JSON the API returns, shared by the plan tests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from catalogue.models import Place
from providers.models import Listing

KINDS = {"transport", "border", "activity", "sight", "stay", "free"}
OFFSET = {"PE": dt.timedelta(hours=-5), "BO": dt.timedelta(hours=-4)}
CURRENCIES = {"PEN", "BOB", "USD"}


def aware(value: str) -> dt.datetime:
    """An ISO 8601 date-time that must carry its UTC offset."""
    assert isinstance(value, str), value
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None, value
    return parsed


def countries() -> dict[str, str]:
    return dict(Place.objects.values_list("slug", "country__code"))


def start_place(step: dict[str, Any]) -> str:
    return step["from"]


def end_place(step: dict[str, Any]) -> str:
    return step["to"]


def check_money(value: Any) -> None:
    if value is None:
        return
    assert set(value) == {"amount", "currency"}, value
    assert value["currency"] in CURRENCIES, value
    assert Decimal(value["amount"]) >= 0, value


def all_steps(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for day in plan["days"] for step in day["steps"]]


def assert_plan_shape(plan: dict[str, Any], *, days: int, start_date: dt.date) -> None:
    """The documented shape of a solved plan, and the facts every plan must keep:
    one entry per calendar day, local times with the place's offset, steps in time
    order within a day, stays and experiences where their listings are."""
    assert {
        "id",
        "status",
        "request",
        "route",
        "days",
        "totals",
        "explanation",
        "warnings",
        "fixes",
    } <= set(plan)
    assert plan["status"] == "solved", plan.get("explanation")
    assert len(plan["days"]) == days
    zone_of = countries()
    places = {p.slug: p for p in Place.objects.all()}
    listings = {
        listing.pk: listing for listing in Listing.objects.select_related("place")
    }
    ids = [step["id"] for step in all_steps(plan)]
    assert len(ids) == len(set(ids)), "step ids repeat"
    for index, day in enumerate(plan["days"]):
        assert set(day) == {"date", "night", "steps"}, day.keys()
        date = dt.date.fromisoformat(day["date"])
        assert date == start_date + dt.timedelta(days=index)
        night = day["night"]
        if index == days - 1:
            assert night is None, night
        else:
            assert set(night) == {"place", "altitude_m", "stay"}, night
            if night["place"] is not None:
                assert night["altitude_m"] == places[night["place"]].altitude_m
            if night["stay"] and night["stay"].get("listing"):
                stay_listing = listings[night["stay"]["listing"]]
                assert stay_listing.kind == Listing.Kind.STAY
                assert stay_listing.place.slug == night["place"]
        previous_end = None
        for step in day["steps"]:
            assert {
                "id",
                "kind",
                "title",
                "start",
                "end",
                "from",
                "to",
                "listing",
                "departure",
            } <= set(step), step
            assert "price" in step, step
            assert step["kind"] in KINDS, step
            assert isinstance(step["title"], str) and step["title"], step
            start, end = aware(step["start"]), aware(step["end"])
            first, last = start_place(step), end_place(step)
            assert start.utcoffset() == OFFSET[zone_of[first]], (step, first)
            assert end.utcoffset() == OFFSET[zone_of[last]], (step, last)
            assert start <= end, step
            assert start.date() == date, (day["date"], step)
            if step["kind"] == "transport":
                assert step.get("mode"), step
                if step.get("transfer"):
                    check_money(step["price"])
                    assert step["price"] is not None, step
            if step["kind"] == "sight":
                assert step["listing"] is None and step["sight"], step
            if previous_end is not None:
                assert start >= previous_end, ("steps overlap or go back", step)
            previous_end = end
            check_money(step["price"])
            if step["kind"] in ("activity", "stay") and step["listing"]:
                listing = listings[step["listing"]]
                assert listing.place.slug == step["place"], step
                expected = "stay" if step["kind"] == "stay" else "activity"
                assert listing.kind in (expected, "guide"), step
    # Across days too: a path, each step where the last one ended, none overlapping.
    steps = all_steps(plan)
    assert steps[0]["from"] == plan["request"]["origin"], steps[0]
    assert steps[-1]["to"] == plan["request"]["destination"], steps[-1]
    for before, after in itertools.pairwise(steps):
        assert aware(before["end"]) <= aware(after["start"]), (before, after)
        assert before["to"] == after["from"], (before, after)
    assert isinstance(plan["totals"], dict)
    assert isinstance(plan["explanation"], list) and plan["explanation"]
    assert all(isinstance(s, str) and s for s in plan["explanation"])
    assert isinstance(plan["warnings"], list)
    assert all(isinstance(s, str) and s for s in plan["warnings"])
