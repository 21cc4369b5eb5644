"""Figures for the staff dashboard: bookings and spend per month by country, by
community (community-run or not, and per provider), by value chain and by border
crossing, as the binational monitoring of the integration zone asks for them.

Bookings count when their persons are booked (confirmed, redeemed or no-show);
cancelled bookings are counted apart; holds, requests waiting for the provider,
declined and expired bookings are left out. The month is the month of the service
date (the slot's date), not of the booking. Money stays in integer minor units per
currency; a USD total is converted with the staff-kept exchange rates.

Everything except the border crossings is one grouped query per table. Crossings
live in each trip plan's ``days`` JSON, so those are read per confirmed trip in the
date range (one row each, only the plan's days), then counted in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncMonth
from django.utils.translation import gettext as _

from catalogue.models import Country, Crossing, Currency
from catalogue.selectors import MissingRateError, RateTable, exchange_rates_current
from itineraries.apis import MAX_DAYS
from itineraries.models import TripBooking, TripBookingPart
from providers.models import Booking, ValueChain

USD = Currency.USD.value
CURRENCIES: tuple[str, ...] = tuple(c.value for c in Currency)
BOOKED_STATUSES: tuple[str, ...] = tuple(str(s) for s in Booking.BOOKED)
CANCELLED = Booking.Status.CANCELLED.value


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class DashboardFilters:
    """Months ``first_month`` to ``last_month`` inclusive (both the 1st of a month);
    ``country`` an ISO code (the provider's country) or None for all."""

    first_month: dt.date
    last_month: dt.date
    country: str | None = None

    @property
    def end(self) -> dt.date:
        """The first day after the range."""
        return next_month(self.last_month)

    def months(self) -> list[dt.date]:
        months, month = [], self.first_month
        while month <= self.last_month:
            months.append(month)
            month = next_month(month)
        return months


@dataclass
class Figures:
    """One table row: counts and spend (minor units per currency, and in USD)."""

    month: dt.date
    key: tuple
    label: str
    bookings: int = 0
    persons: int = 0
    cancelled: int = 0
    spend: dict[str, int] = field(default_factory=dict)
    usd_minor: int | None = 0  # None: a currency had no exchange rate

    def spend_in(self, currency: str) -> int:
        return self.spend.get(currency, 0)


def _spend_annotations() -> dict:
    booked = Q(status__in=BOOKED_STATUSES)
    annotations = {
        "bookings": Count("id", filter=booked),
        "persons": Sum("persons", filter=booked),
        "cancelled": Count("id", filter=Q(status=CANCELLED)),
    }
    for currency in CURRENCIES:
        annotations[f"spend_{currency}"] = Sum(
            "total_minor", filter=booked & Q(currency=currency)
        )
    return annotations


def _bookings(filters: DashboardFilters) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(
        test_mode=False,
        slot__date__gte=filters.first_month,
        slot__date__lt=filters.end,
        status__in=(*BOOKED_STATUSES, CANCELLED),
    )
    if filters.country:
        bookings = bookings.filter(provider__country__code=filters.country)
    return bookings


def _usd(spend: dict[str, int], rates: RateTable) -> int | None:
    try:
        return sum(rates.convert_minor(v, c, USD) for c, v in spend.items())
    except MissingRateError:
        return None


def _grouped(
    filters: DashboardFilters, rates: RateTable, fields: Iterable[str]
) -> list[dict]:
    fields = list(fields)
    rows = (
        _bookings(filters)
        .annotate(month=TruncMonth("slot__date"))
        .values("month", *fields)
        .annotate(**_spend_annotations())
        .order_by("month", *fields)
    )
    out = []
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        row["month"] = month
        row["spend"] = {
            c: row[f"spend_{c}"] for c in CURRENCIES if row[f"spend_{c}"] is not None
        }
        out.append(row)
    return out


def _figures(row: dict, key: tuple, label: str, rates: RateTable) -> Figures:
    return Figures(
        month=row["month"],
        key=key,
        label=label,
        bookings=row["bookings"],
        persons=row["persons"] or 0,
        cancelled=row["cancelled"],
        spend=row["spend"],
        usd_minor=_usd(row["spend"], rates),
    )


def by_country(filters: DashboardFilters, rates: RateTable) -> list[Figures]:
    """Per month and provider country."""
    names = {c.code: c.name for c in Country.objects.all()}
    return [
        _figures(
            row,
            (row["provider__country__code"],),
            names.get(row["provider__country__code"], row["provider__country__code"]),
            rates,
        )
        for row in _grouped(filters, rates, ["provider__country__code"])
    ]


def by_community(filters: DashboardFilters, rates: RateTable) -> list[Figures]:
    """Per month: community-run providers and the others."""
    labels = {True: _("Community-run"), False: _("Not community-run")}
    return [
        _figures(
            row,
            (row["provider__community_run"],),
            labels[row["provider__community_run"]],
            rates,
        )
        for row in _grouped(filters, rates, ["provider__community_run"])
    ]


def by_provider(filters: DashboardFilters, rates: RateTable) -> list[Figures]:
    """Per month and provider (with its country and whether it is community-run)."""
    rows = _grouped(
        filters,
        rates,
        [
            "provider__name",
            "provider_id",
            "provider__country__code",
            "provider__community_run",
        ],
    )
    return [
        _figures(
            row,
            (
                row["provider__name"],
                row["provider__country__code"],
                row["provider__community_run"],
            ),
            row["provider__name"],
            rates,
        )
        for row in rows
    ]


def by_value_chain(filters: DashboardFilters, rates: RateTable) -> list[Figures]:
    """Per month and value chain of the provider. A provider in several value chains
    counts in each, so rows of one month may add up to more than all bookings;
    providers without a value chain are a row of their own."""
    names = {vc.code: vc.name for vc in ValueChain.objects.all()}
    return [
        _figures(
            row,
            (row["provider__value_chains__code"] or "",),
            names.get(row["provider__value_chains__code"], _("No value chain")),
            rates,
        )
        for row in _grouped(filters, rates, ["provider__value_chains__code"])
    ]


@dataclass(frozen=True)
class _CrossingInfo:
    slug: str
    name: str
    sides: dict[str, str]  # place slug -> country code


def _border_crossings(country: str | None) -> dict[frozenset[str], _CrossingInfo]:
    crossings = Crossing.objects.filter(kind=Crossing.Kind.BORDER).select_related(
        "side_a__country", "side_b__country"
    )
    out = {}
    for crossing in crossings:
        sides = {
            crossing.side_a.slug: crossing.side_a.country.code,
            crossing.side_b.slug: crossing.side_b.country.code,
        }
        if country and country not in sides.values():
            continue
        out[frozenset(sides)] = _CrossingInfo(crossing.slug, crossing.name, sides)
    return out


def by_border_crossing(filters: DashboardFilters, rates: RateTable) -> list[Figures]:
    """Per month (of the crossing date), border crossing and direction: trip bookings
    whose plan crosses there, their travellers and the spend of their booked parts.
    Confirmed trips count; cancelled trips are counted apart. Strait crossings
    (Tiquina) are not border crossings and are left out."""
    crossings = _border_crossings(filters.country)
    if not crossings:
        return []
    first, end = filters.first_month.isoformat(), filters.end.isoformat()
    # A trip crosses between its start date and MAX_DAYS later: only trips starting
    # from MAX_DAYS before the range to its end can cross within it (ISO dates in the
    # request JSON compare as text).
    earliest = (filters.first_month - dt.timedelta(days=MAX_DAYS)).isoformat()
    trips = (
        TripBooking.objects.filter(
            status__in=(TripBooking.Status.CONFIRMED, TripBooking.Status.CANCELLED)
        )
        .annotate(
            start_date=Cast(
                KeyTextTransform("start_date", "plan__request"), TextField()
            )
        )
        .filter(start_date__gte=earliest, start_date__lt=end)
        .values_list("id", "status", "plan__days", "plan__totals")
    )
    # (month, crossing slug, direction) -> trip ids per status, and travellers
    found: dict[tuple, dict] = {}
    for trip_id, status, days, totals in trips.iterator(chunk_size=500):
        persons = int((totals or {}).get("persons") or 0)
        for day in days or []:
            for step in day.get("steps", []):
                if step.get("kind") != "border":
                    continue
                start = str(step.get("start") or day.get("date") or "")[:10]
                if not (first <= start < end):
                    continue
                info = crossings.get(frozenset((step.get("from"), step.get("to"))))
                if info is None:
                    continue
                direction = f"{info.sides[step['from']]} → {info.sides[step['to']]}"
                month = month_start(dt.date.fromisoformat(start))
                key = (month, info.slug, direction)
                entry = found.setdefault(
                    key,
                    {"name": info.name, "confirmed": {}, "cancelled": set()},
                )
                if status == TripBooking.Status.CONFIRMED:
                    entry["confirmed"][trip_id] = persons
                else:
                    entry["cancelled"].add(trip_id)
    confirmed_ids = {t for e in found.values() for t in e["confirmed"]}
    spend_by_trip: dict = defaultdict(dict)
    parts = (
        TripBookingPart.objects.filter(
            trip_id__in=confirmed_ids, booking__status__in=BOOKED_STATUSES
        )
        .values("trip_id", "booking__currency")
        .annotate(total=Sum("booking__total_minor"))
    )
    for part in parts:
        spend_by_trip[part["trip_id"]][part["booking__currency"]] = part["total"]
    rows = []
    for (month, _slug, direction), entry in sorted(found.items()):
        spend: dict[str, int] = defaultdict(int)
        for trip_id in entry["confirmed"]:
            for currency, total in spend_by_trip[trip_id].items():
                spend[currency] += total
        spend = {c: spend[c] for c in CURRENCIES if c in spend}
        rows.append(
            Figures(
                month=month,
                key=(entry["name"], direction),
                label=f"{entry['name']} ({direction})",
                bookings=len(entry["confirmed"]),
                persons=sum(entry["confirmed"].values()),
                cancelled=len(entry["cancelled"]),
                spend=spend,
                usd_minor=_usd(spend, rates),
            )
        )
    return rows


@dataclass(frozen=True)
class Dashboard:
    filters: DashboardFilters
    rates: RateTable
    tables: dict[str, list[Figures]]


TABLES = {
    "country": by_country,
    "community": by_community,
    "provider": by_provider,
    "value_chain": by_value_chain,
    "crossing": by_border_crossing,
}


def dashboard(filters: DashboardFilters, only: str | None = None) -> Dashboard:
    """All tables (or ``only`` one of ``TABLES``) for ``filters``."""
    rates = exchange_rates_current()
    names = [only] if only else list(TABLES)
    return Dashboard(
        filters=filters,
        rates=rates,
        tables={name: TABLES[name](filters, rates) for name in names},
    )


def totals_per_month(rows: list[Figures], months: list[dt.date]) -> list[dict]:
    """Per month: the USD total and booking count over ``rows`` (for the charts)."""
    by_month: dict[dt.date, dict] = {
        m: {"month": m, "bookings": 0, "usd_minor": 0} for m in months
    }
    for row in rows:
        entry = by_month.get(row.month)
        if entry is None:
            continue
        entry["bookings"] += row.bookings
        if row.usd_minor is not None and entry["usd_minor"] is not None:
            entry["usd_minor"] += row.usd_minor
        else:
            entry["usd_minor"] = None
    return list(by_month.values())
