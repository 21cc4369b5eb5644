"""Settings come from the environment (each case in a fresh interpreter)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
from tourism.celery_app import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "host": settings.DATABASES["default"].get("HOST"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": app.conf.broker_url,
    "eager": app.conf.task_always_eager,
    "debug": settings.DEBUG,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "local_caches": settings.LOCAL_CACHES,
}))
"""


def _settings(**env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "LOCAL_CACHES")
        )
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "tourism.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_needs_no_server():
    """No variables: SQLite file, local-memory cache, eager tasks, DEBUG off."""
    s = _settings()
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("db.sqlite3")
    assert s["cache"].endswith("LocMemCache")
    assert s["eager"] is True
    assert s["debug"] is False and s["ssl_redirect"] is True
    assert s["local_caches"] is False  # nothing shared between processes


def test_database_url_switches_to_postgresql():
    """DATABASE_URL=postgres://… selects the PostgreSQL backend (psycopg 3)."""
    s = _settings(DATABASE_URL="postgres://u:p@db.internal:5432/tourism")
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("tourism", "db.internal")


def test_redis_url_switches_broker_and_cache():
    """REDIS_URL makes Redis the broker and the cache, and tasks stop being eager."""
    s = _settings(REDIS_URL="redis://cache.internal:6379/0")
    assert s["broker"] == "redis://cache.internal:6379/0"
    assert s["cache"].endswith("RedisCache")
    assert s["eager"] is False
    assert s["local_caches"] is True


def test_debug_only_when_asked():
    """DJANGO_DEBUG=true turns DEBUG on and relaxes the HTTPS redirect."""
    s = _settings(DJANGO_DEBUG="true")
    assert s["debug"] is True and s["ssl_redirect"] is False


def test_solver_limit_stays_below_the_plan_task_soft_limit():
    """The planner stops by itself before Celery's soft limit would interrupt it."""
    from django.conf import settings

    from itineraries.tasks import plan_solve_task

    assert plan_solve_task.soft_time_limit == settings.PLAN_TASK_SOFT_TIME_LIMIT
    assert plan_solve_task.soft_time_limit > settings.SOLVER_TIME_LIMIT_SECONDS
    assert plan_solve_task.time_limit > plan_solve_task.soft_time_limit


def test_a_solver_limit_above_the_task_limit_is_refused():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOLVER_")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "tourism.settings",
            "SOLVER_TIME_LIMIT_SECONDS": "60",
            "PLAN_TASK_SOFT_TIME_LIMIT": "30",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SOLVER_TIME_LIMIT_SECONDS must stay below" in result.stderr


def test_an_outbox_lease_shorter_than_recording_a_send_is_refused():
    """A claim must outlive the retries of recording a sent e-mail, or the sweep
    would send it again while the first worker still records it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OUTBOX_")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "tourism.settings",
            "OUTBOX_LEASE_SECONDS": "60",
            "OUTBOX_MARK_RETRY_SECONDS": "60",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "OUTBOX_LEASE_SECONDS must exceed" in result.stderr


def test_workers_retry_the_broker_forever_and_close_a_channel_once():
    """The worker never gives up on the broker, and a connection's default channel
    is forgotten once closed, so closing the connection again (kombu's exit on a
    Redis loss under load) does not close it twice."""
    from kombu import Connection

    from tourism.celery_app import app

    assert app.conf.broker_connection_retry_on_startup is True
    assert app.conf.broker_connection_max_retries is None
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True
    with Connection("memory://") as connection:
        channel = connection.default_channel
        connection.maybe_close_channel(channel)
        assert connection._default_channel is None
        connection.close()  # nothing left to close twice
