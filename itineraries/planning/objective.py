"""What makes one plan better than another, in integer points.

The planner maximises

    experience and sight points + night points + place points
    - transport penalties (time on the road, fares, nights on a bus, early starts)
    - ping-pong penalties

subject to every hard rule. The weights below are the whole policy. Each is given
with the reason a traveller would recognise:

* **Interest** (:func:`experience_points`): an experience or a sight is worth
  ``INTEREST_POINTS`` per level of the traveller's strongest interest among its tags
  (0–5), plus ``HOUR_POINTS`` per level and hour up to four hours — "a 3-hour weaving
  workshop for someone who rated textiles 5 is worth 5 × 60 + 5 × 3 × 20 = 600
  points"; anything rated 0 is worth nothing (never added to fill time). Tags the
  traveller did not rate count as ``DEFAULT_INTEREST`` (3, "interested").
* **Repeated value in one place** (``REPEAT_FACTORS``): the second thing of the same
  kind at the same place is worth 60 %, the third 40 %, … — "a guided visit of
  Tiwanaku after seeing Tiwanaku adds less than the first visit".
* **Community** (``COMMUNITY_FACTOR``, ``COMMUNITY_NIGHT_POINTS``): community-run
  experiences earn 30 % more and a community-run night 60 points — "between two
  equal options the money stays with the community".
* **Places** (``NEW_PLACE_NIGHT_POINTS``, ``REPEAT_NIGHT_FACTOR``,
  ``NEW_PLACE_VISIT_POINTS``): the first night somewhere new is worth 120 points,
  every further night in the same place half the one before, and a day trip to a new
  place 60 — "six nights around Puno are not a trip along the lake".
* **Destination** (``DESTINATION_NIGHT_POINTS``): a night in the destination before
  the last day is worth 600 — "with a day to spare you see La Paz, not only its bus
  terminal" (more than a second night on an island).
* **Ping-pong** (``PING_PONG_POINTS``): sleeping again in a base already left for
  another bed costs 300 — "Puno → Taquile → Puno → Uros → Puno is what an expert
  replaces with Uros on the way to a Taquile homestay".
* **Changing beds** (``CHANGE_OF_BED_POINTS``): every move to another bed costs 120
  — "a new village every night is a trip spent packing".
* **The lake's islands** (``ISLAND_POINTS``): setting foot on an island of the
  lake (the Uros, Taquile, Amantaní, Isla del Sol, Isla de la Luna) is worth 300,
  once per island, by a day trip or a first night there — "a trip along Lake
  Titicaca that never leaves the shore misses what it is for; Isla del Sol is why
  one stops in Copacabana".
* **Islands** (``ISLAND_NIGHTS_MAX``): no more than two nights in a row on one
  island or in one village, must-sees there included (each fits in a day) — "the
  third day on Amantaní has nothing new".
* **Cost** (``POINTS_PER_USD``): 2 points per US dollar each person pays — "a S/ 150
  (≈ USD 40) option must be worth 80 points more than a free one".
* **Travel** (``POINTS_PER_RIDE_MINUTE``, ``NIGHT_RIDE_POINTS``): 1 point per 3
  minutes in a vehicle and 150 for a night on a bus — "no bus hours unless they buy a
  real experience".
* **Early starts** (``EARLY_POINTS_PER_HOUR``): boarding before the pace's first hour
  costs points per hour — "relaxed travellers do not board before 08:00 when a later
  bus exists".
* **Long rides** (``LONG_RIDE_MIN``, ``LONG_RIDE_NEXT_DAY_SHARE``): after six hours on
  the road a relaxed traveller gets the evening free and a lighter next day.
"""

from __future__ import annotations

from collections.abc import Mapping

