"""Reads of the route catalogue.

All instants are aware ``datetime`` objects in UTC; they are converted to a place's
zone only for display. A departure's local time is read in its origin's zone, the
arrival in the destination's zone, so the +1 h jump into Bolivia falls out of the
arithmetic instead of being special-cased.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _

from catalogue.models import (
    CURRENCY_EXPONENT,
    Crossing,
    CrossingHours,
    Currency,
    Departure,
    ExchangeRate,
    Place,
    RouteLeg,
    Sight,
    SightHours,
    Transfer,
)
from tourism.exceptions import NotFoundError

UTC = dt.UTC


def utc_offset(moment: dt.datetime) -> str:
    """``-05:00`` for an aware datetime in Peru (``%:z`` needs Python 3.12)."""
    raw = moment.strftime("%z")
    return f"{raw[:3]}:{raw[3:5]}"


def place_list(
    *, country: str | None = None, kind: str | None = None
) -> QuerySet[Place]:
    places = Place.objects.select_related("country").order_by("slug")
    if country:
        places = places.filter(country__code=country.upper())
    if kind:
        places = places.filter(kind=kind)
    return places


def place_get(*, slug: str, field: str = "slug") -> Place:
    """The place with ``slug``; NotFoundError naming the input ``field`` otherwise."""
    place = Place.objects.select_related("country").filter(slug=slug).first()
    if place is None:
        raise NotFoundError(
            _("Unknown place '%(slug)s'.") % {"slug": slug}, field=field
        )
    return place


def sight_list(*, place: str | None = None, tag: str | None = None) -> list[Sight]:
    """Sights with their place (and its zone) and opening hours, by place then slug;
    ``place`` is a place slug, ``tag`` one interest tag."""
    sights = (
        Sight.objects.select_related("place__country")
        .prefetch_related(
            Prefetch("hours", queryset=SightHours.objects.order_by("opens", "id"))
        )
        .order_by("place__slug", "slug")
    )
    if place:
        sights = sights.filter(place__slug=place)
    # Tags are a JSON list; SQLite cannot query inside it, and there are few sights.
    return [sight for sight in sights if not tag or tag in (sight.tags or ())]


def transfer_list(
    *,
    origin: str | None = None,
    destination: str | None = None,
    mode: str | None = None,
) -> QuerySet[Transfer]:
    """Transfers between places (slugs), quickest first for each pair."""
    transfers = Transfer.objects.select_related(
        "origin__country", "destination__country"
    ).order_by("origin__slug", "destination__slug", "minutes", "slug")
    if origin:
        transfers = transfers.filter(origin__slug=origin)
    if destination:
        transfers = transfers.filter(destination__slug=destination)
    if mode:
        transfers = transfers.filter(mode=mode)
    return transfers


def _crossings() -> QuerySet[Crossing]:
    return Crossing.objects.select_related(
        "side_a__country", "side_b__country"
    ).prefetch_related(
        Prefetch("hours", queryset=CrossingHours.objects.order_by("side"))
    )


def crossing_list(*, kind: str | None = None) -> QuerySet[Crossing]:
    crossings = _crossings().order_by("slug")
    return crossings.filter(kind=kind) if kind else crossings


@dataclass(frozen=True)
class CrossingPassage:
    """A vehicle passing a crossing: when it reaches it, when it is through, and whether
    every post on the way is open then (each in its own local time)."""

    crossing: Crossing
    arrive_at: dt.datetime  # UTC: reaches the first side
    leave_at: dt.datetime  # UTC: through the second side
    first_side: Place
    second_side: Place
    passable: bool
    problems: list[str] = field(default_factory=list)

    @property
    def clock_change(self) -> dt.timedelta:
        """How far the clocks move at the passage: +1 h from Peru into Bolivia,
        −1 h the other way, nothing at Tiquina."""
        first = self.arrive_at.astimezone(self.first_side.zone).utcoffset()
        second = self.arrive_at.astimezone(self.second_side.zone).utcoffset()
        return second - first

    @property
    def clock_change_h(self) -> int:
        return int(self.clock_change.total_seconds() // 3600)


def crossing_passage(
    *, crossing: Crossing, first_side_id: int, arrive_at: dt.datetime
) -> CrossingPassage:
    """Check a passage of ``crossing`` that reaches its post ``first_side_id`` (one of
    the crossing's two sides, as stored on the leg) at ``arrive_at`` (aware)."""
    sides = {
        CrossingHours.Side.A: crossing.side_a,
        CrossingHours.Side.B: crossing.side_b,
    }
    problems: list[str] = []
    if first_side_id == crossing.side_b_id:
        order = (CrossingHours.Side.B, CrossingHours.Side.A)
    else:
        order = (CrossingHours.Side.A, CrossingHours.Side.B)
        if first_side_id != crossing.side_a_id:
            # Stored data contradicts itself (the model and the audit catch this);
            # refuse the passage rather than guess a direction.
            problems.append(
                _(
                    "The route data does not say which post of %(name)s this ride "
                    "reaches first; staff must correct the leg."
                )
                % {"name": crossing.name}
            )
    leave_at = arrive_at + dt.timedelta(minutes=crossing.typical_minutes)
    hours = {h.side: h for h in crossing.hours.all()}
    if crossing.status == Crossing.Status.CLOSED:
        problems.append(
            _("%(name)s is closed (%(note)s).")
            % {
                "name": crossing.name,
                "note": crossing.status_note or _("no reason given"),
            }
        )
    for side in order:
        side_hours = hours.get(side)
        if side_hours is None:
            continue  # hours unknown: the passage is not refused on a guess
        # The post must be open for the whole time the vehicle may be there.
        for instant in (arrive_at, leave_at):
            if not side_hours.is_open_at(instant):
                place = sides[side]
                local = instant.astimezone(place.zone)
                problems.append(
                    _(
                        "%(name)s (%(side)s) is closed at %(time)s (UTC%(offset)s); "
                        "it opens %(opens)s–%(closes)s local time."
                    )
                    % {
                        "name": crossing.name,
                        "side": place.name,
                        "time": local.strftime("%H:%M"),
                        "offset": utc_offset(local),
                        "opens": side_hours.opens.strftime("%H:%M"),
                        "closes": side_hours.closes.strftime("%H:%M"),
                    }
                )
                break
    return CrossingPassage(
        crossing=crossing,
        arrive_at=arrive_at,
        leave_at=leave_at,
        first_side=sides[order[0]],
        second_side=sides[order[1]],
        passable=not problems,
        problems=problems,
    )


@dataclass(frozen=True)
class DepartureOccurrence:
    """One concrete run of a timetabled departure."""

    departure: Departure
    depart_at: dt.datetime  # UTC
    arrive_at: dt.datetime  # UTC
    passage: CrossingPassage | None

    @property
    def leg(self) -> RouteLeg:
        return self.departure.leg

    @property
    def depart_local(self) -> dt.datetime:
        return self.depart_at.astimezone(self.leg.origin.zone)

    @property
    def arrive_local(self) -> dt.datetime:
        return self.arrive_at.astimezone(self.leg.destination.zone)

    @property
    def warnings(self) -> list[str]:
        notes = list(self.passage.problems) if self.passage else []
        if self.passage and self.passage.crossing.status == Crossing.Status.DISRUPTED:
            notes.append(
                _("%(name)s is disrupted: %(note)s")
                % {
                    "name": self.passage.crossing.name,
                    "note": self.passage.crossing.status_note,
                }
            )
        if not self.departure.verified:
            notes.append(
                _("This timetable entry is not verified; confirm it with the operator.")
            )
        return notes


def departure_occurrences(
    *, departure: Departure, day: dt.date
) -> list[DepartureOccurrence]:
    """The runs of ``departure`` leaving on local date ``day`` (none if not running)."""
    if not departure.runs_on(day):
        return []
    leg = departure.leg
    occurrences = []
    for local_time in departure.local_times():
        depart_at = dt.datetime.combine(
            day, local_time, tzinfo=leg.origin.zone
        ).astimezone(UTC)
        arrive_at = depart_at + dt.timedelta(minutes=departure.duration_min)
        passage = None
        if leg.crossing is not None and leg.crossing_offset_min is not None:
            passage = crossing_passage(
                crossing=leg.crossing,
                first_side_id=leg.crossing_first_side_id,
                arrive_at=depart_at + dt.timedelta(minutes=leg.crossing_offset_min),
            )
        occurrences.append(
            DepartureOccurrence(
                departure=departure,
                depart_at=depart_at,
                arrive_at=arrive_at,
                passage=passage,
            )
        )
    return occurrences


def departure_list_on(
    *, origin: Place, destination: Place, day: dt.date, mode: str | None = None
) -> list[DepartureOccurrence]:
    """Every run from ``origin`` to ``destination`` leaving on ``day``, by departure."""
    departures = (
        Departure.objects.filter(leg__origin=origin, leg__destination=destination)
        .select_related(
            "leg__origin__country",
            "leg__destination__country",
            "leg__crossing__side_a__country",
            "leg__crossing__side_b__country",
        )
        .prefetch_related(
            Prefetch(
                "leg__crossing__hours", queryset=CrossingHours.objects.order_by("side")
            )
        )
    )
    if mode:
        departures = departures.filter(leg__mode=mode)
    occurrences = [
        occurrence
        for departure in departures
        for occurrence in departure_occurrences(departure=departure, day=day)
    ]
    return sorted(occurrences, key=lambda o: (o.depart_at, o.departure.code))


class MissingRateError(ValueError):
    """No exchange rate (or no known minor unit) for ``currency``."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        super().__init__(f"No exchange rate for currency {currency!r}.")


@dataclass(frozen=True)
class RateTable:
    """Units of each currency per 1 USD, and the date each rate was set.

    ``per_usd`` always holds ``"USD": Decimal(1)``; ``set_on`` has no USD entry.
    """

    per_usd: dict[str, Decimal]
    set_on: dict[str, dt.date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rates = {str(code): Decimal(str(rate)) for code, rate in self.per_usd.items()}
        if rates.setdefault(Currency.USD.value, Decimal(1)) != 1:
            raise ValueError("USD is the base currency: its rate must be 1.")
        for code, rate in rates.items():
            if not rate > 0:
                raise ValueError(f"The rate of {code} must be positive, not {rate}.")
        object.__setattr__(self, "per_usd", rates)

    def _rate_and_exponent(self, currency: str) -> tuple[Decimal, int]:
        rate, exponent = self.per_usd.get(currency), CURRENCY_EXPONENT.get(currency)
        if rate is None or exponent is None:
            raise MissingRateError(currency)
        return rate, exponent

    def convert_minor(
        self, amount_minor: int, from_currency: str, to_currency: str
    ) -> int:
        """Convert integer minor units through USD, rounding half up (away from zero)
        to the target's minor unit: ``696, "BOB", "USD"`` → ``100`` at 6.96.

        Computed exactly: one integer division of Decimals, so a true half is
        always seen as a half.
        """
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
            raise TypeError(f"amount_minor must be an int, not {amount_minor!r}")
        if from_currency == to_currency:
            return amount_minor
        from_rate, from_exponent = self._rate_and_exponent(from_currency)
        to_rate, to_exponent = self._rate_and_exponent(to_currency)
        with localcontext() as ctx:
            ctx.prec = 80
            ctx.traps[Inexact] = True  # nothing below may round silently
            # amount / 10**from_exp / from_rate (USD) * to_rate * 10**to_exp
            numerator = Decimal(amount_minor) * to_rate * Decimal(10) ** to_exponent
            denominator = from_rate * Decimal(10) ** from_exponent
            # Decimal divmod truncates toward zero; the remainder has the
            # numerator's sign and the denominator is positive.
            quotient, remainder = divmod(numerator, denominator)
            if 2 * abs(remainder) >= denominator:
                quotient += 1 if numerator > 0 else -1
        return int(quotient)


def exchange_rates_current() -> RateTable:
    """The current rate of each currency (latest ``set_on``, then latest id), in one
    query. A currency without any row is absent, so converting it raises
    MissingRateError."""
    latest = (
        ExchangeRate.objects.filter(currency=OuterRef("currency"))
        .order_by("-set_on", "-id")
        .values("id")[:1]
    )
    rows = ExchangeRate.objects.filter(id=Subquery(latest)).values_list(
        "currency", "per_usd", "set_on"
    )
    per_usd: dict[str, Decimal] = {}
    set_on: dict[str, dt.date] = {}
    for currency, rate, day in rows:
        per_usd[currency], set_on[currency] = rate, day
    return RateTable(per_usd=per_usd, set_on=set_on)
