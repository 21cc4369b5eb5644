"""The itinerary checker (benchmarks/quality) on hand-made plan JSONs.

A correct 5-day Cusco → Puno → Copacabana → Isla del Sol → La Paz plan, written by hand
in the API's plan format, has no defect; each defect class is found on a minimal bad
variant of it (or on a small hand-made plan), at the step or day it is about. No
database, no planner: the checker judges JSON only.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.quality import checker, facts
from benchmarks.quality.checker import check_plan, copacabana_status
from benchmarks.quality.show import plan_text

BOLIVIA = {
    "kasani-bo",
    "desaguadero-bo",
    "copacabana",
    "isla-del-sol-yumani",
    "isla-del-sol-challapampa",
    "san-pedro-de-tiquina",
    "san-pablo-de-tiquina",
    "la-paz",
    "tiwanaku",
}


def iso(local: str, place: str) -> str:
    """``YYYY-MM-DDTHH:MM`` local at ``place`` with its offset."""
    return f"{local}:00{'-04:00' if place in BOLIVIA else '-05:00'}"


def money(amount: float, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


def step(
    sid: str,
    kind: str,
    start: str,
    end: str,
    frm: str,
    to: str | None = None,
    *,
    title: str = "",
    price: dict | None = None,
    **extra: Any,
) -> dict[str, Any]:
    to = to or frm
    out: dict[str, Any] = {
        "id": sid,
        "kind": kind,
        "title": title or kind,
        "start": iso(start, frm),
        "end": iso(end, to),
        "from": frm,
        "to": to,
        "price": price,
    }
    if kind not in ("transport", "border"):
        out["place"] = frm
    out.update(extra)
    return out


def day(date: str, steps: list[dict], night: str | None, stay_price=None) -> dict:
    return {
        "date": date,
        "night": (
            {
                "place": night,
                "altitude_m": 3800,
                "stay": {"listing": 1, "title": "bed", "price": stay_price},
            }
            if night
            else None
        ),
        "steps": steps,
    }


REQUEST = {
    "origin": "cusco",
    "destination": "la-paz",
    "start_date": "2027-05-12",
    "days": 5,
    "adults": 2,
    "children": 0,
    "nationality": "GB",
    "arrival": "overland",
    "budget": None,
    "pace": "normal",
    "include": [],
    "exclude": [],
}


def good_plan() -> dict[str, Any]:
    """Cusco → Puno (1 night) → Copacabana via Kasani (1) → Isla del Sol, Yumani (1)
    → Copacabana → Tiquina → La Paz (1), a morning in La Paz. Wednesday 12 May 2027."""
    d1, d2, d3, d4, d5 = (f"2027-05-{n}" for n in (12, 13, 14, 15, 16))
    pen, bob = (lambda a: money(a, "PEN")), (lambda a: money(a, "BOB"))
    days = [
        day(
            d1,
            [
                step("1.1", "transport", f"{d1}T08:00", f"{d1}T15:00", "cusco", "puno",
                     title="Bus Cusco → Puno", price=pen(80), mode="bus",
                     ride=f"1@{d1}T08:00", departure=1),
                step("1.2", "free", f"{d1}T15:00", f"{d1}T16:00", "puno"),
                step("1.3", "sight", f"{d1}T16:00", f"{d1}T16:45", "puno",
                     title="Puno Cathedral", sight="puno-cathedral", price=pen(0),
                     listing=None),
                step("1.4", "stay", f"{d1}T17:00", f"{d2}T07:00", "puno",
                     price=pen(220), listing=16, estimated=False),
            ],
            "puno",
            pen(220),
        ),
        day(
            d2,
            [
                step("2.1", "transport", f"{d2}T07:30", f"{d2}T09:30", "puno",
                     "kasani-pe", title="Bus Puno → Copacabana", price=pen(60),
                     mode="bus", ride=f"16@{d2}T07:30", departure=16),
                step("2.2", "border", f"{d2}T09:30", f"{d2}T11:10", "kasani-pe",
                     "kasani-bo", title="Cross Kasani. Clocks move +1 h.",
                     crossing="kasani", clock_change_h=1, ride=f"16@{d2}T07:30"),
                step("2.3", "transport", f"{d2}T11:10", f"{d2}T11:40", "kasani-bo",
                     "copacabana", title="Bus Puno → Copacabana", mode="bus",
                     ride=f"16@{d2}T07:30", departure=16),
                step("2.4", "sight", f"{d2}T12:30", f"{d2}T13:30", "copacabana",
                     title="Basilica of Copacabana", sight="copacabana-basilica",
                     price=bob(0)),
                step("2.5", "free", f"{d2}T13:30", f"{d2}T16:00", "copacabana"),
                step("2.6", "sight", f"{d2}T16:00", f"{d2}T17:30", "copacabana",
                     title="Cerro Calvario", sight="cerro-calvario", price=bob(0)),
                step("2.7", "stay", f"{d2}T18:00", f"{d3}T07:30", "copacabana",
                     price=bob(200), listing=20, estimated=False),
            ],
            "copacabana",
            bob(200),
        ),
        day(
            d3,
            [
                step("3.1", "transport", f"{d3}T08:30", f"{d3}T10:00", "copacabana",
                     "isla-del-sol-yumani", title="Boat Copacabana → Isla del Sol",
                     price=bob(60), mode="boat", ride=f"40@{d3}T08:30"),
                step("3.2", "sight", f"{d3}T10:00", f"{d3}T10:45",
                     "isla-del-sol-yumani", title="Inca stairs",
                     sight="escalera-del-inca", price=bob(10)),
                step("3.3", "sight", f"{d3}T11:00", f"{d3}T12:30",
                     "isla-del-sol-yumani", title="Pilko Kaina", sight="pilko-kaina",
                     price=bob(0)),
                step("3.4", "free", f"{d3}T12:30", f"{d3}T17:00",
                     "isla-del-sol-yumani"),
                step("3.5", "stay", f"{d3}T17:00", f"{d4}T07:30",
                     "isla-del-sol-yumani", price=bob(150), listing=21,
                     estimated=False),
            ],
            "isla-del-sol-yumani",
            bob(150),
        ),
        day(
            d4,
            [
                step("4.1", "transport", f"{d4}T10:30", f"{d4}T12:00",
                     "isla-del-sol-yumani", "copacabana",
                     title="Boat Isla del Sol → Copacabana", price=bob(0),
                     mode="boat", ride=f"41@{d4}T10:30"),
                step("4.2", "free", f"{d4}T12:00", f"{d4}T13:30", "copacabana"),
                step("4.3", "transport", f"{d4}T13:30", f"{d4}T14:10", "copacabana",
                     "san-pedro-de-tiquina", title="Bus Copacabana → La Paz",
                     price=bob(50), mode="bus", ride=f"23@{d4}T13:30"),
                step("4.4", "border", f"{d4}T14:10", f"{d4}T14:40",
                     "san-pedro-de-tiquina", "san-pablo-de-tiquina",
                     title="Cross the Strait of Tiquina", crossing="tiquina",
                     clock_change_h=0, ride=f"23@{d4}T13:30"),
                step("4.5", "transport", f"{d4}T14:40", f"{d4}T17:30",
                     "san-pablo-de-tiquina", "la-paz", title="Bus Copacabana → La Paz",
                     mode="bus", ride=f"23@{d4}T13:30"),
                step("4.6", "free", f"{d4}T17:30", f"{d4}T19:00", "la-paz"),
                step("4.7", "stay", f"{d4}T19:00", f"{d5}T08:00", "la-paz",
                     price=bob(300), listing=18, estimated=False),
            ],
            "la-paz",
            bob(300),
        ),
        day(
            d5,
            [
                step("5.1", "sight", f"{d5}T09:00", f"{d5}T10:30", "la-paz",
                     title="Mi Teleférico red line", sight="teleferico",
                     price=bob(12)),
                step("5.2", "free", f"{d5}T10:30", f"{d5}T14:00", "la-paz"),
            ],
            None,
        ),
    ]  # fmt: skip
    return {
        "id": "hand-made",
        "status": "solved",
        "request": REQUEST,
        "route": {"via": "copacabana", "crossing": "kasani"},
        "days": days,
        "totals": {
            "currency": "PEN",
            "amount": "770.00",
            "by_currency": [money(782, "BOB"), money(360, "PEN")],
            "in": {"PEN": "770.00", "BOB": "1600.00", "USD": "230.00"},
            "persons": 2,
        },
        "explanation": ["Nights: Puno → Copacabana → Isla del Sol → La Paz."],
        "warnings": [],
    }


def find(plan: dict, sid: str) -> dict:
    return next(s for d in plan["days"] for s in d["steps"] if s["id"] == sid)


def drop(plan: dict, sid: str) -> None:
    for d in plan["days"]:
        d["steps"] = [s for s in d["steps"] if s["id"] != sid]


def classes(request: dict, plan: dict) -> dict[str, list[checker.Defect]]:
    out: dict[str, list[checker.Defect]] = {}
    for defect in check_plan(request, plan):
        out.setdefault(defect.key, []).append(defect)
    return out


# --- The good plan --------------------------------------------------------------------


def test_good_plan_has_no_defect() -> None:
    defects = check_plan(REQUEST, good_plan())
    assert defects == [], "\n".join(map(str, defects))
    assert copacabana_status(REQUEST, good_plan()) == "passed"


def test_only_solved_plans_are_judged() -> None:
    plan = good_plan()
    drop(plan, "4.1")
    plan["status"] = "infeasible"
    assert check_plan(REQUEST, plan) == []


def test_every_class_has_a_key_a_severity_and_a_definition() -> None:
    keys = [cls.key for cls in checker.DEFECT_CLASSES]
    assert len(keys) == len(set(keys))
    hard = {c.key for c in checker.DEFECT_CLASSES if c.severity == checker.HARD}
    assert hard == {
        "teleport",
        "overlap",
        "wrong_end",
        "border_hours",
        "offsets",
        "ride_too_fast",
        "altitude",
        "no_bed",
        "pace",
        "unpriced",
    }
    for cls in checker.DEFECT_CLASSES:
        assert cls.severity in (checker.HARD, checker.SOFT, checker.UNJUDGEABLE)
        assert cls.__doc__ and len(cls.__doc__) > 60, cls


# --- Each class on a minimal bad plan ------------------------------------------------

Mutation = Callable[[dict, dict], None]


def no_boat_back(request: dict, plan: dict) -> None:
    """The island has no boat back: the next day starts in Copacabana."""
    drop(plan, "4.1")


def night_elsewhere(request: dict, plan: dict) -> None:
    plan["days"][2]["night"]["place"] = "copacabana"


def day_trip_without_return(request: dict, plan: dict) -> None:
    """La Paz → Tiwanaku and then the evening in La Paz with no ride back."""
    d = "2027-05-15"
    plan["days"][3]["steps"][5:6] = [
        step("4.6", "transport", f"{d}T17:30", f"{d}T19:00", "la-paz", "tiwanaku",
             price=money(40, "BOB"), mode="minivan"),
    ]  # fmt: skip


def posts_of_two_crossings(request: dict, plan: dict) -> None:
    find(plan, "2.2")["to"] = "desaguadero-bo"
    find(plan, "2.3")["from"] = "desaguadero-bo"


def overlapping_steps(request: dict, plan: dict) -> None:
    find(plan, "1.2")["end"] = iso("2027-05-12T16:30", "puno")


def starts_elsewhere(request: dict, plan: dict) -> None:
    request["origin"] = "puno"


def ends_at_tiwanaku(request: dict, plan: dict) -> None:
    d = "2027-05-16"
    plan["days"][4]["steps"][1:] = [
        step("5.2", "transport", f"{d}T11:00", f"{d}T12:30", "la-paz", "tiwanaku",
             price=money(40, "BOB"), mode="minivan"),
        step("5.3", "sight", f"{d}T12:30", f"{d}T15:00", "tiwanaku",
             title="Tiwanaku", sight="tiwanaku", price=money(200, "BOB")),
    ]  # fmt: skip


def kasani_before_it_opens(request: dict, plan: dict) -> None:
    d1, d2 = "2027-05-12", "2027-05-13"
    find(plan, "1.4")["end"] = iso(f"{d2}T04:00", "puno")
    find(plan, "2.1").update(
        start=iso(f"{d2}T04:30", "puno"), end=iso(f"{d2}T06:30", "kasani-pe")
    )
    find(plan, "2.2").update(
        start=iso(f"{d2}T06:30", "kasani-pe"), end=iso(f"{d2}T07:40", "kasani-bo")
    )
    find(plan, "2.3").update(
        start=iso(f"{d2}T07:40", "kasani-bo"), end=iso(f"{d2}T08:40", "copacabana")
    )
    assert d1


def tiquina_at_night_by_road(request: dict, plan: dict) -> None:
    """One road ride Copacabana → La Paz leaving at 21:00: the strait at ~21:35."""
    d, e = "2027-05-15", "2027-05-16"
    plan["days"][3]["steps"][1:] = [
        step("4.2", "free", f"{d}T12:00", f"{d}T21:00", "copacabana"),
        step("4.3", "transport", f"{d}T21:00", f"{e}T01:00", "copacabana", "la-paz",
             price=money(50, "BOB"), mode="bus", ride=f"99@{d}T21:00"),
        step("4.7", "stay", f"{e}T01:00", f"{e}T08:00", "la-paz",
             price=money(300, "BOB"), listing=18),
    ]  # fmt: skip
    plan["totals"]["by_currency"] = [money(782, "BOB"), money(360, "PEN")]


def wrong_offset(request: dict, plan: dict) -> None:
    find(plan, "2.7")["start"] = "2027-05-13T18:00:00-05:00"  # Copacabana is UTC−4


def wrong_clock_change(request: dict, plan: dict) -> None:
    find(plan, "2.2")["clock_change_h"] = -1


def bus_too_fast(request: dict, plan: dict) -> None:
    find(plan, "1.1")["end"] = iso("2027-05-12T14:00", "puno")  # 6 h < 6.5 h


def border_chain_too_fast(request: dict, plan: dict) -> None:
    d = "2027-05-13"
    find(plan, "2.2")["end"] = iso(f"{d}T10:50", "kasani-bo")
    find(plan, "2.3").update(
        start=iso(f"{d}T10:50", "kasani-bo"), end=iso(f"{d}T11:10", "copacabana")
    )  # 07:30 PET → 11:10 BOT: 2 h 40 < 3 h


def estimated_transfer(request: dict, plan: dict) -> None:
    find(plan, "1.1").update(estimated=True, transfer=True, ride=None)


def flight_then_higher_night(request: dict, plan: dict) -> None:
    request["arrival"] = "flight"
    request["days"] = 5


def strenuous_after_flight(request: dict, plan: dict) -> None:
    request["arrival"] = "flight"
    find(plan, "1.3").update(kind="activity", title="Hike up Cerro Huajsapata")


def no_stay_for_the_night(request: dict, plan: dict) -> None:
    plan["days"][2]["night"]["stay"] = None
    drop(plan, "3.5")


def no_night_at_all(request: dict, plan: dict) -> None:
    plan["days"][2]["night"] = None


def sight_after_hours(request: dict, plan: dict) -> None:
    request["pace"] = "packed"
    find(plan, "2.6").update(
        start=iso("2027-05-13T22:00", "copacabana"),
        end=iso("2027-05-13T23:00", "copacabana"),
    )
    find(plan, "2.7")["start"] = iso("2027-05-13T23:00", "copacabana")


def over_the_relaxed_cap(request: dict, plan: dict) -> None:
    request["pace"] = "relaxed"
    find(plan, "2.1").update(
        start=iso("2027-05-13T08:00", "puno"), end=iso("2027-05-13T10:00", "kasani-pe")
    )
    find(plan, "2.2")["start"] = iso("2027-05-13T10:00", "kasani-pe")
    find(plan, "2.2")["end"] = iso("2027-05-13T11:30", "kasani-bo")
    find(plan, "2.3")["start"] = iso("2027-05-13T11:30", "kasani-bo")
    find(plan, "2.3")["end"] = iso("2027-05-13T12:00", "copacabana")
    find(plan, "3.3")["end"] = iso("2027-05-14T16:00", "isla-del-sol-yumani")
    find(plan, "3.4")["start"] = iso("2027-05-14T16:00", "isla-del-sol-yumani")


def relaxed_early_bus(request: dict, plan: dict) -> None:
    request["pace"] = "relaxed"


def ride_without_price(request: dict, plan: dict) -> None:
    find(plan, "1.1")["price"] = None


def free_boat_out(request: dict, plan: dict) -> None:
    find(plan, "3.1")["price"] = money(0, "BOB")
    plan["totals"]["by_currency"] = [money(722, "BOB"), money(360, "PEN")]


def via_desaguadero_without_reason(request: dict, plan: dict) -> None:
    d = "2027-05-13"
    find(plan, "2.1").update(to="cebaf-desaguadero", end=iso(f"{d}T09:45", "puno"))
    find(plan, "2.2").update(
        start=iso(f"{d}T09:45", "puno"),
        end=iso(f"{d}T11:00", "desaguadero-bo"),
        to="desaguadero-bo",
        crossing="cebaf",
    )
    find(plan, "2.2")["from"] = "cebaf-desaguadero"
    find(plan, "2.3").update(
        end=iso(f"{d}T14:00", "la-paz"),
        to="la-paz",
        start=iso(f"{d}T11:00", "desaguadero-bo"),
    )
    find(plan, "2.3")["from"] = "desaguadero-bo"
    plan["days"] = plan["days"][:2]
    plan["days"][1]["steps"] = plan["days"][1]["steps"][:3]
    plan["days"][1]["night"] = None
    plan["route"] = {"via": "copacabana", "crossing": "cebaf"}
    request["days"] = 2
    plan["totals"]["by_currency"] = [money(360, "PEN")]


def arrives_on_the_last_day(request: dict, plan: dict) -> None:
    """Day 4 ends in Copacabana; La Paz is reached on day 5 and the trip ends."""
    days = plan["days"]
    rides = [s for s in days[3]["steps"] if s["id"] in ("4.3", "4.4", "4.5")]
    days[3]["steps"] = [
        s for s in days[3]["steps"] if s["id"] in ("4.1", "4.2")
    ] + [
        step("4.8", "stay", "2027-05-15T18:00", "2027-05-16T08:00", "copacabana",
             price=money(300, "BOB"), listing=20),
    ]  # fmt: skip
    days[3]["night"]["place"] = "copacabana"
    for ride in rides:
        for key in ("start", "end"):
            ride[key] = ride[key].replace("2027-05-15", "2027-05-16")
    days[4]["steps"] = rides


def idle_day_in_la_paz(request: dict, plan: dict) -> None:
    request["days"] = 6
    d5, d6 = "2027-05-16", "2027-05-17"
    plan["days"][4] = day(
        d5,
        [
            step("5.1", "free", f"{d5}T08:00", f"{d5}T18:00", "la-paz"),
            step("5.2", "stay", f"{d5}T18:00", f"{d6}T08:00", "la-paz",
                 price=money(300, "BOB"), listing=18),
        ],
        "la-paz",
        money(300, "BOB"),
    )  # fmt: skip
    plan["days"].append(
        day(d6, [step("6.1", "sight", f"{d6}T09:00", f"{d6}T10:00", "la-paz",
                      title="Teleférico", price=money(12, "BOB"))], None)
    )  # fmt: skip
    plan["totals"]["by_currency"] = [money(1070, "BOB"), money(360, "PEN")]


def waiting_all_day_for_the_night_bus(request: dict, plan: dict) -> None:
    """A day in Puno with nothing until a 22:00 bus (to an overnight stay there)."""
    request["days"] = 6
    d5, d6 = "2027-05-16", "2027-05-17"
    plan["days"][4] = day(
        d5,
        [
            step("5.1", "free", f"{d5}T08:00", f"{d5}T21:30", "la-paz"),
            step("5.2", "transport", f"{d5}T22:00", f"{d6}T01:30", "la-paz",
                 "copacabana", price=money(60, "BOB"), mode="bus",
                 ride=f"50@{d5}T22:00"),
        ],
        None,
    )  # fmt: skip
    plan["days"].append(day(d6, [], None))


def repeat_island(request: dict, plan: dict) -> None:
    """Back to Yumani on day 5 for the afternoon."""
    d = "2027-05-16"
    plan["days"][4]["steps"] = [
        step("5.1", "transport", f"{d}T07:00", f"{d}T11:00", "la-paz", "copacabana",
             price=money(30, "BOB"), mode="bus", ride=f"24@{d}T08:00"),
        step("5.2", "transport", f"{d}T13:30", f"{d}T15:00", "copacabana",
             "isla-del-sol-yumani", price=money(60, "BOB"), mode="boat",
             ride=f"40@{d}T13:30"),
    ]  # fmt: skip


def sight_on_a_closed_day(request: dict, plan: dict) -> None:
    find(plan, "1.3").update(title="Museo Carlos Dreyer", sight="museo-dreyer")
    # Wednesday is open: move the day to a Sunday (2027-05-16) is not possible here,
    # so visit after closing time instead.
    find(plan, "1.3").update(
        start=iso("2027-05-12T19:40", "puno"), end=iso("2027-05-12T20:20", "puno")
    )
    find(plan, "1.2")["end"] = iso("2027-05-12T19:40", "puno")
    find(plan, "1.4")["start"] = iso("2027-05-12T20:30", "puno")


def over_budget(request: dict, plan: dict) -> None:
    request["budget"] = {"amount": "500.00", "currency": "PEN"}


def totals_do_not_add_up(request: dict, plan: dict) -> None:
    plan["totals"]["by_currency"] = [money(700, "BOB"), money(360, "PEN")]


def route_says_desaguadero(request: dict, plan: dict) -> None:
    plan["route"]["crossing"] = "desaguadero"


def north_without_warning(request: dict, plan: dict) -> None:
    d = "2027-05-14"
    find(plan, "3.4").update(
        kind="transport",
        title="Walk to Challapampa",
        to="isla-del-sol-challapampa",
        end=iso(f"{d}T15:00", "isla-del-sol-challapampa"),
        price=money(0, "BOB"),
        mode="walk",
    )
    find(plan, "3.4").pop("place")
    plan["days"][2]["steps"].append(
        step("3.6", "transport", f"{d}T15:00", f"{d}T17:00",
             "isla-del-sol-challapampa", "isla-del-sol-yumani", mode="walk",
             price=money(0, "BOB"))
    )  # fmt: skip
    plan["days"][2]["steps"].sort(key=lambda s: s["start"])


def island_walk_too_fast(request: dict, plan: dict) -> None:
    """Pilko Kaina as a walk that ends in Challapampa 90 min later (≥ 2 h on foot)."""
    find(plan, "3.3").update({"to": "isla-del-sol-challapampa"})
    find(plan, "3.3").pop("place")
    find(plan, "3.3")["end"] = iso("2027-05-14T12:30", "isla-del-sol-challapampa")
    find(plan, "3.4").update(
        {"from": "isla-del-sol-challapampa", "to": "isla-del-sol-challapampa",
         "place": "isla-del-sol-challapampa"}
    )  # fmt: skip


def walk_to_the_north_in_the_title(request: dict, plan: dict) -> None:
    """Before issue 11 a walk that ends in the north carries only its start place."""
    find(plan, "3.3")["title"] = "Guided walk Yumani – Challapampa"


def unknown_place(request: dict, plan: dict) -> None:
    find(plan, "2.5").update(
        {"from": "atlantis", "to": "atlantis", "place": "atlantis"}
    )


CASES: list[tuple[str, Mutation, str | None]] = [
    ("teleport", no_boat_back, "4.2"),
    ("teleport", night_elsewhere, None),
    ("teleport", day_trip_without_return, "4.7"),
    ("teleport", posts_of_two_crossings, "2.2"),
    ("overlap", overlapping_steps, "1.3"),
    ("wrong_end", starts_elsewhere, "1.1"),
    ("wrong_end", ends_at_tiwanaku, "5.3"),
    ("border_hours", kasani_before_it_opens, "2.2"),
    ("border_hours", tiquina_at_night_by_road, "4.3"),
    ("offsets", wrong_offset, "2.7"),
    ("offsets", wrong_clock_change, "2.2"),
    ("ride_too_fast", bus_too_fast, "1.1"),
    ("ride_too_fast", border_chain_too_fast, "2.1"),
    ("ride_too_fast", estimated_transfer, "1.1"),
    ("ride_too_fast", island_walk_too_fast, "3.3"),
    ("altitude", flight_then_higher_night, None),
    ("altitude", strenuous_after_flight, "1.3"),
    ("no_bed", no_stay_for_the_night, None),
    ("no_bed", no_night_at_all, None),
    ("pace", sight_after_hours, "2.6"),
    ("pace", over_the_relaxed_cap, None),
    ("early_boarding", relaxed_early_bus, "2.1"),
    ("unpriced", ride_without_price, "1.1"),
    ("unpriced", free_boat_out, "3.1"),
    ("copacabana_skipped", via_desaguadero_without_reason, None),
    ("no_time_in_destination", arrives_on_the_last_day, None),
    ("idle_day", idle_day_in_la_paz, None),
    ("idle_day", waiting_all_day_for_the_night_bus, None),
    ("repeat_visit", repeat_island, None),
    ("sight_closed", sight_on_a_closed_day, "1.3"),
    ("over_budget", over_budget, None),
    ("inconsistent", totals_do_not_add_up, None),
    ("inconsistent", route_says_desaguadero, None),
    ("volatile_access", north_without_warning, "3.4"),
    ("volatile_access", walk_to_the_north_in_the_title, "3.3"),
    ("unjudgeable", unknown_place, "2.5"),
]


@pytest.mark.parametrize(
    ("key", "mutate", "sid"), CASES, ids=[f"{k}-{m.__name__}" for k, m, _ in CASES]
)
def test_each_defect_class_is_found(key: str, mutate: Mutation, sid: str | None):
    request, plan = copy.deepcopy(REQUEST), good_plan()
    mutate(request, plan)
    found = classes(request, plan)
    assert key in found, "\n".join(str(d) for ds in found.values() for d in ds)
    if sid is not None:
        assert sid in {d.step for d in found[key]}, found[key]


def test_every_class_but_ping_pong_has_a_case() -> None:
    """Ping-pong needs a sequence of nights; it has its own tests below."""
    covered = {key for key, _m, _s in CASES} | {"ping_pong"}
    assert covered == {cls.key for cls in checker.DEFECT_CLASSES}


# --- Classes judged on the nights ----------------------------------------------------


def nights_plan(places: list[str | None], start="2027-06-01") -> dict[str, Any]:
    """A plan of ``len(places) + 1`` days that only sleeps at ``places``: each day a
    stay where the night is (so only the night-based checks have something to say)."""
    import datetime as dt

    first = dt.date.fromisoformat(start)
    days = []
    for i, where in enumerate([*places, None]):
        date = (first + dt.timedelta(days=i)).isoformat()
        after = (first + dt.timedelta(days=i + 1)).isoformat()
        steps = (
            [step(f"{i + 1}.1", "stay", f"{date}T18:00", f"{after}T08:00", where,
                  price=money(100, "PEN"))]
            if where
            else []
        )  # fmt: skip
        days.append(day(date, steps, where, money(100, "PEN")))
    return {"status": "solved", "days": days, "totals": {}, "explanation": []}


def test_ping_pong_around_puno() -> None:
    plan = nights_plan(["puno", "taquile", "puno", "uros", "puno"])
    request = {**REQUEST, "origin": "puno", "destination": "puno", "days": 6}
    found = classes(request, plan)
    assert "ping_pong" in found
    assert "3 separate stays" in found["ping_pong"][0].detail


def test_one_return_after_an_island_homestay_is_the_way_on() -> None:
    plan = nights_plan(["puno", "amantani", "puno", "copacabana"])
    assert "ping_pong" not in classes({**REQUEST, "days": 5}, plan)


def test_going_back_to_a_base_is_ping_pong() -> None:
    plan = nights_plan(["cusco", "puno", "cusco", "puno"])
    assert "ping_pong" in classes({**REQUEST, "days": 5}, plan)


def test_more_than_two_nights_on_one_island() -> None:
    plan = nights_plan(
        ["copacabana", "isla-del-sol-yumani", "isla-del-sol-challapampa",
         "isla-del-sol-yumani", "copacabana"]
    )  # fmt: skip
    found = classes({**REQUEST, "days": 6}, plan)
    assert any("3 nights on isla-del-sol" in d.detail for d in found["ping_pong"])


def test_sleeping_altitude_rising_too_fast() -> None:
    """Cusco (≤ 3,400 m) to Yumani (≥ 3,950 m) in one night: +550 m."""
    plan = nights_plan(["cusco", "isla-del-sol-yumani"])
    found = classes({**REQUEST, "days": 3}, plan)
    assert any("+550 m" in d.detail for d in found["altitude"])
    assert "altitude" not in classes(
        {**REQUEST, "days": 3}, nights_plan(["puno", "isla-del-sol-yumani"])
    )


# --- Exemptions and inference -------------------------------------------------------


def test_copacabana_skipped_is_exempt_by_via_or_an_explained_reason() -> None:
    request, plan = copy.deepcopy(REQUEST), good_plan()
    via_desaguadero_without_reason(request, plan)
    assert copacabana_status(request, plan) == "skipped"
    assert copacabana_status({**request, "via": "desaguadero"}, plan) == "n/a"
    plan["explanation"].append(
        "Copacabana could not be done: the Tiquina strait is closed by wind."
    )
    assert copacabana_status(request, plan) == "explained"
    assert "copacabana_skipped" not in classes(request, plan)


def test_a_travel_day_is_not_idle() -> None:
    """Day 2 of the good plan has only rides, free time and the stay as far as
    activities go once the sights are dropped: a travel day, not an idle one."""
    request, plan = copy.deepcopy(REQUEST), good_plan()
    for sid in ("2.4", "2.6"):
        drop(plan, sid)
    assert "idle_day" not in classes(request, plan)


def test_the_north_with_a_warning_is_fine() -> None:
    request, plan = copy.deepcopy(REQUEST), good_plan()
    walk_to_the_north_in_the_title(request, plan)
    plan["warnings"] = ["Access to the north (Challapampa) is volatile: confirm it."]
    assert "volatile_access" not in classes(request, plan)


def test_a_package_boat_leg_at_zero_is_priced() -> None:
    """Amantaní → Taquile → Puno inside the Amantaní boat's return ticket."""
    d1, d2 = "2027-06-01", "2027-06-02"
    plan = nights_plan(["amantani"])
    plan["days"][0]["steps"][:0] = [
        step("1.0", "transport", f"{d1}T08:00", f"{d1}T12:00", "puno", "amantani",
             price=money(60, "PEN"), mode="boat", ride=f"9@{d1}T08:00"),
    ]  # fmt: skip
    plan["days"][1]["steps"] = [
        step("2.1", "transport", f"{d2}T08:00", f"{d2}T09:00", "amantani", "taquile",
             price=money(0, "PEN"), mode="boat", ride=f"10@{d2}T08:00"),
        step("2.2", "transport", f"{d2}T14:00", f"{d2}T17:00", "taquile", "puno",
             price=money(0, "PEN"), mode="boat", ride=f"37@{d2}T14:00"),
    ]  # fmt: skip
    request = {**REQUEST, "origin": "puno", "destination": "puno", "days": 2}
    assert "unpriced" not in classes(request, plan)


