"""Fixtures for the plan API: the real route catalogue and a few bookable offers.

Seeding the route takes about half a second, so modules whose tests only read
(bad input, a solved plan read back) seed it once in a module-wide transaction that
is rolled back at the end of the module; each test runs in a savepoint inside it.
Modules of ``transaction=True`` tests (POST answering 201, the real worker) seed per
test with ``route``/``offers``.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from tests.itineraries.factories import make_route_offers
from tests.support.ratelimits import ratelimits_forget


def throttle_reset() -> None:
    """Forget the rate limits' counts (plans per client, solver runs), as every
    test starts with (tests/conftest.py)."""
    ratelimits_forget()


def seed_route() -> None:
    call_command("seed_route", stdout=StringIO())


@pytest.fixture
def route(db) -> None:
    """The real route catalogue (catalogue/data/route.yaml), as seed_route loads it."""
    seed_route()


@pytest.fixture
def offers(route):
    """Approved providers' stays and experiences in the four hubs."""
    return make_route_offers()


@pytest.fixture(scope="module")
def module_transaction(django_db_setup, django_db_blocker) -> Iterator[None]:
    """A transaction around the whole module, rolled back at its end: what the
    module's fixtures create is seen by its (non-transactional) tests only."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)
