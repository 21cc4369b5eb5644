"""The itinerary checker: judge a plan as a traveller reads it.

``check_plan(request, plan)`` takes the request as sent to ``POST /api/v1/plans/`` and
the plan JSON the API returns (``plan-contract.md``) and returns a list of
``Defect`` objects, one subclass per defect class, each ``hard`` (a plan that must not
be sold), ``soft`` (a plan an expert would rework) or ``unjudgeable`` (the JSON lacks
what the check needs). It knows nothing of the planner: the route facts it judges by are
transcribed in ``facts.py`` from the research briefs, and it imports no project code
(``ruff.toml`` next to this file refuses it).

Only ``status == "solved"`` plans are judged. Plans written before issue 11 lack some
fields: a step's ``from``/``to`` fall back to its ``place``; a border step's posts to
the neighbouring rides' ends; a ride's ``mode`` to the first word of its English title;
what still cannot be told is reported as ``unjudgeable``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from . import facts

HARD = "hard"
SOFT = "soft"
UNJUDGEABLE = "unjudgeable"


# --- Defect classes ------------------------------------------------------------------


@dataclass
class Defect:
    """One finding: its class (the subclass), the day (1-based) and step it is about,
    and a sentence saying what is wrong."""

    detail: str
    day: int | None = None
    step: str | None = None

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    severity: ClassVar[str] = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "class": self.key,
            "severity": self.severity,
            "day": self.day,
            "step": self.step,
            "detail": self.detail,
        }

    def __str__(self) -> str:
        where = f"day {self.day}" if self.day else "plan"
        if self.step:
            where += f", step {self.step}"
        return f"[{self.severity}] {self.label} ({where}): {self.detail}"


class Teleport(Defect):
    """A step starts somewhere other than where the traveller is: where the previous
    step ended, across days where the night was spent, or the night's place differs
    from where the day ended. Covers a day trip with no ride back, a boat taken from a
    place the traveller is not at, a step on an island with no boat to it, and a border
    step whose two posts are not the two sides of one crossing. Source: the plan is a
    path (issue 11 §1)."""

    key = "teleport"
    label = "teleport"
    severity = HARD


class Overlap(Defect):
    """Two consecutive steps overlap in time (UTC), or a step ends before it starts."""

    key = "overlap"
    label = "overlap"
    severity = HARD


class WrongEnd(Defect):
    """The trip does not start at the origin (or, after a flight, at the origin's
    airport: CUZ, JUL, LPB) or does not end at the destination (the last step's end
    place)."""

    key = "wrong_end"
    label = "wrong end place"
    severity = HARD


class BorderHours(Defect):
    """A border step outside either post's hours, each in its own local time: the
    traveller reaches the first post (step start) while it is open and leaves the
    second (step end) while it is open. Kasani 07:00–20:00 PET / 08:00–21:00 BOT
    (RF §0.2, §3.1; the Bolivian side mirrors Peru [UNVERIFIED]); CEBAF Desaguadero
    08:00–20:00 PET (juxtaposed: 09:00–21:00 BOT); the old-bridge post 24 h; Tiquina
    launches 05:00–21:00 BOT and no bridge (RF §0.3, §2.4), also for a road ride across
    the strait written without a crossing step (the strait is reached ≥ 35 min after
    Copacabana, ≥ 105 min after La Paz)."""

    key = "border_hours"
    label = "border hours"
    severity = HARD


class Offsets(Defect):
    """An ISO time whose UTC offset is not that of the place where the instant happens
    (Peru −05:00, Bolivia −04:00: RF §0.1), or a border step whose ``clock_change_h``
    (or the "+1 h" its text announces) is not +1 into Bolivia, −1 into Peru, 0 within
    one country."""

    key = "offsets"
    label = "offsets"
    severity = HARD


class RideTooFast(Defect):
    """A transport step, a chain of back-to-back rides and crossings, or an activity
    that ends elsewhere (a walk across Isla del Sol), shorter (in elapsed minutes)
    than the realistic minimum for its pair of places (``facts.LEGS``,
    from RF §2 and RF2 §2; pairs without a sourced leg by a crow-flight speed bound);
    also any transfer marked ``estimated: true`` (a straight-line guess, not a road)."""

    key = "ride_too_fast"
    label = "ride faster than the road"
    severity = HARD


class Altitude(Defect):
    """Sleeping altitude rising more than 500 m in a night above 3,000 m (judged with
    each place's altitude range: only a sure rise counts); after arriving by air, a
    night higher than the arrival city before two nights there; after arriving by air,
    a strenuous activity or sight on the first day. Source: RF §5 (WMS 2010/2019, CDC);
    efforts from RF2 §1."""

    key = "altitude"
    label = "altitude"
    severity = HARD


class NoBed(Defect):
    """A night (every day but the last) without a place and a bed: no night place and
    no overnight ride, or a night place without a stay (a listing or an estimate)."""

    key = "no_bed"
    label = "night without a bed"
    severity = HARD


class Pace(Defect):
    """An activity or sight outside the pace's hours in local time (relaxed
    08:00–20:30, normal 07:00–21:30, packed 05:30–22:30), or more active minutes in a
    local day (activities and sights; rides are not active) than the pace's cap of
    5 / 8 / 11 h."""

    key = "pace"
    label = "pace"
    severity = HARD


class Unpriced(Defect):
    """A transport step with no price (null) that is not a later part of a ride priced
    on its first part; or a price of 0.00 that is not a walk and not the return leg of a
    round-trip ticket (a timetabled ride back to a place an earlier priced ride left
    from)."""

    key = "unpriced"
    label = "unpriced transfer"
    severity = HARD


class PingPong(Defect):
    """Returning to sleep at a base already left: three separate stays at one place,
    or a second stay after nights elsewhere than its own excursions (Puno after
    Taquile or Amantaní is the normal way on; Puno → Taquile → Puno → Uros → Puno is
    not); or more than two nights on one island. Soft: the plan works, but an expert
    would replace it with Uros on the way to a homestay (issue 11 §5)."""

    key = "ping_pong"
    label = "ping-pong"
    severity = SOFT


class CopacabanaSkipped(Defect):
    """An overland trip between Cusco (or Puno) and La Paz that does not cross at
    Kasani and pass Copacabana, when ``via`` is "copacabana" or absent, and the
    explanation does not say why (a line naming Copacabana, Kasani or Tiquina with a
    reason word). The route the service is named for (issue 11 §2; RF §2.3–2.4)."""

    key = "copacabana_skipped"
    label = "Copacabana skipped"
    severity = SOFT


class NoTimeInDestination(Defect):
    """With days to spare (the trip has at least one day more than the fewest days the
    pair needs: ``facts.min_days``, +2 after a flight when a higher night is on the
    way) the traveller gets neither a night in the destination nor 4 waking hours
    (07:00–22:00) of steps there (free time, sights, activities, the stay)."""

    key = "no_time_in_destination"
    label = "no time in the destination"
    severity = SOFT


class IdleDay(Defect):
    """A day between the first and the last with no activity or sight and less than
    2 h of riding in its waking hours (07:00–22:00) — not a travel day — spent at a
    place where a public sight is open that weekday or has no known closing day
    (RF2 §1). A day waiting for an overnight bus counts; a day with a long ride does
    not (issue 11 §5 wants a lighter day after a long ride). The sight must be one
    the plan does not visit, the traveller did not exclude, did not rate 0 on every
    tag, and can afford: its RF2 fee for the party fits in what the plan leaves of
    the budget."""

    key = "idle_day"
    label = "idle day"
    severity = SOFT


class EarlyBoarding(Defect):
    """A relaxed traveller boards before 08:00 local when the same trip has a later
    option the same day: an on-demand transfer, or a timetabled service with a later
    departure in the route facts (``facts.LATER_OPTIONS``). Soft: the early one may be
    needed for what follows."""

    key = "early_boarding"
    label = "pace: relaxed early boarding"
    severity = SOFT


class RepeatVisit(Defect):
    """The traveller arrives at the same excursion place (not a hub, post or airport)
    on two different days, e.g. Taquile twice. Soft: legal, but a wasted day an expert
    would not sell (issue 11: "goes to Taquile twice")."""

    key = "repeat_visit"
    label = "repeat visit"
    severity = SOFT


class SightClosed(Defect):
    """A ``sight`` step outside the sight's opening days or hours (RF2 §1). Soft
    because most of those hours are [OLD] or [CONFLICT] in the sources; the wider
    window is used where they disagree."""

    key = "sight_closed"
    label = "sight closed"
    severity = SOFT


class OverBudget(Defect):
    """The plan's total in the budget's currency (``totals.in``) is above the
    traveller's budget. Soft here because the conversion rates are the service's
    own."""

    key = "over_budget"
    label = "over budget"
    severity = SOFT


class Inconsistent(Defect):
    """The plan contradicts itself or the request: not the requested number of
    consecutive days from the start date, a night on the last day, prices of the
    steps that are not estimates not adding up to ``totals.by_currency``, or
    ``route.crossing`` not the crossing its border steps use. Soft: the traveller
    can still follow it, but cannot trust it."""

    key = "inconsistent"
    label = "inconsistent"
    severity = SOFT


class VolatileAccess(Defect):
    """The plan goes to the north of Isla del Sol (a step at Challapampa, or one whose
    title names Challapampa or the Chincana) without a warning to confirm access
    locally: closed 2017–2019 and volatile since (RF §2.7;
    RF2 §0.3, §3.1)."""

    key = "volatile_access"
    label = "volatile access unflagged"
    severity = SOFT


class Unjudgeable(Defect):
    """Something the checks need is missing or unknown: a place slug not in the
    route facts, a time that is not ISO 8601 with an offset, a ride without from/to, a
    border step whose posts cannot be told. Neither hard nor soft: the plan may be
    fine, the checker cannot say."""

    key = "unjudgeable"
    label = "unjudgeable"
    severity = UNJUDGEABLE


DEFECT_CLASSES: tuple[type[Defect], ...] = (
    Teleport,
    Overlap,
    WrongEnd,
    BorderHours,
    Offsets,
    RideTooFast,
    Altitude,
    NoBed,
    Pace,
    Unpriced,
    PingPong,
    CopacabanaSkipped,
    NoTimeInDestination,
    IdleDay,
    EarlyBoarding,
    RepeatVisit,
    SightClosed,
    OverBudget,
    Inconsistent,
    VolatileAccess,
    Unjudgeable,
)


# --- The plan as a path --------------------------------------------------------------

MOVING = ("transport", "border")
STILL = ("activity", "sight", "stay", "free")
KINDS = MOVING + STILL

# First words of a ride's title (English, then Spanish) → mode, for plans without
# ``mode``. "Transfer" says nothing about the vehicle.
TITLE_MODES = (
    ("tourist bus", "tourist_bus"),
    ("bus turístico", "tourist_bus"),
    ("bus", "bus"),
    ("autobús", "bus"),
    ("boat", "boat"),
    ("launch", "boat"),
    ("barco", "boat"),
    ("lancha", "boat"),
    ("bote", "boat"),
    ("ferry", "ferry"),
    ("train", "train"),
    ("tren", "train"),
    ("minibus", "minivan"),
    ("minivan", "minivan"),
    ("colectivo", "colectivo"),
    ("combi", "combi"),
    ("taxi", "taxi"),
    ("walk", "walk"),
    ("caminata", "walk"),
    ("flight", "flight"),
    ("vuelo", "flight"),
    ("cable car", "cable_car"),
    ("teleférico", "cable_car"),
)


@dataclass
class Step:
    day: int  # 1-based day index
    date: str
    raw: dict[str, Any]
    sid: str
    kind: str
    start: dt.datetime | None
    end: dt.datetime | None
    frm: str | None
    to: str | None
    mode: str | None = None

    @property
    def timed(self) -> bool:
        return self.start is not None and self.end is not None

    @property
    def minutes(self) -> float:
        assert self.start is not None and self.end is not None
        return (self.end - self.start).total_seconds() / 60

    @property
    def ride(self) -> str | None:
        return self.raw.get("ride")

    @property
    def title(self) -> str:
        title = self.raw.get("title")
        return title if isinstance(title, str) else ""


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def _mode(raw: dict[str, Any]) -> str | None:
    mode = raw.get("mode")
    if isinstance(mode, str) and mode:
        return mode
    title = str(raw.get("title") or "").lower()
    for prefix, value in TITLE_MODES:
        if title.startswith(prefix):
            return value
    return None


def _hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _fmt(minutes: float) -> str:
    minutes = round(minutes)
    return f"{minutes // 60}:{minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _money(value: Any) -> tuple[Decimal, str] | None:
    if not isinstance(value, dict):
        return None
    try:
        return Decimal(str(value.get("amount"))), str(value.get("currency"))
    except (InvalidOperation, TypeError):
        return None


@dataclass
class Context:
    request: dict[str, Any]
    plan: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)
    crow_pairs: set[tuple[str, str]] = field(default_factory=set)

    @property
    def days(self) -> list[dict[str, Any]]:
        days = self.plan.get("days")
        return days if isinstance(days, list) else []

    @property
    def origin(self) -> str:
        return str(self.request.get("origin") or "")

    @property
    def destination(self) -> str:
        return str(self.request.get("destination") or "")

    @property
    def flight(self) -> bool:
        return self.request.get("arrival") == "flight"

    def add(
        self, cls: type[Defect], detail: str, step: Step | None = None, *, day=None
    ):
        self.defects.append(
            cls(
                detail,
                day=step.day if step is not None else day,
                step=step.sid if step is not None else None,
            )
        )

    def night_place(self, index: int) -> str | None:
        night = self.days[index].get("night")
        if isinstance(night, dict) and isinstance(night.get("place"), str):
            return night["place"]
        return None


def local(moment: dt.datetime, slug: str | None) -> dt.datetime:
    """The naive local wall-clock time of ``moment`` at ``slug`` (its own offset when
    the place is unknown)."""
    offset = facts.utc_offset_h(slug)
    if offset is None:
        return moment.replace(tzinfo=None)
    return (moment.astimezone(dt.UTC) + dt.timedelta(hours=offset)).replace(tzinfo=None)


def _minute_of_day(moment: dt.datetime) -> int:
    return moment.hour * 60 + moment.minute


def _build(ctx: Context) -> None:
    unknown: set[str] = set()
    for index, day in enumerate(ctx.days, start=1):
        steps = day.get("steps") if isinstance(day, dict) else None
        for raw in steps if isinstance(steps, list) else []:
            if not isinstance(raw, dict):
                continue
            kind = str(raw.get("kind") or "")
            sid = str(raw.get("id") or "?")
            start, end = _parse_time(raw.get("start")), _parse_time(raw.get("end"))
            if kind in MOVING:
                frm, to = raw.get("from"), raw.get("to")
            else:
                frm = raw.get("from") or raw.get("place")
                to = raw.get("to") or raw.get("place")
            step = Step(
                index, str(day.get("date")), raw, sid, kind, start, end, frm, to
            )
            if kind == "transport":
                step.mode = _mode(raw)
            ctx.steps.append(step)
            if kind not in KINDS:
                ctx.add(Unjudgeable, f"unknown step kind {kind!r}", step)
            if start is None or end is None:
                ctx.add(
                    Unjudgeable,
                    f"start/end not ISO 8601 with an offset: "
                    f"{raw.get('start')!r} / {raw.get('end')!r}",
                    step,
                )
            for slug in (frm, to):
                if (
                    isinstance(slug, str)
                    and facts.place(slug) is None
                    and slug not in unknown
                ):
                    unknown.add(slug)
                    ctx.add(Unjudgeable, f"place {slug!r} not in the route facts", step)
    # Border steps without their posts: the rides on either side tell them.
    for i, step in enumerate(ctx.steps):
        if step.kind == "border":
            if not step.frm and i > 0:
                step.frm = ctx.steps[i - 1].to
            if not step.to and i + 1 < len(ctx.steps):
                step.to = ctx.steps[i + 1].frm
        if step.kind in MOVING and (not step.frm or not step.to):
            ctx.add(Unjudgeable, "a ride or crossing without from/to", step)
        elif step.kind in STILL and (not step.frm or not step.to):
            ctx.add(Unjudgeable, f"a {step.kind} step without a place", step)


def _rides(ctx: Context) -> list[list[Step]]:
    """Consecutive transport/border steps grouped by ride (a timetabled ride is split
    into rides and a border step sharing its ``ride``, and around the sights it stops
    at: a ``sight`` step marked ``stop``); a transfer is its own group."""
    groups: list[list[Step]] = []
    joinable = False  # the last step was a moving one, or a stop inside a ride
    for step in ctx.steps:
        if step.kind not in MOVING:
            joinable = joinable and step.kind == "sight" and bool(step.raw.get("stop"))
            continue
        if joinable and groups and step.ride and groups[-1][-1].ride == step.ride:
            groups[-1].append(step)
        else:
            groups.append([step])
        joinable = True
    return groups


def _chains(ctx: Context) -> list[list[Step]]:
    """Maximal runs of consecutive transport/border steps, each starting within 30 min
    of the previous one's end: what the traveller sits through back to back."""
    chains: list[list[Step]] = []
    current: list[Step] = []
    for step in ctx.steps:
        if step.kind in MOVING and step.timed:
            if current and (step.start - current[-1].end) <= dt.timedelta(minutes=30):
                current.append(step)
                continue
            if current:
                chains.append(current)
            current = [step]
        else:
            if current:
                chains.append(current)
            current = []
    if current:
        chains.append(current)
    return chains