def test_old_plans_without_from_to_on_still_steps_or_posts_are_inferred() -> None:
    """Before issue 11 activities and stays carry only ``place`` and border steps
    may lack their posts: the checker infers them and the good plan stays clean."""
    plan = good_plan()
    for d in plan["days"]:
        for s in d["steps"]:
            if s["kind"] not in ("transport", "border"):
                del s["from"], s["to"]
            if s["kind"] == "border":
                del s["from"], s["to"], s["crossing"]
            s.pop("mode", None)
    plan.pop("route")
    assert check_plan(REQUEST, plan) == []


def test_the_copacabana_to_puno_bus_with_posts_in_the_wrong_order() -> None:
    """The bug issue 11 reports: Copacabana → Kasani (Peru post) → Kasani (Bolivia
    post) → Puno, 'clocks move +1 h'."""
    d = "2027-06-17"
    plan = {
        "status": "solved",
        "days": [
            day(d, [
                step("1.1", "transport", f"{d}T13:30", f"{d}T12:45", "copacabana",
                     "kasani-pe", price=money(18, "PEN"), ride=f"18@{d}T13:30"),
                step("1.2", "border", f"{d}T12:45", f"{d}T14:45", "kasani-pe",
                     "kasani-bo", clock_change_h=1, ride=f"18@{d}T13:30",
                     title="Cross Kasani. Clocks move +1 h."),
                step("1.3", "transport", f"{d}T14:45", f"{d}T16:00", "kasani-bo",
                     "puno", ride=f"18@{d}T13:30"),
            ], None),
        ],
        "totals": {},
        "explanation": [],
    }  # fmt: skip
    request = {**REQUEST, "origin": "copacabana", "destination": "puno", "days": 1}
    found = classes(request, plan)
    assert any("changes country" in d.detail for d in found["teleport"])
    assert any("they move -1 h" in d.detail for d in found["offsets"])


