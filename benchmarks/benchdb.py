"""Throwaway databases for the benchmarks: a fresh PostgreSQL database next to the
one ``DATABASE_URL`` names (``bin/with-services`` starts a throwaway server), or a
fresh SQLite file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def admin_sql(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(
    prefix: str, sqlite_file: Path, *, keep: bool, other_url_as_given: bool
) -> tuple[str, Callable[[], None]]:
    """Point DATABASE_URL at a fresh database: ``<prefix>_<random>`` on the
    PostgreSQL server of DATABASE_URL, else (unset) a fresh ``sqlite_file``; any
    other DATABASE_URL is used as given when ``other_url_as_given``, else refused.
    Returns the database's label and a cleanup (which keeps it with ``keep``)."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        admin_sql(base, f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = with_database(base, name)

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            if not keep:
                admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"PostgreSQL, fresh database {name}", drop
    if base:
        if other_url_as_given:
            return f"{base} (as given; synthetic catalogue replaced)", lambda: None
        raise SystemExit(
            "DATABASE_URL must be postgres://… or unset (a fresh SQLite file)"
        )
    files = [sqlite_file.with_name(sqlite_file.name + s) for s in ("", "-wal", "-shm")]
    for path in files:
        path.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{sqlite_file}"

    def remove() -> None:
        from django.db import connections

        connections.close_all()
        if not keep:
            for path in files:
                path.unlink(missing_ok=True)

    return f"SQLite, fresh file {sqlite_file}", remove
