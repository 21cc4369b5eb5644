"""Page view-models of the traveller website: the home page and the itinerary page.

Everything a template shows is prepared here (local times with their zone, prices in
the chosen currency, inline SVG coordinates), so templates only lay it out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from catalogue.models import (
    ANDEAN_COMMUNITY,
    Crossing,
    Currency,
    EntryRequirement,
    Place,
    minor_to_decimal,
)
from catalogue.selectors import (
    MissingRateError,
    RateTable,
    crossing_list,
    exchange_rates_current,
)
from catalogue.services import money_to_minor
from itineraries.models import TripPlan
from itineraries.planning.world import HUBS
from providers.models import Listing, Provider, ValueChain
from providers.selectors import listing_list_bookable

CURRENCIES = ("PEN", "BOB", "USD")
MINUS = "\u2212"


def language() -> str:
    return "es" if (get_language() or "en").startswith("es") else "en"


def localise(value: Any, lang: str | None = None) -> Any:
    """``{"en": …, "es": …}`` → the active language's text (English as fallback)."""
    if isinstance(value, dict) and "en" in value:
        return value.get(lang or language()) or value.get("en")
    return value


# --- inline SVG maps -----------------------------------------------------------------


@dataclass(frozen=True)
class MapPoint:
    slug: str
    name: str
    country: str
    kind: str
    x: int  # whole SVG units: templates print integers the same in every
    y: int  # language (a float would get a decimal comma in Spanish)
    lat: float
    lon: float
    hub: bool = False


def project(
    places: Sequence[Place], width: int, height: int, pad: int = 24
) -> list[MapPoint]:
    """Equirectangular projection of ``places`` into a ``width``×``height`` box,
    keeping the aspect ratio (longitudes shrink by cos(latitude))."""
    if not places:
        return []
    lats = [float(p.latitude) for p in places]
    lons = [float(p.longitude) for p in places]
    scale_x = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * scale_x, 0.05)
    span_y = max(max(lats) - min(lats), 0.05)
    unit = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    used_w, used_h = span_x * unit, span_y * unit
    off_x, off_y = (width - used_w) / 2, (height - used_h) / 2
    points = []
    for place, lat, lon in zip(places, lats, lons, strict=True):
        points.append(
            MapPoint(
                slug=place.slug,
                name=place.name,
                country=place.country.code,
                kind=place.kind,
                x=round(off_x + (lon - min(lons)) * scale_x * unit),
                y=round(off_y + (max(lats) - lat) * unit),
                lat=lat,
                lon=lon,
                hub=place.slug in HUBS,
            )
        )
    return points


def polyline(points: Iterable[MapPoint]) -> str:
    return " ".join(f"{p.x},{p.y}" for p in points)


# --- home ----------------------------------------------------------------------------

ROUTE_MARGIN_DEG = 0.5
MAP_KINDS = {
    Place.Kind.CITY,
    Place.Kind.TOWN,
    Place.Kind.ISLAND,
    Place.Kind.BORDER_POST,
    Place.Kind.SITE,
    Place.Kind.VILLAGE,
}


def home_page() -> dict[str, Any]:
    places = list(Place.objects.select_related("country").order_by("slug"))
    hubs = [p for slug in HUBS for p in places if p.slug == slug]
    on_map: list[Place] = []
    if hubs:
        lat_lo = min(float(p.latitude) for p in hubs) - ROUTE_MARGIN_DEG
        lat_hi = max(float(p.latitude) for p in hubs) + ROUTE_MARGIN_DEG
        lon_lo = min(float(p.longitude) for p in hubs) - ROUTE_MARGIN_DEG
        lon_hi = max(float(p.longitude) for p in hubs) + ROUTE_MARGIN_DEG
        seen: set[tuple[float, float]] = set()
        for place in places:
            spot = (float(place.latitude), float(place.longitude))
            if (
                place.kind in MAP_KINDS
                and lat_lo <= spot[0] <= lat_hi
                and lon_lo <= spot[1] <= lon_hi
                and spot not in seen
            ):
                seen.add(spot)
                on_map.append(place)
    points = project(on_map, 640, 420)
    hub_points = [p for slug in HUBS for p in points if p.slug == slug]
    chains = (
        ValueChain.objects.annotate(
            n=Count("providers", filter=Q(providers__status=Provider.Status.APPROVED))
        )
        .prefetch_related("providers__home_place")
        .order_by("code")
    )
    value_chains = [
        {
            "name": chain.name,
            "providers": [
                {"name": p.name, "place": p.home_place.name}
                for p in chain.providers.all()
                if p.status == Provider.Status.APPROVED
            ],
        }
        for chain in chains
    ]
    return {
        "places": places,
        "map_points": points,
        "route_line": polyline(hub_points),
        "map_markers": [
            {"name": p.name, "lat": p.lat, "lon": p.lon, "hub": p.hub} for p in points
        ],
        "value_chains": value_chains,
        "crossings": crossing_list(),
        "crossing_kinds": Crossing.Kind,
    }