def test_show_prints_the_plan_day_by_day_with_local_times() -> None:
    request, plan = copy.deepcopy(REQUEST), good_plan()
    bus_too_fast(request, plan)
    text = plan_text(request, plan, check_plan(request, plan))
    assert "Day 2 — Thu 2027-05-13 — night copacabana" in text
    assert "09:30 PET–11:10 BOT" in text
    assert "ride faster than the road (day 1, step 1.1)" in text


# --- Facts and independence ----------------------------------------------------------


def test_facts_refer_to_known_places() -> None:
    for leg in facts.LEGS:
        assert leg.a in facts.PLACES and leg.b in facts.PLACES, leg
        assert leg.minutes > 0 and leg.source, leg
    for crossing in facts.CROSSINGS.values():
        for post in crossing.posts:
            assert post.slug in facts.PLACES, post
    for sight in facts.SIGHTS:
        assert sight.place in facts.PLACES, sight
    for slugs in facts.SATELLITES.values():
        assert slugs <= set(facts.PLACES)
    countries = {facts.PLACES[s].country for s in BOLIVIA}
    assert countries == {facts.BO}


def test_the_checker_imports_no_project_code() -> None:
    package = Path(checker.__file__).parent
    banned = ("itineraries", "catalogue", "providers", "django", "rest_framework")
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for name in names:
                assert not name.startswith(banned), (module.name, name)


