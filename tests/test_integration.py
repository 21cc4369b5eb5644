"""Redis and a real Celery worker process (run by bin/test against real servers)."""

import os

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from catalogue.models import CatalogueAudit, Crossing
from catalogue.services import catalogue_seed, crossing_status_set
from catalogue.tasks import catalogue_audit_run_task
from tourism.celery_app import app

pytestmark = [pytest.mark.integration]


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_audit_task(celery_worker, small_catalogue_data):
    """A task sent through Redis runs in the worker process and writes to the DB."""
    catalogue_seed(data=small_catalogue_data)
    crossing_status_set(
        crossing=Crossing.objects.get(slug="kasani"), status="closed", note="strike"
    )
    result = catalogue_audit_run_task.delay()
    audit_id = result.get(timeout=60)
    assert result.successful()
    audit = CatalogueAudit.objects.get(pk=audit_id)
    assert [f["kind"] for f in audit.findings] == ["crossing_closed"]
    assert audit.unverified_counts["Departures"] == 1


def test_beat_schedule_names_tasks_the_worker_knows(celery_worker):
    """Every periodic task in the beat schedule is registered on the worker."""
    registered = app.control.inspect(
        destination=[celery_worker], timeout=5
    ).registered()
    known = set(registered[celery_worker])
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled and scheduled <= known


def test_cache_is_redis():
    """The Django cache writes to the Redis server in REDIS_URL."""
    cache.set("probe", {"ok": 1}, timeout=30)
    assert cache.get("probe") == {"ok": 1}
    raw = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert any(b"probe" in key for key in raw.keys("*probe*"))