# --- The checks ----------------------------------------------------------------------


def _check_days(ctx: Context) -> None:
    wanted = ctx.request.get("days")
    if isinstance(wanted, int) and len(ctx.days) != wanted:
        ctx.add(Inconsistent, f"the plan has {len(ctx.days)} days, {wanted} were asked")
    try:
        first = dt.date.fromisoformat(str(ctx.request.get("start_date")))
    except ValueError:
        first = None
    for i, day in enumerate(ctx.days):
        if (
            first is not None
            and day.get("date") != (first + dt.timedelta(i)).isoformat()
        ):
            ctx.add(
                Inconsistent,
                f"day {i + 1} is dated {day.get('date')}, expected "
                f"{(first + dt.timedelta(i)).isoformat()}",
                day=i + 1,
            )
    if ctx.days and ctx.night_place(len(ctx.days) - 1):
        ctx.add(Inconsistent, "the last day has a night", day=len(ctx.days))


def _check_ends(ctx: Context) -> None:
    placed = [s for s in ctx.steps if s.frm and s.to]
    if not placed:
        ctx.add(WrongEnd, "the plan has no steps with places")
        return
    first, last = placed[0], placed[-1]
    allowed = {ctx.origin}
    if ctx.flight:
        allowed.update(facts.ARRIVAL_AIRPORTS.get(ctx.origin, ()))
    if first.frm not in allowed:
        ctx.add(WrongEnd, f"the trip starts at {first.frm}, not at {ctx.origin}", first)
    if last.to != ctx.destination:
        ctx.add(WrongEnd, f"the trip ends at {last.to}, not at {ctx.destination}", last)


