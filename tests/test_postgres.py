"""PostgreSQL-specific checks (run by bin/test against a real server)."""

import pytest
from django.db import IntegrityError, connection, transaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_runs_on_postgresql_through_psycopg3():
    """The production database path: PostgreSQL through psycopg 3."""
    import psycopg

    assert connection.vendor == "postgresql"
    assert connection.Database is psycopg
    assert psycopg.__version__.startswith("3.")
    assert connection.pg_version >= 130000


def test_check_constraints_live_in_the_database(small_catalogue):
    """Rows written around the ORM still cannot break the catalogue's rules."""
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE catalogue_departure SET seats = 0 WHERE code = 'am'")
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(
            "UPDATE catalogue_routeleg SET crossing_offset_min = NULL "
            "WHERE slug = 'puno-copacabana-bus'"
        )
