"""Shared fixtures.

Markers: ``postgres`` tests need PostgreSQL, ``integration`` tests need Redis and
start a real Celery worker process. Without those servers the tests are skipped,
unless ``--require-services`` is given (``bin/test`` gives it): then a missing server
is an error, so CI can never pass with them silently skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import translation

from tests.support.ratelimits import ratelimits_forget
from tourism import localcache

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.catalogue.fixtures"]

# Where the integration tests' Celery worker writes the emails it sends.
WORKER_MAIL_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / f"worker-mail-{os.getpid()}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-services",
        action="store_true",
        help="fail instead of skipping when PostgreSQL or Redis is not configured",
    )


def _on_postgres() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    missing = []
    if not _on_postgres():
        missing.append(("postgres", "needs DATABASE_URL=postgres://…"))
    if not os.environ.get("REDIS_URL"):
        missing.append(("integration", "needs REDIS_URL=redis://…"))
    for marker, reason in missing:
        marked = [item for item in items if marker in item.keywords]
        if marked and config.getoption("--require-services"):
            raise pytest.UsageError(
                f"{len(marked)} '{marker}' tests selected but {reason}"
            )
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _test_settings(
    settings, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[None]:
    """HTTP test client without HTTPS redirects, plain static storage, media in a tmp
    folder; Celery eager except in integration tests, which use the real worker."""
    from tourism.celery_app import app

    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
    # The per-process caches on in every run (one process: the local-memory cache
    # carries their tokens); rows cached belong to the test that loaded them.
    settings.LOCAL_CACHES = True
    localcache.clear_all()
    # The rate limits count afresh in each test (tests/support/ratelimits.py).
    ratelimits_forget()
    eager = "integration" not in request.keywords
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    translation.activate(settings.LANGUAGE_CODE)
    yield
    app.conf.task_always_eager = previous
    # LocaleMiddleware leaves the last request's language active in the thread.
    translation.deactivate()


def _test_database_url() -> str:
    """DATABASE_URL pointing at the test database pytest-django created."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A real ``celery worker`` process on the test Redis and the test database."""
    from tourism.celery_app import app

    hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        # What the worker sends, as files tests can read (WORKER_MAIL_DIR).
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(WORKER_MAIL_DIR),
        "PYTHONUNBUFFERED": "1",
    }
    log = (Path(os.environ.get("TMPDIR", "/tmp")) / f"celery-{hostname}.log").open("w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tourism.celery_app",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            # The default queue and the syncs' own (CELERY_TASK_ROUTES).
            "-Q",
            f"{app.conf.task_default_queue},{django_settings.SYNC_TASK_QUEUE}",
            "-n",
            hostname,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"Celery worker did not start:\n{log.read()[-4000:]}")
        yield hostname
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