def _check_path(ctx: Context) -> None:
    here: str | None = None
    by_day: dict[int, list[Step]] = {}
    for step in ctx.steps:
        by_day.setdefault(step.day, []).append(step)
    for index in range(len(ctx.days)):
        for step in by_day.get(index + 1, []):
            if step.frm and here and step.frm != here:
                ctx.add(
                    Teleport,
                    f"{step.kind} {step.title[:60]!r} starts at {step.frm}, but the "
                    f"traveller is at {here} (no way from {here} to {step.frm})",
                    step,
                )
            a, b = facts.place(step.frm), facts.place(step.to)
            if (
                step.kind == "transport"
                and step.mode != "flight"
                and a is not None
                and b is not None
                and a.country != b.country
            ):
                ctx.add(
                    Teleport,
                    f"a ride from {step.frm} ({a.country}) to {step.to} ({b.country}) "
                    "changes country without a border step",
                    step,
                )
            if (
                step.kind == "border"
                and facts.place(step.frm)
                and facts.place(step.to)
                and facts.crossing_of_posts(step.frm, step.to) is None
            ):
                ctx.add(
                    Teleport,
                    f"a border step from {step.frm} to {step.to}: not the two "
                    "sides of one crossing",
                    step,
                )
            if step.to:
                here = step.to
            elif step.frm:
                here = step.frm
        night = ctx.night_place(index)
        if night:
            if here and night != here:
                ctx.add(
                    Teleport,
                    f"the night is at {night}, but the day ends at {here}",
                    day=index + 1,
                )
            here = night


