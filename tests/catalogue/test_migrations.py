"""Catalogue migrations on a database that already holds data."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from catalogue.models import RouteLeg


@pytest.mark.django_db(transaction=True)
def test_migration_fills_the_first_post_of_stored_legs():
    """Legs stored before the field existed get the side in the origin's country
    (not the nearer point, which cannot tell the Kasani posts apart)."""
    before = [("catalogue", "0003_entry_requirement")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        _legs_before_the_field(executor.loader.project_state(before).apps)
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    firsts = dict(RouteLeg.objects.values_list("slug", "crossing_first_side__slug"))
    assert firsts == {
        "puno-copacabana": "kasani-pe",
        "copacabana-puno": "kasani-bo",
        "copacabana-la-paz": "san-pedro",
        "la-paz-copacabana": "san-pablo",
    }
    # The constraint is in force after the fill.
    with pytest.raises(IntegrityError), transaction.atomic():
        RouteLeg.objects.filter(slug="puno-copacabana").update(crossing_first_side=None)


def _legs_before_the_field(apps) -> None:
    """Kasani's posts at one point, Tiquina's banks in one country, four legs."""
    fact = {"source": "test", "verified": True}
    countries = {
        code: apps.get_model("catalogue", "Country").objects.create(
            code=code,
            name_en=code,
            name_es=code,
            currency=currency,
            timezone=zone,
            **fact,
        )
        for code, currency, zone in (
            ("PE", "PEN", "America/Lima"),
            ("BO", "BOB", "America/La_Paz"),
        )
    }
    places = {
        slug: apps.get_model("catalogue", "Place").objects.create(
            slug=slug,
            name_en=slug,
            name_es=slug,
            country=countries[code],
            kind="town",
            latitude=lat,
            longitude=lon,
            altitude_m=3800,
            **fact,
        )
        for slug, code, lat, lon in (
            ("puno", "PE", "-15.84", "-70.02"),
            ("copacabana", "BO", "-16.17", "-69.08"),
            ("kasani-pe", "PE", "-16.2097", "-69.0847"),
            ("kasani-bo", "BO", "-16.2097", "-69.0847"),  # the same point
            ("san-pedro", "BO", "-16.2217", "-68.853"),
            ("san-pablo", "BO", "-16.218", "-68.8428"),
            ("la-paz", "BO", "-16.5", "-68.15"),
        )
    }
    crossings = {
        slug: apps.get_model("catalogue", "Crossing").objects.create(
            slug=slug,
            kind="border",
            name_en=slug,
            name_es=slug,
            side_a=places[a],
            side_b=places[b],
            typical_minutes=30,
            **fact,
        )
        for slug, a, b in (
            ("kasani", "kasani-pe", "kasani-bo"),
            ("tiquina", "san-pedro", "san-pablo"),
        )
    }
    for origin, destination, crossing in (
        ("puno", "copacabana", "kasani"),
        ("copacabana", "puno", "kasani"),
        ("copacabana", "la-paz", "tiquina"),
        ("la-paz", "copacabana", "tiquina"),
    ):
        apps.get_model("catalogue", "RouteLeg").objects.create(
            slug=f"{origin}-{destination}",
            origin=places[origin],
            destination=places[destination],
            mode="bus",
            duration_min=200,
            crossing=crossings[crossing],
            crossing_offset_min=20,
            **fact,
        )