# --- Rides with stops, idle days with everything seen, walks from one's bed ----------


def test_a_ride_goes_on_after_a_sight_it_stops_at() -> None:
    """The Taquile boat stops at the Uros: Puno → Uros (priced), the Uros sight
    (a stop), Uros → Taquile (the same ride, no price of its own). Neither unpriced
    nor an early boarding to the Uros: it is one ride to Taquile."""
    d1 = "2027-06-01"
    plan = nights_plan(["taquile"])
    ride = f"7@{d1}T07:30"
    plan["days"][0]["steps"][:0] = [
        step("1.1", "transport", f"{d1}T07:30", f"{d1}T08:00", "puno", "uros",
             price=money(60, "PEN"), mode="boat", ride=ride),
        step("1.2", "sight", f"{d1}T08:00", f"{d1}T08:30", "uros",
             title="Uros floating islands", sight="pu-uros", stop=True),
        step("1.3", "transport", f"{d1}T08:30", f"{d1}T10:30", "uros", "taquile",
             mode="boat", ride=ride),
    ]  # fmt: skip
    request = {**REQUEST, "origin": "puno", "destination": "taquile", "days": 2}
    found = classes(request, plan)
    assert "unpriced" not in found
    # Without the stop mark the second leg is a ride of its own with no price.
    plan["days"][0]["steps"][1].pop("stop")
    assert "unpriced" in classes(request, plan)