# --- documents -----------------------------------------------------------------------


def entry_requirement_for(
    nationality: str, destination: str
) -> EntryRequirement | None:
    """The entry rule of ``destination`` (country code) for ``nationality``: its own
    row, else its group's (Andean Community, or everyone else)."""
    code = (nationality or "").upper()
    rows = EntryRequirement.objects.filter(destination__code=destination)
    own = rows.filter(nationality=code).first() if code else None
    if own is not None:
        return own
    group = (
        EntryRequirement.Group.ANDEAN
        if code in ANDEAN_COMMUNITY
        else EntryRequirement.Group.ANY
    )
    return rows.filter(group=group).first()


def document_checklist(nationality: str, *, into_country: str) -> list[dict[str, Any]]:
    """What a traveller of ``nationality`` carries across the border into
    ``into_country``: from the admin-kept entry requirements (seeded from the route
    facts), each item with whether it is verified."""
    code = (nationality or "").upper()
    rule = entry_requirement_for(code, into_country)
    andean = rule.andean_id_accepted if rule else code in ANDEAN_COMMUNITY
    verified = rule.verified if rule else False
    items: list[dict[str, Any]] = []
    if andean:
        text = _(
            "Andean Community citizen: your national ID card (DNI / cédula) is "
            "enough as a tourist, up to 90 days; a passport also works."
        )
    else:
        text = _(
            "Passport valid for at least 6 more months (Bolivia asks for it on entry)."
        )
    items.append({"text": text, "verified": True})
    if code != into_country:
        visa = rule.visa_required if rule else None
        if visa is False:
            text = _("No tourist visa needed.")
        elif visa is True:
            text = _("A tourist visa is needed: get it before you reach the border.")
        else:
            text = _(
                "Tourist visa: it depends on your nationality, see the note below and "
                "check with a consulate before you travel."
            )
        items.append({"text": text, "verified": verified})
    if rule is not None and rule.notes:
        items.append({"text": rule.notes, "verified": rule.verified})
    items.append(
        {
            "text": _(
                "Keep your Peru entry record and get both stamps: the exit from one "
                "country and the entry into the other."
            ),
            "verified": True,
        }
    )
    items.append(
        {
            "text": _(
                "Carry clean, untorn US dollar notes; exchange stalls are at the "
                "border."
            ),
            "verified": True,
        }
    )
    return items


# --- the itinerary page --------------------------------------------------------------