def _check_overlap(ctx: Context) -> None:
    previous: Step | None = None
    for step in ctx.steps:
        if not step.timed:
            continue
        if step.end < step.start:
            ctx.add(Overlap, f"ends {_fmt(-step.minutes)} before it starts", step)
        if previous is not None and step.start < previous.end:
            gap = (previous.end - step.start).total_seconds() / 60
            ctx.add(
                Overlap,
                f"starts {_fmt(gap)} before step {previous.sid} ({previous.kind}) ends",
                step,
            )
        previous = step


_CLOCK_TEXT = re.compile(r"([+\-−–])\s?(\d)\s?h\b")


def _check_offsets(ctx: Context) -> None:
    for step in ctx.steps:
        for moment, slug, which in (
            (step.start, step.frm, "start"),
            (step.end, step.to, "end"),
        ):
            expected = facts.utc_offset_h(slug)
            if moment is None or expected is None:
                continue
            actual = moment.utcoffset().total_seconds() / 3600
            if actual != expected:
                ctx.add(
                    Offsets,
                    f"{which} {step.raw.get(which)} carries UTC{actual:+g}, but {slug} "
                    f"keeps UTC{expected:+d}",
                    step,
                )
    _check_clock_direction(ctx)
    for step in ctx.steps:
        if step.kind != "border":
            continue
        a, b = facts.utc_offset_h(step.frm), facts.utc_offset_h(step.to)
        if a is None or b is None:
            continue
        expected = b - a
        actual = step.raw.get("clock_change_h")
        if actual is None:
            ctx.add(Unjudgeable, "a border step without clock_change_h", step)
        elif actual != expected:
            ctx.add(
                Offsets,
                f"clock_change_h {actual:+g} from {step.frm} to {step.to}; it is "
                f"{expected:+d}",
                step,
            )
        said = _CLOCK_TEXT.search(step.title)
        if said:
            sign = 1 if said.group(1) == "+" else -1
            if sign * int(said.group(2)) != expected:
                ctx.add(
                    Offsets,
                    f"the step says clocks move {said.group(0)} from {step.frm} to "
                    f"{step.to}; they move {expected:+d} h",
                    step,
                )


def _check_clock_direction(ctx: Context) -> None:
    """A ride through a border moves the clocks by the change from where it left to
    where it arrives, whatever posts its border step names."""
    for group in _rides(ctx):
        borders = [s for s in group if s.kind == "border"]
        first, last = group[0], group[-1]
        a, b = facts.utc_offset_h(first.frm), facts.utc_offset_h(last.to)
        if not borders or a is None or b is None:
            continue
        said = sum(
            s.raw.get("clock_change_h") or 0
            for s in borders
            if isinstance(s.raw.get("clock_change_h"), (int, float))
        )
        if said != b - a:
            ctx.add(
                Offsets,
                f"the ride {first.frm} → {last.to} moves clocks {said:+g} h at "
                f"{borders[0].frm} → {borders[0].to}; from UTC{a:+d} to UTC{b:+d} "
                f"they move {b - a:+d} h",
                borders[0],
            )


def _open_at(post: facts.Post, minute: int, *, leaving: bool) -> bool:
    if post.opens is None or post.closes is None:
        return True
    opens, closes = _hm(post.opens), _hm(post.closes)
    if leaving:  # reached at ``minute``: must be open then
        return opens <= minute < closes
    return opens < minute <= closes  # left at ``minute``


def _check_border_hours(ctx: Context) -> None:
    for step in ctx.steps:
        if step.kind == "border" and step.timed:
            crossing = facts.CROSSINGS.get(
                str(step.raw.get("crossing") or "")
            ) or facts.crossing_of_posts(step.frm, step.to)
            if crossing is None:
                if (
                    step.frm
                    and step.to
                    and facts.place(step.frm)
                    and facts.place(step.to)
                ):
                    continue  # reported as a teleport
                ctx.add(Unjudgeable, "a border step whose crossing is unknown", step)
                continue
            first, second = crossing.post(step.frm or ""), crossing.post(step.to or "")
            if first is None or second is None:
                ctx.add(
                    Unjudgeable,
                    f"{crossing.name}: posts {step.frm} / {step.to} unknown",
                    step,
                )
                continue
            reached = local(step.start, first.slug)
            left = local(step.end, second.slug)
            if not _open_at(first, _minute_of_day(reached), leaving=True):
                ctx.add(
                    BorderHours,
                    f"reaches {first.slug} at {reached:%H:%M} "
                    f"{facts.ZONE_NAME[facts.place(first.slug).country]}; open "
                    f"{first.opens}–{first.closes} ({first.source})",
                    step,
                )
            if not _open_at(second, _minute_of_day(left), leaving=False):
                ctx.add(
                    BorderHours,
                    f"leaves {second.slug} at {left:%H:%M} "
                    f"{facts.ZONE_NAME[facts.place(second.slug).country]}; open "
                    f"{second.opens}–{second.closes} ({second.source})",
                    step,
                )
        elif step.kind == "transport" and step.timed:
            _check_tiquina_by_road(ctx, step)


