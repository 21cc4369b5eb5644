"""Fill the post reached first of legs stored before 0004 (their own migration: on
PostgreSQL, rows updated with deferred foreign-key checks cannot be followed by an
ALTER TABLE in the same transaction)."""

from django.db import migrations


def legs_first_side_fill(apps, schema_editor):
    """Legs stored before the field existed: the post reached first is the side in
    the origin's country (Kasani's two posts share one point, so distance cannot
    tell them apart); within one country (Tiquina) the side nearer the origin."""
    RouteLeg = apps.get_model("catalogue", "RouteLeg")
    legs = RouteLeg.objects.filter(
        crossing__isnull=False, crossing_first_side__isnull=True
    ).select_related("origin", "crossing__side_a", "crossing__side_b")
    for leg in legs:
        a, b = leg.crossing.side_a, leg.crossing.side_b
        if a.country_id != b.country_id:
            first = a if a.country_id == leg.origin.country_id else b
        else:
            lat, lon = leg.origin.latitude, leg.origin.longitude
            near_a = (a.latitude - lat) ** 2 + (a.longitude - lon) ** 2
            near_b = (b.latitude - lat) ** 2 + (b.longitude - lon) ** 2
            first = a if near_a <= near_b else b
        leg.crossing_first_side = first
        leg.save(update_fields=["crossing_first_side"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0004_sights_transfers_leg_first_side"),
    ]

    operations = [
        migrations.RunPython(legs_first_side_fill, migrations.RunPython.noop),
    ]