def _offset_text(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = MINUS if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _moment(value: str | None, place: Place | None) -> dict[str, Any] | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    zone = _offset_text(moment)
    country = place.country.name if place is not None else ""
    return {
        "iso": value,
        "date": moment.date(),
        "time": moment.strftime("%H:%M"),
        "offset": zone,
        "country": country,
        "label": f"{moment:%H:%M} ({zone}, {country})" if country else zone,
    }


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        amount = number_format(self.amount, 2, use_l10n=True, force_grouping=True)
        return f"{amount} {self.currency}"


def _money(value: dict | None, rates: RateTable, show: str) -> dict[str, Any] | None:
    """A price as stored (the provider's currency) and in the display currency."""
    if not value:
        return None
    currency = value["currency"]
    own = Money(Decimal(value["amount"]), currency)
    shown = own
    if show != currency:
        try:
            minor = money_to_minor(value["amount"], currency)
            shown = Money(
                minor_to_decimal(rates.convert_minor(minor, currency, show), show),
                show,
            )
        except (MissingRateError, ValueError):
            shown = own
    return {"own": own, "shown": shown, "converted": shown.currency != currency}


def _places(slugs: set[str]) -> dict[str, Place]:
    return {
        p.slug: p
        for p in Place.objects.select_related("country").filter(slug__in=slugs)
    }


def _crossing_for(a: str, b: str, crossings: list[Crossing]) -> Crossing | None:
    for crossing in crossings:
        sides = {crossing.side_a.slug, crossing.side_b.slug}
        if sides == {a, b}:
            return crossing
    return None


def plan_page(plan: TripPlan, *, currency: str | None = None) -> dict[str, Any]:
    """Everything the itinerary page shows for ``plan``."""
    lang = language()
    request = plan.request or {}
    rates = exchange_rates_current()
    totals = plan.totals or {}
    show = currency if currency in CURRENCIES else totals.get("currency") or "PEN"
    slugs: set[str] = {request.get("origin", ""), request.get("destination", "")}
    for day in plan.days or []:
        for step in day["steps"]:
            slugs.update(
                s for s in (step.get("place"), step.get("from"), step.get("to")) if s
            )
        if day.get("night") and day["night"].get("place"):
            slugs.add(day["night"]["place"])
    places = _places(slugs)
    crossings = list(crossing_list())
    used_listings = {
        step.get("listing")
        for day in plan.days or []
        for step in day["steps"]
        if step.get("listing")
    }
    excluded = set(request.get("exclude") or [])
    activity_places = {
        step["place"]
        for day in plan.days or []
        for step in day["steps"]
        if step["kind"] == "activity" and step.get("place")
    }
    alternatives: dict[str, list[Listing]] = {}
    if activity_places:
        for listing in listing_list_bookable(kind=Listing.Kind.ACTIVITY).filter(
            place__slug__in=activity_places
        ):
            if listing.pk not in used_listings and listing.pk not in excluded:
                alternatives.setdefault(listing.place.slug, []).append(listing)
    seen_rides: set[str] = set()
    days = []
    nights = []
    for index, day in enumerate(plan.days or []):
        steps = []
        route: list[Place] = []
        for step in day["steps"]:
            start_place = places.get(step.get("from") or step.get("place") or "")
            end_place = places.get(step.get("to") or step.get("place") or "")
            for place in (start_place, end_place):
                if place is not None and (not route or route[-1].slug != place.slug):
                    route.append(place)
            tweakable = bool(
                step.get("listing")
                or step.get("ride")
                or (step.get("sight") and not step.get("stop"))
            )
            if step.get("ride"):
                tweakable = step["ride"] not in seen_rides
                seen_rides.add(step["ride"])
            view = {
                "id": step["id"],
                "kind": step["kind"],
                "title": localise(step.get("title"), lang),
                "start": _moment(step.get("start"), start_place),
                "end": _moment(step.get("end"), end_place),
                "place": start_place.name if start_place else "",
                "to": end_place.name if end_place and end_place != start_place else "",
                "provider": step.get("provider") or "",
                "community_run": step.get("community_run", False),
                "price": _money(step.get("price"), rates, show),
                "estimated": step.get("estimated", False),
                "sight": step.get("sight") or "",
                "included": step.get("included", False),
                "visits": [
                    localise(sight.get("title"), lang)
                    for sight in step.get("sights") or ()
                ],
                "stop": step.get("stop", False),
                "fee_known": step.get("fee_known", True),
                "free_entry": step["kind"] == "sight"
                and (step.get("price") or {}).get("amount") in ("0", "0.00"),
                "transfer": step.get("transfer", False),
                "day_trip": step.get("day_trip", False),
                "tweakable": tweakable and step["kind"] != "free",
                "alternatives": [
                    {
                        "id": listing.pk,
                        "title": listing.title_es
                        if lang == "es" and listing.title_es
                        else listing.title_en,
                    }
                    for listing in alternatives.get(step.get("place") or "", [])
                ]
                if step["kind"] == "activity"
                else [],
            }
            if step["kind"] == "border":
                crossing = _crossing_for(
                    step.get("from", ""), step.get("to", ""), crossings
                )
                into = end_place.country.code if end_place else ""
                from_country = start_place.country.code if start_place else ""
                view.update(
                    clock_change_h=int(step.get("clock_change_h") or 0),
                    clock_text=f"{int(step.get('clock_change_h') or 0):+d} h",
                    documents=localise(step.get("documents"), lang) or "",
                    international=bool(into and from_country and into != from_country),
                    hours=[
                        {
                            "place": h.place.name,
                            "span": f"{h.opens:%H:%M}–{h.closes:%H:%M}",
                            "zone": h.place.country.name,
                            "verified": h.verified,
                        }
                        for h in (crossing.hours.all() if crossing else [])
                    ],
                    checklist=document_checklist(
                        request.get("nationality", ""), into_country=into
                    )
                    if into and from_country and into != from_country
                    else [],
                )
            steps.append(view)
        night = day.get("night")
        night_view = None
        if night and night.get("place"):
            place = places.get(night["place"])
            stay = night.get("stay") or {}
            night_view = {
                "place": place.name if place else night["place"],
                "altitude_m": night.get("altitude_m"),
                "title": localise(stay.get("title"), lang) or "",
                "provider": stay.get("provider") or "",
                "price": _money(stay.get("price"), rates, show),
                "estimated": stay.get("estimated", False),
            }
            nights.append({"date": day["date"], **night_view})
        points = project(route, 240, 150, pad=20)
        days.append(
            {
                "number": index + 1,
                "date": dt.date.fromisoformat(day["date"]),
                "steps": steps,
                "night": night_view,
                "map": points,
                "map_line": polyline(points),
            }
        )
    return {
        "plan": plan,
        "trip": request,
        "route": route_summary(plan, places),
        "origin_name": _place_name(places, request.get("origin")),
        "destination_name": _place_name(places, request.get("destination")),
        "days": days,
        "nights": nights,
        "altitude": altitude_chart(nights),
        "totals": _totals_view(totals, rates, show),
        "currency": show,
        "currencies": [c for c in Currency.values if c in CURRENCIES],
        "rates": [
            {"currency": code, "per_usd": rates.per_usd[code], "set_on": day}
            for code, day in sorted(rates.set_on.items())
        ],
        "explanation": (plan.explanation or {}).get(lang, []),
        "warnings": (plan.warnings or {}).get(lang, []),
        "fixes": plan_fixes(plan) if plan.status == TripPlan.Status.INFEASIBLE else [],
    }


CROSSING_NAMES = {
    "kasani": gettext_lazy("Kasani, by Copacabana and the Tiquina strait"),
    "desaguadero": gettext_lazy("Desaguadero (old bridge)"),
    "cebaf": gettext_lazy("Desaguadero (CEBAF)"),
}


def route_summary(plan: TripPlan, places: dict[str, Place]) -> dict[str, Any]:
    """The towns the plan sleeps in, in order, and where it crosses the border."""
    towns: list[str] = []
    request = plan.request or {}
    for slug in [
        request.get("origin"),
        *((d.get("night") or {}).get("place") for d in plan.days or []),
        request.get("destination"),
    ]:
        if not slug:
            continue
        name = _place_name(places, slug)
        if not towns or towns[-1] != name:
            towns.append(name)
    crossing = (plan.route or {}).get("crossing")
    return {
        "towns": towns,
        "crossing": str(CROSSING_NAMES[crossing]) if crossing in CROSSING_NAMES else "",
    }


def _place_name(places: dict[str, Place], slug: str | None) -> str:
    place = places.get(slug or "")
    return place.name if place else (slug or "?")


def _totals_view(totals: dict, rates: RateTable, show: str) -> dict[str, Any] | None:
    if not totals:
        return None
    converted = totals.get("in") or {}
    return {
        "in": [
            {"currency": c, "amount": Decimal(converted[c])}
            for c in CURRENCIES
            if c in converted
        ],
        "shown": Decimal(converted[show]) if show in converted else None,
        "by_currency": [
            Money(Decimal(m["amount"]), m["currency"])
            for m in totals.get("by_currency") or []
        ],
        "estimated": _money(totals.get("estimated"), rates, show),
        "budget": _money(totals.get("budget"), rates, show),
        "persons": totals.get("persons"),
    }


def altitude_chart(nights: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Coordinates of an inline SVG line chart of the altitude of each night."""
    values = [n for n in nights if n.get("altitude_m") is not None]
    if not values:
        return None
    width, height, left, top, bottom = 560, 180, 56, 16, 40
    highest = max(n["altitude_m"] for n in values)
    lowest = min(n["altitude_m"] for n in values)
    hi = int(math.ceil((highest + 100) / 100.0) * 100)
    lo = max(0, int(math.floor((lowest - 300) / 100.0) * 100))
    step = (width - left - 16) / max(len(values) - 1, 1)
    plot_h = height - top - bottom
    points = []
    for i, night in enumerate(values):
        x = left + i * step if len(values) > 1 else left + (width - left) / 2
        y = top + (hi - night["altitude_m"]) / max(hi - lo, 1) * plot_h
        points.append(
            {
                "x": round(x),
                "y": round(y),
                "altitude_m": night["altitude_m"],
                "place": night["place"],
                "date": night["date"],
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "bottom_y": height - bottom,
        "top_y": top,
        "hi": hi,
        "lo": lo,
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


# --- one-click fixes of an infeasible plan -------------------------------------------


def plan_fixes(plan: TripPlan) -> list[dict[str, str]]:
    """The one-click fixes offered when no plan fits: the planner's own, each
    solved before it was offered (``code`` and a label in the page's language)."""
    lang = language()
    return [
        {"code": fix["code"], "label": localise(fix["label"], lang)}
        for fix in plan.fixes or []
    ]


def fixed_request(plan: TripPlan, code: str) -> dict[str, Any] | None:
    """The request of ``plan`` changed by its fix ``code``; None for a code the
    plan does not offer."""
    for fix in plan.fixes or []:
        if fix["code"] == code:
            data = dict(plan.request or {})
            data.update(fix["changes"])
            return data
    return None