def _check_tiquina_by_road(ctx: Context, step: Step) -> None:
    """A road ride from one side of the strait to the other with no crossing step."""
    west, east = facts.TIQUINA_WEST, facts.TIQUINA_EAST
    if step.frm in west and step.to in east:
        before, after = west[step.frm], east[step.to]
    elif step.frm in east and step.to in west:
        before, after = east[step.frm], west[step.to]
    else:
        return
    earliest = step.start + dt.timedelta(minutes=before)
    latest = step.end - dt.timedelta(minutes=after)
    if latest < earliest:  # too short to say when: judged by the ride minimum
        earliest, latest = step.start, step.end
    strait = facts.CROSSINGS["tiquina"].posts[0]
    opens, closes = _hm(strait.opens), _hm(strait.closes)
    t0, t1 = (
        local(earliest, "san-pedro-de-tiquina"),
        local(latest, "san-pedro-de-tiquina"),
    )
    day = t0.date()
    while day <= t1.date():
        window_start = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=opens)
        window_end = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=closes)
        if max(t0, window_start) <= min(t1, window_end):
            return
        day += dt.timedelta(days=1)
    ctx.add(
        BorderHours,
        f"crosses the Tiquina strait between {t0:%H:%M} and {t1:%H:%M} Bolivia time; "
        f"launches run {strait.opens}–{strait.closes} and there is no bridge "
        f"({strait.source})",
        step,
    )


def _check_rides(ctx: Context) -> None:
    flagged: set[str] = set()
    for step in ctx.steps:
        if step.kind != "transport":
            continue
        minimum = None
        if step.timed and step.frm and step.to:
            minimum = facts.ride_minimum(step.frm, step.to, step.mode)
            if minimum is not None and not minimum.known:
                ctx.crow_pairs.add((step.frm, step.to))
        too_fast = minimum is not None and step.minutes < minimum.minutes
        road = (
            f"the road takes at least {_fmt(minimum.minutes)} ({minimum.source})"
            if minimum is not None
            else "no known road time"
        )
        if step.raw.get("estimated") is True:
            flagged.add(step.sid)
            took = _fmt(step.minutes) if step.timed else "?"
            ctx.add(
                RideTooFast,
                f"{step.frm} → {step.to}: an estimated transfer of {took}, not a "
                f"known road time; {road}",
                step,
            )
        elif too_fast:
            flagged.add(step.sid)
            ctx.add(
                RideTooFast,
                f"{step.frm} → {step.to}{f' by {step.mode}' if step.mode else ''} in "
                f"{_fmt(step.minutes)}; {road}",
                step,
            )
    for step in ctx.steps:  # an activity that ends elsewhere (a walk across)
        if step.kind not in ("activity", "sight") or step.frm == step.to:
            continue
        if not (step.timed and step.frm and step.to):
            continue
        walk = "walk" in facts.LEGS_BY_PAIR.get((step.frm, step.to), {})
        minimum = facts.ride_minimum(step.frm, step.to, "walk" if walk else None)
        if minimum is not None and step.minutes < minimum.minutes:
            ctx.add(
                RideTooFast,
                f"{step.title[:50]!r} goes {step.frm} → {step.to} in "
                f"{_fmt(step.minutes)}; at least {_fmt(minimum.minutes)} "
                f"({minimum.source})",
                step,
            )
    for chain in _chains(ctx):
        if len(chain) < 2 or any(step.sid in flagged for step in chain):
            continue
        a, b = chain[0].frm, chain[-1].to
        if not a or not b:
            continue
        pair = facts.ride_minimum(a, b)
        needed, source = (pair.minutes, pair.source) if pair and pair.known else (0, "")
        summed = 0
        for step in chain:
            if step.kind == "transport" and step.frm and step.to:
                part = facts.ride_minimum(step.frm, step.to, step.mode)
                summed += part.minutes if part else 0
        if summed > needed:
            needed, source = summed, "the sum of its rides' minima"
        elapsed = (chain[-1].end - chain[0].start).total_seconds() / 60
        if elapsed < needed:
            ctx.add(
                RideTooFast,
                f"{a} → {b} ({len(chain)} steps) in {_fmt(elapsed)}; at least "
                f"{_fmt(needed)} ({source})",
                chain[0],
            )


def _night_places(ctx: Context) -> list[tuple[int, str | None]]:
    """(day index, night place) for every day but the last."""
    return [(i, ctx.night_place(i)) for i in range(max(len(ctx.days) - 1, 0))]


def _strenuous(step: Step) -> bool:
    sight = facts.sight_match(str(step.raw.get("sight") or ""), step.title, step.frm)
    if step.kind == "sight" and sight is not None:
        return sight.strenuous
    title = step.title.lower()
    return any(word in title for word in facts.STRENUOUS_WORDS)


def _check_altitude(ctx: Context) -> None:
    known = [(i, facts.place(p)) for i, p in _night_places(ctx) if facts.place(p)]
    for (i, prev), (j, nxt) in itertools.pairwise(known):
        rise = nxt.alt_lo - prev.alt_hi
        allowed = facts.MAX_RISE_M * (j - i)
        if nxt.alt_lo > facts.ALTITUDE_FLOOR_M and rise > allowed:
            ctx.add(
                Altitude,
                f"sleeps at {nxt.slug} ({nxt.alt_lo}–{nxt.alt_hi} m) after "
                f"{prev.slug} ({prev.alt_lo}–{prev.alt_hi} m): +{rise} m in "
                f"{j - i} night(s), over {facts.MAX_RISE_M} m a night (RF §5)",
                day=j + 1,
            )
    if not ctx.flight:
        return
    arrival = facts.place(ctx.origin)
    if arrival is not None:
        for i, slug in _night_places(ctx)[: facts.NIGHTS_BEFORE_HIGHER_AFTER_FLIGHT]:
            night = facts.place(slug)
            if night is not None and night.alt_lo > arrival.alt_hi:
                ctx.add(
                    Altitude,
                    f"night {i + 1} at {night.slug} ({night.alt_lo} m) is higher than "
                    f"{arrival.slug} ({arrival.alt_hi} m) after flying in: two nights "
                    "there first (RF §5)",
                    day=i + 1,
                )
    for step in ctx.steps:
        if step.day == 1 and step.kind in ("activity", "sight") and _strenuous(step):
            ctx.add(
                Altitude,
                f"strenuous {step.title[:60]!r} on the day of flying in (RF §5: no "
                "heavy exercise at first)",
                step,
            )


