"""A plan as a traveller reads it: day by day, local times with their zone, places,
prices, then the checker's defects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .checker import Defect

ZONES = {-5.0: "PET", -4.0: "BOT"}


def _clock(value: Any, day: str) -> str:
    if not isinstance(value, str):
        return "?"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.utcoffset()
    zone = ZONES.get(offset.total_seconds() / 3600, str(offset)) if offset else "?"
    text = f"{moment:%H:%M} {zone}"
    return text if moment.date().isoformat() == day else f"{moment:%a %d} {text}"


def _price(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('amount')} {value.get('currency')}"
    return "—" if value is None else str(value)


def _where(step: dict[str, Any]) -> str:
    frm = step.get("from") or step.get("place")
    to = step.get("to") or step.get("place")
    return str(frm) if frm == to else f"{frm} → {to}"


def request_line(request: dict[str, Any]) -> str:
    budget = request.get("budget")
    money = f"{budget['amount']} {budget['currency']}" if budget else "no budget"
    extras = []
    for key in ("include", "exclude"):
        if request.get(key):
            extras.append(f"{key} {request[key]}")
    extras.append(f"via {request['via']}" if "via" in request else "via (absent)")
    return (
        f"{request.get('origin')} → {request.get('destination')}, "
        f"{request.get('start_date')}, {request.get('days')} days, "
        f"{request.get('adults')} adults + {request.get('children', 0)} children, "
        f"{request.get('pace', 'normal')}, "
        f"arrival {request.get('arrival', 'overland')}, "
        f"{money}; " + "; ".join(extras)
    )


def plan_text(
    request: dict[str, Any], plan: dict[str, Any], defects: list[Defect]
) -> str:
    lines = [f"Request: {request_line(request)}", f"Status: {plan.get('status')}"]
    totals = plan.get("totals") or {}
    if totals:
        converted = ", ".join(f"{v} {k}" for k, v in (totals.get("in") or {}).items())
        lines.append(
            f"Total: {totals.get('amount')} {totals.get('currency')} ({converted}); "
            f"estimated part {_price(totals.get('estimated'))}"
        )
    for number, day in enumerate(plan.get("days") or [], start=1):
        date = str(day.get("date"))
        try:
            weekday = dt.date.fromisoformat(date).strftime("%a")
        except ValueError:
            weekday = "?"
        night = day.get("night") or {}
        if night:
            stay = night.get("stay") or {}
            sleep = (
                f"night {night.get('place')} ({night.get('altitude_m')} m): "
                f"{stay.get('title', 'no stay')} {_price(stay.get('price'))}"
            )
        else:
            sleep = "no night"
        lines.append(f"Day {number} — {weekday} {date} — {sleep}")
        for step in day.get("steps") or []:
            kind = step.get("kind")
            extra = ""
            if kind == "border":
                extra = (
                    f" clocks {step.get('clock_change_h'):+}"
                    if isinstance(step.get("clock_change_h"), (int, float))
                    else ""
                )
            if step.get("estimated"):
                extra += " [estimated]"
            lines.append(
                f"  {step.get('id'):>5} {_clock(step.get('start'), date)}–"
                f"{_clock(step.get('end'), date)}  {kind:<9} {_where(step):<40} "
                f"{step.get('title', '')}  [{_price(step.get('price'))}]{extra}"
            )
    for label in ("explanation", "warnings"):
        for line in plan.get(label) or []:
            lines.append(f"{label.title()}: {line}")
    if defects:
        lines.append(f"Defects ({len(defects)}):")
        lines.extend(f"  {defect}" for defect in defects)
    else:
        lines.append("Defects: none")
    return "\n".join(lines)