def test_a_free_day_after_every_sight_there_is_rest_not_idle() -> None:
    """Two nights in Copacabana with a free middle day: idle while a sight there is
    unseen; rest once the plan visits every Copacabana sight on another day (or an
    experience says it visits them), or the traveller excluded what is left."""
    d1, d2, d3 = "2027-06-01", "2027-06-02", "2027-06-03"
    plan = nights_plan(["copacabana", "copacabana"])
    plan["days"][1]["steps"][:0] = [
        step("2.0", "free", f"{d2}T07:00", f"{d2}T18:00", "copacabana"),
    ]  # fmt: skip
    request = {**REQUEST, "origin": "copacabana", "destination": "copacabana",
               "days": 3}  # fmt: skip
    assert "idle_day" in classes(request, plan)
    plan["days"][0]["steps"][:0] = [
        step("1.0", "sight", f"{d1}T09:00", f"{d1}T09:45", "copacabana",
             title="Basilica", sight="co-basilica"),
        step("1.01", "activity", f"{d1}T10:00", f"{d1}T12:00", "copacabana",
             title="Walk with a guide", sights=[{"slug": "co-calvario",
                                                 "title": "Cerro Calvario"}]),
    ]  # fmt: skip
    plan["days"][2]["steps"] = [
        step("3.1", "sight", f"{d3}T09:00", f"{d3}T10:00", "copacabana",
             title="Horca del Inca", sight="co-horca"),
    ]  # fmt: skip
    assert "idle_day" not in classes(request, plan)
    drop(plan, "3.1")
    assert "idle_day" in classes(request, plan)
    request["exclude"] = ["sight:co-horca"]
    assert "idle_day" not in classes(request, plan)