INTEREST_POINTS = 60
HOUR_POINTS = 20
MAX_HOURS = 4
DEFAULT_INTEREST = 3
UNTAGGED_INTEREST = 2
REPEAT_FACTORS = (1.0, 0.6, 0.4, 0.3)
COMMUNITY_FACTOR = 1.3
COMMUNITY_NIGHT_POINTS = 60
NIGHT_INTEREST_POINTS = 8
NEW_PLACE_NIGHT_POINTS = 120
REPEAT_NIGHT_FACTOR = 0.5
NEW_PLACE_VISIT_POINTS = 60
DESTINATION_NIGHT_POINTS = 600
PING_PONG_POINTS = 300
CHANGE_OF_BED_POINTS = 120
ISLAND_NIGHTS_MAX = 2
ISLAND_POINTS = 300
POINTS_PER_USD = 2
POINTS_PER_RIDE_MINUTE = 1 / 3
NIGHT_RIDE_POINTS = 150
EARLY_POINTS_PER_HOUR = {"relaxed": 240, "normal": 60, "packed": 20}
LONG_RIDE_MIN = 6 * 60
LONG_RIDE_NEXT_DAY_SHARE = 0.5

REASONS = {
    "interest": "experiences and sights you rated higher are worth more",
    "repeat": "a second visit of the same kind at one place adds less",
    "community": "money that stays with the community is preferred",
    "places": "new places are worth more than more nights in one",
    "destination": "with a day to spare you see the destination",
    "ping_pong": "coming back to sleep in a base already left costs a day",
    "change_of_bed": "every change of bed costs a morning of packing",
    "islands": "at most two nights in a row on one island",
    "cost": "cheaper is better when nothing else differs",
    "travel": "fewer hours on the road and no night buses",
    "early": "no early boarding when a later departure exists",
    "long_ride": "a free evening and a lighter day after a long ride",
}
"""Traveller-facing reasons of the weights (the explanation names them)."""


def interest_level(tags: tuple[str, ...], interests: Mapping[str, int]) -> int:
    """The traveller's strongest interest among ``tags`` (0–5)."""
    if not tags:
        return UNTAGGED_INTEREST
    return max(interests.get(tag, DEFAULT_INTEREST) for tag in tags)


def cost_points(usd_cents_per_person: int) -> int:
    return round(POINTS_PER_USD * usd_cents_per_person / 100)


def experience_points(
    *,
    tags: tuple[str, ...],
    duration_min: int,
    community_run: bool,
    usd_cents_per_person: int,
    detour_min: int,
    interests: Mapping[str, int],
    rank: int = 0,
) -> int:
    """Points of an experience or sight; ``rank`` is how many things of the same
    kind the same place offers that are worth more (diminishing returns)."""
    level = interest_level(tags, interests)
    if level <= 0:
        return 0
    hours = min(duration_min, MAX_HOURS * 60) / 60
    value = level * (INTEREST_POINTS + HOUR_POINTS * hours)
    if community_run:
        value *= COMMUNITY_FACTOR
    value *= REPEAT_FACTORS[min(rank, len(REPEAT_FACTORS) - 1)]
    value -= cost_points(usd_cents_per_person)
    value -= detour_min / 4
    return max(0, round(value))


def night_points(
    *,
    tags: tuple[str, ...],
    community_run: bool,
    usd_cents_per_person: int,
    interests: Mapping[str, int],
) -> int:
    """Points of one night in a stay (may be negative: expensive nights cost)."""
    value = NIGHT_INTEREST_POINTS * (interest_level(tags, interests) if tags else 0)
    if community_run:
        value += COMMUNITY_NIGHT_POINTS
    return round(value - cost_points(usd_cents_per_person))


def place_night_points(nights_before: int) -> int:
    """Points of a night in a place where the traveller already slept
    ``nights_before`` nights (the first night somewhere new is worth most)."""
    return round(NEW_PLACE_NIGHT_POINTS * REPEAT_NIGHT_FACTOR**nights_before)


def ride_penalty(*, minutes: int, usd_cents_per_person: int, overnight: bool) -> int:
    penalty = POINTS_PER_RIDE_MINUTE * minutes + cost_points(usd_cents_per_person)
    if overnight:
        penalty += NIGHT_RIDE_POINTS
    return round(penalty)


def early_penalty(*, pace: str, minutes_early: int) -> int:
    """Boarding ``minutes_early`` before the pace's first hour."""
    if minutes_early <= 0:
        return 0
    return round(EARLY_POINTS_PER_HOUR.get(pace, 60) * minutes_early / 60)
