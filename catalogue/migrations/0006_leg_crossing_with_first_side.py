from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0005_legs_first_side_fill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='routeleg',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('crossing__isnull', True), ('crossing_first_side__isnull', True)), models.Q(('crossing__isnull', False), ('crossing_first_side__isnull', False)), _connector='OR'), name='leg_crossing_with_first_side'),
        ),
    ]
