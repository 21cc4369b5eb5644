"""Two places on Isla del Sol for the tests of listings that end elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from catalogue.models import Country, Place


@dataclass
class Island:
    yumani: Place
    challapampa: Place


def make_island() -> Island:
    """Yumani (south) and Challapampa (north) on Isla del Sol, in Bolivia (on top of
    the small test catalogue, which has Bolivia but not the island)."""
    bolivia = Country.objects.get(code="BO")
    common = {"country": bolivia, "kind": "village", "source": "test", "verified": True}
    return Island(
        yumani=Place.objects.create(
            slug="isla-del-sol-yumani",
            name_en="Yumani (Isla del Sol)",
            name_es="Yumani (Isla del Sol, sur)",
            latitude="-16.035700",
            longitude="-69.148400",
            altitude_m=4000,
            **common,
        ),
        challapampa=Place.objects.create(
            slug="isla-del-sol-challapampa",
            name_en="Challapampa (Isla del Sol)",
            name_es="Challapampa (Isla del Sol, norte)",
            latitude="-15.997500",
            longitude="-69.183100",
            altitude_m=3815,
            **common,
        ),
    )
