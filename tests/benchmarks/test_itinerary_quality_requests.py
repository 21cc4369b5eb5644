"""The benchmark's request generator: deterministic and covering what issue 11 asks
(both directions, 2–14 days, 1–6 adults, children, each pace, flight and overland,
budgets in each currency from tiny to none, every month and weekday, include /
exclude of listings and sights, ``via``)."""

from __future__ import annotations

import datetime as dt

from benchmarks import itinerary_quality as bench

TAGS = ["culture", "lake", "archaeology"]


def generate(**extra):
    options = {
        "count": 320,
        "seed": 0,
        "year": 2027,
        "latest": dt.date(2027, 12, 31),
        "listings": list(range(1, 21)),
        "sights": ["tiwanaku", "cerro-calvario"],
        "tags": TAGS,
    }
    options.update(extra)
    return bench.make_requests(**options)


def test_requests_are_deterministic_and_vary_with_the_seed() -> None:
    assert generate() == generate()
    assert generate(seed=1) != generate()


def test_requests_cover_the_issue_s_ranges() -> None:
    requests = generate()
    assert len(requests) >= 300
    pairs = {(r["origin"], r["destination"]) for r in requests}
    assert {("cusco", "la-paz"), ("la-paz", "cusco")} <= pairs
    assert len(pairs) > 6  # trips between other hubs too
    assert {r["days"] for r in requests} == set(range(2, 15))
    assert {r["adults"] for r in requests} == set(range(1, 7))
    assert any(r["children"] for r in requests)
    assert {r["pace"] for r in requests} == {"relaxed", "normal", "packed"}
    assert {r["arrival"] for r in requests} == {"overland", "flight"}
    assert {(r["budget"] or {}).get("currency") for r in requests} == {
        None,
        "PEN",
        "BOB",
        "USD",
    }
    assert {bench.budget_level(r) for r in requests} == {
        "none",
        *(level for level, _usd in bench.BUDGET_LEVELS),
    }
    dates = [dt.date.fromisoformat(r["start_date"]) for r in requests]
    assert {(d.month, d.weekday()) for d in dates} == {
        (m, w) for m in range(1, 13) for w in range(7)
    }
    assert all(d.year == 2027 for d in dates)
    assert {r.get("via") for r in requests} == {
        None,
        "copacabana",
        "desaguadero",
        "any",
    }
    listed = [x for r in requests for x in r.get("include", []) + r.get("exclude", [])]
    assert any(isinstance(x, int) for x in listed)
    assert any(isinstance(x, str) and x.startswith("sight:") for x in listed)
    for r in requests:
        assert not set(map(str, r.get("include", []))) & set(
            map(str, r.get("exclude", []))
        )


def test_dates_beyond_the_api_s_horizon_move_back_by_weeks() -> None:
    latest = dt.date(2027, 12, 2)
    for r in generate(latest=latest):
        start = dt.date.fromisoformat(r["start_date"])
        assert start <= latest


def test_without_a_sights_endpoint_no_sight_is_named() -> None:
    for r in generate(sights=[]):
        assert not any(
            isinstance(x, str) for x in r.get("include", []) + r.get("exclude", [])
        )