def _check_beds(ctx: Context) -> None:
    for i, slug in _night_places(ctx):
        day_steps = [s for s in ctx.steps if s.day == i + 1]
        night = ctx.days[i].get("night")
        if slug is None:
            overnight = any(
                s.kind in MOVING
                and s.timed
                and local(s.end, s.to).date() > local(s.start, s.frm).date()
                for s in day_steps
            )
            if not overnight:
                ctx.add(NoBed, "no night place and no overnight ride", day=i + 1)
            continue
        stay = night.get("stay") if isinstance(night, dict) else None
        if not stay and not any(s.kind == "stay" for s in day_steps):
            ctx.add(NoBed, f"the night at {slug} has no stay", day=i + 1)


def _active_minutes(step: Step) -> dict[dt.date, float]:
    start, end = local(step.start, step.frm), local(step.end, step.to)
    out: dict[dt.date, float] = {}
    while start < end:
        midnight = dt.datetime.combine(start.date() + dt.timedelta(1), dt.time())
        part_end = min(end, midnight)
        out[start.date()] = out.get(start.date(), 0) + (part_end - start).seconds / 60
        start = part_end
    return out


def _check_pace(ctx: Context) -> None:
    pace = str(ctx.request.get("pace") or "normal")
    rule = facts.PACES.get(pace, facts.PACES["normal"])
    opens, closes = _hm(rule.opens), _hm(rule.closes)
    active: dict[dt.date, float] = {}
    day_of: dict[dt.date, int] = {}
    for step in ctx.steps:
        if step.kind not in ("activity", "sight") or not step.timed:
            continue
        start, end = local(step.start, step.frm), local(step.end, step.to)
        late = end.date() > start.date() or _minute_of_day(end) > closes
        if _minute_of_day(start) < opens or late:
            ctx.add(
                Pace,
                f"{step.title[:50]!r} {start:%H:%M}–{end:%H:%M} local is outside the "
                f"{pace} pace's {rule.opens}–{rule.closes}",
                step,
            )
        for date, minutes in _active_minutes(step).items():
            active[date] = active.get(date, 0) + minutes
            day_of.setdefault(date, step.day)
    for date, minutes in sorted(active.items()):
        if minutes > rule.cap_minutes:
            ctx.add(
                Pace,
                f"{_fmt(minutes)} of activities and sights on {date}; the {pace} pace "
                f"allows {_fmt(rule.cap_minutes)}",
                day=day_of[date],
            )


def _check_early_boarding(ctx: Context) -> None:
    if ctx.request.get("pace") != "relaxed":
        return
    earliest = _hm(facts.RELAXED_EARLIEST_BOARDING)
    for group in _rides(ctx):
        first = group[0]
        if first.kind != "transport" or not first.timed or not first.frm:
            continue
        boarding = local(first.start, first.frm)
        if _minute_of_day(boarding) >= earliest:
            continue
        last = group[-1]
        if first.ride is None or first.raw.get("transfer"):
            reason = "an on-demand transfer can leave later"
        else:
            option = facts.later_option(first.frm, last.to or "", first.mode)
            if option is None or not option.exists:
                continue
            reason = f"a later departure exists ({option.source})"
        ctx.add(
            EarlyBoarding,
            f"boards {first.frm} → {last.to} at {boarding:%H:%M}; {reason}",
            first,
        )


def _check_unpriced(ctx: Context) -> None:
    priced_from: list[str] = []  # places earlier priced rides left from
    priced_pairs: set[tuple[str, str]] = set()
    for group in _rides(ctx):
        rides = [s for s in group if s.kind == "transport"]
        if not rides:
            continue
        first, last = rides[0], rides[-1]
        prices = [_money(s.raw.get("price")) for s in rides]
        total = sum((p[0] for p in prices if p), Decimal(0))
        if all(p is None for p in prices):
            ctx.add(Unpriced, f"{first.frm} → {last.to} has no price", first)
        elif total == 0 and not all(s.mode == "walk" for s in rides):
            package = any(
                (first.frm, last.to) in facts.PACKAGE_LEGS.get(pair, ())
                for pair in priced_pairs
            )
            round_trip = first.ride is not None and (last.to in priced_from or package)
            if not round_trip:
                ctx.add(
                    Unpriced,
                    f"{first.frm} → {last.to} costs 0.00 and is not the return leg of "
                    "a priced round trip",
                    first,
                )
        if total > 0 and first.frm and last.to:
            priced_from.append(first.frm)
            priced_pairs.add((first.frm, last.to))


def _check_ping_pong(ctx: Context) -> None:
    runs: list[tuple[str, int]] = []  # (place, first day index) per run of nights
    for i, slug in _night_places(ctx):
        if slug and (not runs or runs[-1][0] != slug):
            runs.append((slug, i))
    seen: dict[str, list[int]] = {}
    for position, (slug, _i) in enumerate(runs):
        seen.setdefault(slug, []).append(position)
    for slug, positions in seen.items():
        if len(positions) >= 3:
            ctx.add(
                PingPong,
                f"sleeps at {slug} in {len(positions)} separate stays: "
                + " → ".join(p for p, _ in runs),
                day=runs[positions[2]][1] + 1,
            )
            continue
        if len(positions) == 2:
            between = [p for p, _ in runs[positions[0] + 1 : positions[1]]]
            if not all(p in facts.SATELLITES.get(slug, ()) for p in between):
                ctx.add(
                    PingPong,
                    f"returns to sleep at {slug} after {', '.join(between)}: "
                    + " → ".join(p for p, _ in runs),
                    day=runs[positions[1]][1] + 1,
                )
    nights: dict[str, int] = {}
    for _i, slug in _night_places(ctx):
        island = facts.ISLAND_OF.get(slug or "")
        if island:
            nights[island] = nights.get(island, 0) + 1
    for island, count in nights.items():
        if count > 2:
            ctx.add(
                PingPong, f"{count} nights on {island} (more than two on an island)"
            )


REASON_WORDS = (
    "because",
    "cannot",
    "can't",
    "could not",
    "couldn't",
    "not possible",
    "closed",
    "too few",
    "not enough",
    "no departure",
    "nothing leaves",
    "instead",
    "unavailable",
    "porque",
    "no se puede",
    "cerrad",
    "en su lugar",
)