def test_a_free_day_next_to_a_sight_one_cannot_want_or_pay_is_not_idle() -> None:
    """The free day in Copacabana with only Horca del Inca unseen (RF2 §1: Bs 10;
    archaeology, viewpoints, festivals): idle, unless the traveller rated all three
    0, or the plan leaves less of the budget than the fee for two."""
    d2 = "2027-06-02"
    plan = nights_plan(["copacabana", "copacabana"])
    plan["days"][1]["steps"][:0] = [
        step("2.0", "free", f"{d2}T07:00", f"{d2}T18:00", "copacabana"),
    ]  # fmt: skip
    request = {**REQUEST, "origin": "copacabana", "destination": "copacabana",
               "days": 3,
               "exclude": ["sight:co-basilica", "sight:co-calvario"]}  # fmt: skip
    assert "idle_day" in classes(request, plan)
    bored = {"archaeology": 0, "viewpoints": 0, "festivals": 0, "lake": 5}
    assert "idle_day" not in classes({**request, "interests": bored}, plan)
    assert "idle_day" in classes(
        {**request, "interests": {**bored, "festivals": 1}}, plan
    )
    plan["totals"] = {"amount": "990.00", "currency": "BOB",
                      "in": {"BOB": "990.00", "PEN": "495.00"}}  # fmt: skip
    tight = {**request, "budget": {"amount": "1000.00", "currency": "BOB"}}
    assert "idle_day" not in classes(tight, plan)  # Bs 10 left, Bs 20 for two
    # The same in soles: S/ 5 left of S/ 500; the fee for two is S/ 10.
    tight = {**request, "budget": {"amount": "500.00", "currency": "PEN"}}
    assert "idle_day" not in classes(tight, plan)
    roomy = {**request, "budget": {"amount": "1010.00", "currency": "BOB"}}
    assert "idle_day" in classes(roomy, plan)


