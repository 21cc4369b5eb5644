"""What makes one plan better than another, in integer points.

The planner maximises

    sum of experience points + sum of night points
    - transport penalties (time on the road, fares, nights on a bus)

subject to every hard rule. The weights below are the whole policy; they are
chosen so that each term means something a traveller would recognise:

* **Interest** (:func:`experience_points`): an experience is worth
  ``INTEREST_POINTS`` per level of the traveller's strongest interest among its
  tags (0–5), plus ``HOUR_POINTS`` per level and hour of the experience up to four
  hours. So a 3-hour weaving workshop for someone who rated textiles 5 is worth
  5 × 60 + 5 × 3 × 20 = 600 points, and anything the traveller rated 0 is worth
  nothing (it is never added just to fill time). Tags the traveller did not rate
  count as ``DEFAULT_INTEREST`` (3, "interested").
* **Community** (``COMMUNITY_FACTOR`` and ``COMMUNITY_NIGHT_POINTS``): experiences
  of community-run providers earn 30 % more and a community-run night 60 points,
  so between two equal options the plan picks the one whose money stays with the
  community, without overriding a clear difference of interest.
* **Cost** (``POINTS_PER_USD``): 2 points per US dollar each person pays, so a
  S/ 150 (≈ USD 40) option must be worth 80 points more than a free one.
* **Travel** (``POINTS_PER_RIDE_MINUTE`` and ``NIGHT_RIDE_POINTS``): 1 point per
  3 minutes in a vehicle, and 150 points for a night spent on a bus, so a plan
  does not add bus hours or night rides unless they buy a real experience.
* **Detours** (``POINTS_PER_DETOUR_MINUTE``): 1 point per 4 minutes of estimated
  round-trip transfer from where the traveller sleeps to the experience.

Experience points are never negative: an experience whose cost and detour
outweigh the interest is not worth including (a must-see one is included anyway).
"""

from __future__ import annotations

from collections.abc import Mapping

INTEREST_POINTS = 60
HOUR_POINTS = 20
MAX_HOURS = 4
DEFAULT_INTEREST = 3
UNTAGGED_INTEREST = 2
COMMUNITY_FACTOR = 1.3
COMMUNITY_NIGHT_POINTS = 60
NIGHT_INTEREST_POINTS = 8
POINTS_PER_USD = 2
POINTS_PER_RIDE_MINUTE = 1 / 3
NIGHT_RIDE_POINTS = 150
POINTS_PER_DETOUR_MINUTE = 1 / 4


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
) -> int:
    level = interest_level(tags, interests)
    if level <= 0:
        return 0
    hours = min(duration_min, MAX_HOURS * 60) / 60
    value = level * (INTEREST_POINTS + HOUR_POINTS * hours)
    if community_run:
        value *= COMMUNITY_FACTOR
    value -= cost_points(usd_cents_per_person)
    value -= POINTS_PER_DETOUR_MINUTE * detour_min
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


def ride_penalty(*, minutes: int, usd_cents_per_person: int, overnight: bool) -> int:
    penalty = POINTS_PER_RIDE_MINUTE * minutes + cost_points(usd_cents_per_person)
    if overnight:
        penalty += NIGHT_RIDE_POINTS
    return round(penalty)