def copacabana_status(request: dict[str, Any], plan: dict[str, Any]) -> str:
    """For the Copacabana share: ``"n/a"`` (not an overland Cusco/Puno ↔ La Paz trip,
    ``via`` says otherwise, or not solved), ``"passed"`` (crosses at Kasani and
    passes Copacabana), ``"explained"`` (skipped, the explanation says why) or
    ``"skipped"``."""
    if plan.get("status") != "solved":
        return "n/a"
    ends = {request.get("origin"), request.get("destination")}
    if "la-paz" not in ends or not ends & {"cusco", "puno"}:
        return "n/a"
    if request.get("via") not in (None, "copacabana"):
        return "n/a"
    ctx = Context(request, plan)
    _build(ctx)
    if any(s.kind == "transport" and s.mode == "flight" for s in ctx.steps):
        return "n/a"
    places = {p for s in ctx.steps for p in (s.frm, s.to) if p}
    crossings = {
        (facts.crossing_of_posts(s.frm, s.to) or facts.Crossing("", "", (), "")).key
        for s in ctx.steps
        if s.kind == "border"
    }
    crossings |= {
        str(s.raw.get("crossing")) for s in ctx.steps if s.raw.get("crossing")
    }
    if "copacabana" in places and ("kasani" in crossings or "kasani-bo" in places):
        return "passed"
    for line in plan.get("explanation") or []:
        text = str(line).lower()
        if any(w in text for w in ("copacabana", "kasani", "tiquina")) and any(
            w in text for w in REASON_WORDS
        ):
            return "explained"
    return "skipped"


def _check_copacabana(ctx: Context) -> None:
    if copacabana_status(ctx.request, ctx.plan) == "skipped":
        crossing = next(
            (
                f"{s.frm} → {s.to}"
                for s in ctx.steps
                if s.kind == "border" and s.frm not in facts.TIQUINA_WEST
            ),
            "no border step",
        )
        ctx.add(
            CopacabanaSkipped,
            f"{ctx.origin} → {ctx.destination} crosses at {crossing} and never passes "
            "Copacabana; the explanation does not say why",
        )


def _waking_minutes(step: Step) -> float:
    start, end = local(step.start, step.frm), local(step.end, step.to)
    wake, sleep = _hm(facts.WAKING[0]), _hm(facts.WAKING[1])
    total = 0.0
    day = start.date()
    while day <= end.date():
        base = dt.datetime.combine(day, dt.time())
        lo = max(start, base + dt.timedelta(minutes=wake))
        hi = min(end, base + dt.timedelta(minutes=sleep))
        if hi > lo:
            total += (hi - lo).total_seconds() / 60
        day += dt.timedelta(days=1)
    return total


def _check_destination_time(ctx: Context) -> None:
    needed = facts.min_days(
        ctx.origin, ctx.destination, str(ctx.request.get("arrival") or "overland")
    )
    days = ctx.request.get("days")
    if needed is None or not isinstance(days, int) or days < needed + 1:
        return
    if any(p == ctx.destination for _i, p in _night_places(ctx)):
        return
    minutes = sum(
        _waking_minutes(s)
        for s in ctx.steps
        if s.kind in STILL and s.timed and s.frm == s.to == ctx.destination
    )
    if minutes < facts.MIN_DESTINATION_MINUTES:
        ctx.add(
            NoTimeInDestination,
            f"{days} days for a trip that needs {needed}, yet no night in "
            f"{ctx.destination} and {_fmt(minutes)} awake there "
            f"(≥ {_fmt(facts.MIN_DESTINATION_MINUTES)} wanted)",
        )


def _seen_sights(ctx: Context) -> set[str]:
    """The facts' sights the plan visits: sight steps, and the sights an activity
    says it visits (``sights: [{slug, title}]``)."""
    seen: set[str] = set()
    for step in ctx.steps:
        names: list[tuple[str, str]] = []
        if step.kind == "sight":
            names.append((str(step.raw.get("sight") or ""), step.title))
        for covered in step.raw.get("sights") or ():
            if isinstance(covered, dict):
                title = covered.get("title")
                if isinstance(title, dict):
                    title = title.get("en") or ""
                names.append((str(covered.get("slug") or ""), str(title or "")))
        for slug, title in names:
            sight = facts.sight_match(slug, title, step.frm)
            if sight is not None:
                seen.add(sight.key)
    return seen


def _excluded_sights(ctx: Context) -> set[str]:
    """The facts' sights the traveller excluded (``"sight:<slug>"``)."""
    found = set()
    for item in ctx.request.get("exclude") or ():
        if isinstance(item, str) and item.startswith("sight:"):
            sight = facts.sight_match(item.removeprefix("sight:"), "")
            if sight is not None:
                found.add(sight.key)
    return found


def _check_idle(ctx: Context) -> None:
    sights = facts.places_with_sights()
    seen = _seen_sights(ctx) | _excluded_sights(ctx)
    for i in range(1, len(ctx.days) - 1):
        day_steps = [s for s in ctx.steps if s.day == i + 1 and s.timed]
        if any(s.kind in ("activity", "sight") for s in day_steps):
            continue
        riding = sum(_waking_minutes(s) for s in day_steps if s.kind in MOVING)
        if riding >= facts.TRAVEL_DAY_MINUTES:
            continue
        still: dict[str, float] = {}
        for s in day_steps:
            if s.kind in ("free", "stay") and s.frm:
                still[s.frm] = still.get(s.frm, 0) + _waking_minutes(s)
        if not still:
            continue
        where = max(still, key=lambda p: still[p])
        try:
            weekday = dt.date.fromisoformat(str(ctx.days[i].get("date"))).weekday()
        except ValueError:
            continue
        # Something left to do there: a sight open that weekday that the plan
        # does not visit on any day and the traveller did not exclude (a free day
        # after seeing everything is rest).
        open_there = [
            s.key
            for s in facts.SIGHTS
            if s.place == where
            and facts.sight_open_on(s, weekday) is not False
            and s.key not in seen
            and _interested(ctx, s.key)
            and _affordable(ctx, s.key)
        ]
        if where in sights and open_there:
            ctx.add(
                IdleDay,
                f"nothing but free time at {where} ({_fmt(still[where])} awake, "
                f"{_fmt(riding)} riding) while {', '.join(open_there[:3])} can be "
                "visited",
                day=i + 1,
            )


def _interested(ctx: Context, sight: str) -> bool:
    """False when the traveller rated 0 every tag of the sight they could rate
    (RF2 §1 tags; tags no one can rate say nothing)."""
    interests = ctx.request.get("interests") or {}
    rated = [
        interests[tag] for tag in facts.SIGHT_TAGS.get(sight, ()) if tag in interests
    ]
    return not rated or max(rated) > 0


