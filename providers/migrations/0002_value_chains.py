from django.db import migrations

VALUE_CHAINS = [
    ("camelids", "Camelids (alpaca, llama)", "Camélidos (alpaca, llama)"),
    ("native-potatoes", "Native potatoes", "Papas nativas"),
    ("coffee", "Coffee", "Café"),
    ("community-tourism", "Community-based tourism", "Turismo rural comunitario"),
    ("amazonian-fruits", "Amazonian fruits", "Frutos amazónicos"),
    ("fish-farming", "Fish farming", "Piscicultura"),
    ("transport", "Transport", "Transporte"),
]


def add_value_chains(apps, schema_editor):
    ValueChain = apps.get_model("providers", "ValueChain")
    for code, name_en, name_es in VALUE_CHAINS:
        ValueChain.objects.update_or_create(
            code=code, defaults={"name_en": name_en, "name_es": name_es}
        )


class Migration(migrations.Migration):
    dependencies = [("providers", "0001_providers_listings_availability")]
    operations = [migrations.RunPython(add_value_chains, migrations.RunPython.noop)]