def test_back_to_where_one_slept_is_not_a_repeat_visit() -> None:
    """A night in Yumani, then a walk to Pilko Kaina and back the next morning: one
    visit to Yumani. Going to Taquile on two days is two."""
    d1, d2 = "2027-06-01", "2027-06-02"
    plan = nights_plan(["isla-del-sol-yumani"])
    plan["days"][0]["steps"][:0] = [
        step("1.1", "transport", f"{d1}T08:30", f"{d1}T10:00", "copacabana",
             "isla-del-sol-yumani", price=money(40, "BOB"), mode="boat",
             ride=f"3@{d1}T08:30"),
    ]  # fmt: skip
    plan["days"][1]["steps"] = [
        step("2.1", "transport", f"{d2}T08:00", f"{d2}T08:30", "isla-del-sol-yumani",
             "pilko-kaina", price=money(0, "BOB"), mode="walk"),
        step("2.2", "sight", f"{d2}T08:30", f"{d2}T09:00", "pilko-kaina",
             title="Pilko Kaina", sight="is-pilkokaina"),
        step("2.3", "transport", f"{d2}T09:00", f"{d2}T09:30", "pilko-kaina",
             "isla-del-sol-yumani", price=money(0, "BOB"), mode="walk"),
    ]  # fmt: skip
    request = {**REQUEST, "origin": "copacabana", "destination": "isla-del-sol-yumani",
               "days": 2}  # fmt: skip
    found = classes(request, plan)
    assert "repeat_visit" not in found
    assert "unjudgeable" not in found  # Pilko Kaina is a place of the facts

    twice = nights_plan(["puno", "puno"])
    for index, date in ((0, d1), (1, d2)):
        twice["days"][index]["steps"][:0] = [
            step(f"{index + 1}.a", "transport", f"{date}T07:30", f"{date}T10:30",
                 "puno", "taquile", price=money(60, "PEN"), mode="boat",
                 ride=f"5@{date}T07:30"),
            step(f"{index + 1}.b", "transport", f"{date}T14:00", f"{date}T17:00",
                 "taquile", "puno", price=money(0, "PEN"), mode="boat",
                 ride=f"6@{date}T14:00"),
        ]  # fmt: skip
    request = {**REQUEST, "origin": "puno", "destination": "puno", "days": 3}
    assert "repeat_visit" in classes(request, twice)


def test_el_alto_on_two_days_of_a_la_paz_stay_is_going_about_the_city() -> None:
    d1, d2 = "2027-06-01", "2027-06-02"
    plan = nights_plan(["la-paz", "la-paz"])
    for index, date in ((0, d1), (1, d2)):
        plan["days"][index]["steps"][:0] = [
            step(f"{index + 1}.a", "transport", f"{date}T09:50", f"{date}T10:00",
                 "la-paz", "el-alto", price=money(3, "BOB"), mode="cable_car"),
            step(f"{index + 1}.b", "transport", f"{date}T13:50", f"{date}T14:00",
                 "el-alto", "la-paz", price=money(3, "BOB"), mode="cable_car"),
        ]  # fmt: skip
    request = {**REQUEST, "origin": "la-paz", "destination": "la-paz", "days": 3}
    assert "repeat_visit" not in classes(request, plan)