def _affordable(ctx: Context, sight: str) -> bool:
    """False when the sight's fee for the party (RF2 §1, the lowest figure) does
    not fit in what the plan leaves of the traveller's budget, converted at the
    plan's own rates (its total in each currency)."""
    fee = facts.SIGHT_FEES.get(sight)
    wanted = _money(ctx.request.get("budget"))
    if not fee or not fee[0] or wanted is None:
        return True
    totals = ctx.plan.get("totals") if isinstance(ctx.plan.get("totals"), dict) else {}
    converted = totals.get("in") or {}
    try:
        spent = Decimal(str(converted[wanted[1]]))
        in_fee_currency = Decimal(str(converted[fee[1]]))
    except (KeyError, InvalidOperation):
        return True
    if spent <= 0 or in_fee_currency <= 0:
        return True
    persons = int(ctx.request.get("adults") or 1) + int(
        ctx.request.get("children") or 0
    )
    cost = Decimal(fee[0]) / 100 * persons * spent / in_fee_currency
    return spent + cost <= wanted[0]


def _check_repeat_visit(ctx: Context) -> None:
    arrivals: dict[str, set[str]] = {}
    woke_at = {
        str(ctx.days[i + 1].get("date")): place for i, place in _night_places(ctx)
    }
    for group in _rides(ctx):
        where = group[-1].to
        known = facts.place(where)
        if known is None or known.kind in (facts.HUB, facts.POST, facts.AIRPORT):
            continue
        if where in facts.TWIN_CITY:
            continue  # El Alto from La Paz: across the city by cable car
        if woke_at.get(group[-1].date) == where:
            continue  # back to where one slept (from a walk to a site nearby)
        arrivals.setdefault(where, set()).add(group[-1].date)
    for where, dates in arrivals.items():
        if len(dates) > 1:
            ctx.add(
                RepeatVisit,
                f"goes to {where} on {len(dates)} different days: "
                + ", ".join(sorted(dates)),
            )


def _check_sights(ctx: Context) -> None:
    for step in ctx.steps:
        if step.kind != "sight" or not step.timed:
            continue
        sight = facts.sight_match(
            str(step.raw.get("sight") or ""), step.title, step.frm
        )
        if sight is None or not sight.hours:
            continue
        start, end = local(step.start, step.frm), local(step.end, step.to)
        inside = any(
            start.weekday() in days
            and end.date() == start.date()
            and _hm(o) <= _minute_of_day(start)
            and _minute_of_day(end) <= _hm(c)
            for days, o, c in sight.hours
        )
        if not inside:
            hours = "; ".join(f"{o}–{c}" for _d, o, c in sight.hours)
            ctx.add(
                SightClosed,
                f"{sight.key} visited {start:%a %H:%M}–{end:%H:%M}; open {hours} "
                f"({sight.source})",
                step,
            )


def _check_budget_and_totals(ctx: Context) -> None:
    totals = ctx.plan.get("totals") if isinstance(ctx.plan.get("totals"), dict) else {}
    budget = ctx.request.get("budget")
    if isinstance(budget, dict):
        wanted = _money(budget)
        in_currency = (totals.get("in") or {}).get(wanted[1]) if wanted else None
        try:
            spent = Decimal(str(in_currency)) if in_currency is not None else None
        except InvalidOperation:
            spent = None
        if wanted and spent is not None and spent > wanted[0]:
            ctx.add(
                OverBudget,
                f"costs {spent} {wanted[1]}; the budget is {wanted[0]} {wanted[1]}",
            )
    by_currency = totals.get("by_currency")
    if isinstance(by_currency, list):
        stated = {}
        for item in by_currency:
            money = _money(item)
            if money and money[0]:
                stated[money[1]] = stated.get(money[1], Decimal(0)) + money[0]
        summed: dict[str, Decimal] = {}
        for step in ctx.steps:  # by_currency counts priced items, not estimates
            money = _money(step.raw.get("price"))
            if money and money[0] and step.raw.get("estimated") is not True:
                summed[money[1]] = summed.get(money[1], Decimal(0)) + money[0]
        if stated != summed:
            ctx.add(
                Inconsistent,
                f"step prices add up to {_show_money(summed)}, totals say "
                f"{_show_money(stated)}",
            )
    route = ctx.plan.get("route")
    if isinstance(route, dict) and route.get("crossing"):
        used = {
            (facts.crossing_of_posts(s.frm, s.to) or facts.Crossing("", "", (), "")).key
            for s in ctx.steps
            if s.kind == "border"
        } - {"tiquina", ""}
        if used and route["crossing"] not in used:
            ctx.add(
                Inconsistent,
                f"route.crossing is {route['crossing']}, the border steps cross at "
                f"{', '.join(sorted(used))}",
            )


def _show_money(amounts: dict[str, Decimal]) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(amounts.items())) or "nothing"


def _check_volatile(ctx: Context) -> None:
    for slug, what in facts.VOLATILE_ACCESS.items():
        words = facts.VOLATILE_WORDS[slug]
        step = next(
            (
                s
                for s in ctx.steps
                if slug in (s.frm, s.to) or any(w in s.title.lower() for w in words)
            ),
            None,
        )
        if step is None:
            continue
        warnings = " ".join(str(w) for w in ctx.plan.get("warnings") or []).lower()
        if not any(
            w in warnings for w in ("challapampa", "north", "chincana", "norte")
        ):
            ctx.add(
                VolatileAccess, f"goes to {slug} with no access warning ({what})", step
            )


CHECKS = (
    _check_days,
    _check_ends,
    _check_path,
    _check_overlap,
    _check_offsets,
    _check_border_hours,
    _check_rides,
    _check_altitude,
    _check_beds,
    _check_pace,
    _check_early_boarding,
    _check_unpriced,
    _check_ping_pong,
    _check_copacabana,
    _check_destination_time,
    _check_idle,
    _check_repeat_visit,
    _check_sights,
    _check_budget_and_totals,
    _check_volatile,
)


def check_plan(request: dict[str, Any], plan: dict[str, Any]) -> list[Defect]:
    """Every defect of a solved plan (none for any other status)."""
    return check_plan_context(request, plan).defects


def check_plan_context(request: dict[str, Any], plan: dict[str, Any]) -> Context:
    """``check_plan`` with what the checker inferred (steps, crow-flight pairs)."""
    ctx = Context(request, plan)
    if plan.get("status") != "solved":
        return ctx
    _build(ctx)
    for check in CHECKS:
        check(ctx)
    return ctx
