"""Demo providers and listings (``python manage.py seed_demo``), marked is_demo."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalogue.models import Place, RouteLeg, Sight
from catalogue.services import SeedError, money_to_minor
from providers.models import Listing, ListingUnit, Provider, ValueChain

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo.yaml"

LISTING_FIELDS = (
    "stay_type",
    "rooms",
    "beds",
    "duration_min",
    "start_times",
    "days",
    "season_start",
    "season_end",
    "min_party",
    "max_party",
    "difficulty",
    "strenuous",
    "altitude_m",
    "languages",
    "confirmation",
    "cancellation_cutoff_hours",
    "cancellation_refund_percent",
    "description_en",
    "description_es",
)


def _clean_save(obj: Any, where: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise SeedError(f"{where}: {exc.message_dict}") from exc
    obj.save()


def _sights(item: dict[str, Any], sights: dict[str, Sight], where: str) -> list[Sight]:
    unknown = [slug for slug in item["sights"] if slug not in sights]
    if unknown:
        raise SeedError(f"{where}: unknown sights {unknown} (run seed_route)")
    return [sights[slug] for slug in item["sights"]]


@transaction.atomic
def demo_seed(*, data: dict[str, Any]) -> Counter[str]:
    """Create the demo providers, listings and units that are missing; idempotent."""
    created: Counter[str] = Counter()
    places = {p.slug: p for p in Place.objects.select_related("country")}
    chains = {c.code: c for c in ValueChain.objects.all()}
    sights = {s.slug: s for s in Sight.objects.all()}
    for raw in data.get("providers", []):
        where = f"demo provider {raw['slug']}"
        home = places.get(raw["home_place"])
        if home is None:
            raise SeedError(
                f"{where}: unknown place {raw['home_place']!r} (run seed_route)"
            )
        provider = Provider.objects.filter(slug=raw["slug"]).first()
        if provider is None:
            provider = Provider(
                slug=raw["slug"],
                name=raw["name"],
                kind=raw["kind"],
                country=home.country,
                home_place=home,
                community_run=raw.get("community_run", False),
                contact_name=raw["contact_name"],
                email=raw["email"],
                phone=raw.get("phone", ""),
                description_en=raw.get("description_en", ""),
                description_es=raw.get("description_es", ""),
                status=Provider.Status.APPROVED,
                approved_at=timezone.now(),
                is_demo=True,
            )
            _clean_save(provider, where)
            provider.value_chains.set([chains[c] for c in raw.get("value_chains", [])])
            created["providers"] += 1
        for item in raw.get("listings", []):
            lwhere = f"{where} listing {item['title_en']!r}"
            existing = Listing.objects.filter(
                provider=provider, title_en=item["title_en"]
            ).first()
            if existing is not None:
                # Listings seeded before they named their sights get them now
                # (never over a provider's own choice).
                if item.get("sights") and not existing.sights.exists():
                    existing.sights.set(_sights(item, sights, where))
                continue
            place = places.get(item.get("place", raw["home_place"]))
            if place is None:
                raise SeedError(f"{lwhere}: unknown place")
            listing = Listing(
                provider=provider,
                kind=item["kind"],
                place=place,
                title_en=item["title_en"],
                title_es=item["title_es"],
                tags=item.get("tags", []),
                currency=item["currency"],
                default_capacity=item["default_capacity"],
                is_demo=True,
                **{f: item[f] for f in LISTING_FIELDS if f in item},
            )
            if "end_place" in item:
                listing.end_place = places.get(item["end_place"])
                if listing.end_place is None:
                    raise SeedError(
                        f"{lwhere}: unknown end place {item['end_place']!r}"
                    )
            if "route_leg" in item:
                listing.route_leg = RouteLeg.objects.get(slug=item["route_leg"])
            for key in ("opens", "closes"):
                if key in item:
                    setattr(listing, key, dt.time.fromisoformat(item[key]))
            _clean_save(listing, lwhere)
            if listing.route_leg_id:
                listing.departures.set(listing.route_leg.departures.all())
            if item.get("sights"):
                listing.sights.set(_sights(item, sights, lwhere))
            created["listings"] += 1
            for unit in item["units"]:
                _clean_save(
                    ListingUnit(
                        listing=listing,
                        code=unit["code"],
                        name_en=unit["name_en"],
                        name_es=unit["name_es"],
                        min_age=unit.get("min_age"),
                        max_age=unit.get("max_age"),
                        price_minor=money_to_minor(unit["price"], listing.currency),
                    ),
                    f"{lwhere} unit {unit['code']}",
                )
                created["units"] += 1
    return created


def demo_seed_from_file(*, path: Path = DEMO_DATA) -> Counter[str]:
    with path.open(encoding="utf-8") as handle:
        return demo_seed(data=yaml.safe_load(handle))
