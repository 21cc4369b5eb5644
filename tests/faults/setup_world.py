"""Prepare a fault stack's own database (run as a subprocess with DATABASE_URL and
REDIS_URL of the stack): migrate, the real route with bookable offers, a provider's
big homestay, an agency with an API key and a webhook to ``RECEIVER_URL``. Prints
the ids the load needs, as JSON.

    python -m tests.faults.setup_world http://127.0.0.1:PORT/hooks
"""

from __future__ import annotations

import io
import json
import os
import sys


def main(receiver_url: str) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tourism.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_route", stdout=io.StringIO())

    from agencies.services import agency_create
    from agencies.webhooks import webhook_register
    from tests.itineraries.factories import make_route_offers
    from tests.providers.factories import make_listing, make_member, make_provider

    make_route_offers()
    provider = make_provider(place="puno")
    make_member(provider, email="rosa@lakeside.example")
    stay = make_listing(
        provider,
        title_en="Fault-test homestay",
        default_capacity=100_000,
        booking_cutoff_hours=0,
        cancellation_cutoff_hours=0,
    )
    agency, key = agency_create(name="Fault Tours", contact_email="ops@fault.example")
    webhook_register(agency=agency, url=receiver_url)
    return {"api_key": key.key, "product_id": str(stay.pk)}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1])) + "\n")
