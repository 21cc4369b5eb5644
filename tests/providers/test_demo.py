"""Demo data: believable providers on the real route, clearly marked, idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command

from providers.models import Listing, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_route", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_demo_covers_the_route_and_is_marked(demo):
    """Homestays on the islands and hotels in the cities, all marked demo."""
    assert "Demo data added" in demo
    stays = set(
        Listing.objects.filter(kind="stay").values_list("place__slug", flat=True)
    )
    assert {"amantani", "taquile", "llachon", "isla-del-sol-yumani"} <= stays
    assert {"cusco", "puno", "copacabana", "la-paz"} <= stays
    assert not Provider.objects.filter(is_demo=False).exists()
    assert not Listing.objects.filter(is_demo=False).exists()
    assert all("(demo)" in p.name for p in Provider.objects.all())
    assert Listing.objects.filter(kind="transport", departures__isnull=False).exists()


def test_demo_seed_is_idempotent(demo):
    """A second run adds nothing."""
    counts = (Provider.objects.count(), Listing.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert counts == (Provider.objects.count(), Listing.objects.count())
