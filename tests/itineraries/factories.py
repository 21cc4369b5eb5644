"""Bookable stays and experiences on the real route, for plan tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from providers.models import Listing
from tests.providers.factories import make_listing, make_provider

# (place, English title, Spanish title, community run)
STAYS = (
    ("cusco", "Casa San Blas", "Casa San Blas (hostal)", False),
    ("puno", "Lakeside family rooms", "Habitaciones familiares junto al lago", True),
    ("copacabana", "Hostal Sol y Luna", "Hostal Sol y Luna (Copacabana)", True),
    ("la-paz", "Sopocachi guesthouse", "Casa de huéspedes en Sopocachi", False),
)
# (place, English title, Spanish title, tags, start times, duration)
ACTIVITIES = (
    (
        "puno",
        "Weaving afternoon with the Quispe family",
        "Tarde de tejido con la familia Quispe",
        ["textiles", "culture"],
        ["14:00"],
        150,
    ),
    (
        "puno",
        "Cooking pachamanca by the lake",
        "Cocina de pachamanca junto al lago",
        ["food", "lake"],
        ["10:00", "16:00"],
        120,
    ),
    (
        "copacabana",
        "Sunset walk up Cerro Calvario",
        "Caminata al atardecer al Cerro Calvario",
        ["nature", "hiking"],
        ["16:30"],
        90,
    ),
    (
        "copacabana",
        "Totora boat building workshop",
        "Taller de construcción de balsas de totora",
        ["lake", "culture"],
        ["09:30", "14:30"],
        120,
    ),
    (
        "cusco",
        "San Pedro market food walk",
        "Recorrido gastronómico por el mercado San Pedro",
        ["food"],
        ["10:00"],
        120,
    ),
    (
        "la-paz",
        "Witches' market and cable car ride",
        "Mercado de las Brujas y teleférico",
        ["culture"],
        ["10:00", "15:00"],
        120,
    ),
)


def future_start(days_ahead: int = 30) -> dt.date:
    """A start date well past every booking cut-off."""
    return timezone.localdate() + dt.timedelta(days=days_ahead)


def make_route_offers() -> dict[str, list[Listing]]:
    """Approved providers with a stay in every hub and experiences in each of them
    (prices in the country's currency, from the factory's adult/child units)."""
    made: dict[str, list[Listing]] = {"stay": [], "activity": []}
    for place, title_en, title_es, community in STAYS:
        provider = make_provider(place=place, community_run=community)
        made["stay"].append(
            make_listing(
                provider,
                kind=Listing.Kind.STAY,
                title_en=title_en,
                title_es=title_es,
                stay_type=Listing.StayType.HOMESTAY,
                tags=["culture"],
                default_capacity=8,
            )
        )
    for place, title_en, title_es, tags, times, minutes in ACTIVITIES:
        provider = make_provider(place=place, community_run=True)
        made["activity"].append(
            make_listing(
                provider,
                kind=Listing.Kind.ACTIVITY,
                title_en=title_en,
                title_es=title_es,
                tags=tags,
                start_times=times,
                duration_min=minutes,
                default_capacity=10,
            )
        )
    return made


def make_transport_offer(
    leg: str = "puno-copacabana-bus", *, capacity: int = 20
) -> Listing:
    """A provider's bookable seats on every departure of a route leg: a plan riding
    that leg books them (a trip booking holds them) instead of paying on board."""
    from catalogue.models import RouteLeg

    route_leg = RouteLeg.objects.select_related("origin").get(slug=leg)
    provider = make_provider(place=route_leg.origin.slug, community_run=False)
    listing = make_listing(
        provider,
        kind=Listing.Kind.TRANSPORT,
        title_en=f"Seats on the {route_leg.origin.slug} bus",
        title_es="Asientos en el bus",
        route_leg=route_leg,
        default_capacity=capacity,
    )
    listing.departures.set(route_leg.departures.all())
    return listing
