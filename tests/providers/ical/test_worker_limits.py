"""Hostile feeds through real Celery workers on Redis and PostgreSQL: the worker
that syncs stays small, and the task's time limits, soft and hard, end up recorded
on the feed."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from providers.sync.services import SyncStatus, calendar_feed_sweep_stuck, stuck_after
from providers.tasks import calendar_feed_sync_task
from tests.conftest import ROOT, _test_database_url
from tests.providers.ical.conftest import SECONDLY, TINY_EVENTS, make_ics

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _colon, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def worker_stats(hostname: str) -> dict:
    from tourism.celery_app import app

    stats = app.control.inspect([hostname], timeout=5).stats() or {}
    return stats[hostname]


def wait_for(condition, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_the_worker_that_syncs_stays_small(celery_worker, stay, make_feed):
    """The session's worker process syncs the 196-byte SECONDLY feed and 30,000
    tiny events (the instance cap refuses both): each failure comes back recorded,
    the parsing happened in children, and the worker's own peak resident memory
    hardly moved."""
    pid = worker_stats(celery_worker)["pid"]
    before = memory_kib(pid)
    flood = make_feed(stay, SECONDLY, path="/flood.ics")
    many = make_feed(stay, TINY_EVENTS, path="/many.ics")
    results = [
        calendar_feed_sync_task.delay(feed.pk).get(timeout=120)
        for feed in (flood, many)
    ]
    after = memory_kib(pid)
    assert [r["status"] for r in results] == [SyncStatus.FAILED] * 2
    assert "repeats too often" in results[0]["message"]
    assert "more than 20000 events" in results[1]["message"]
    for feed in (flood, many):
        feed.refresh_from_db()
        assert feed.consecutive_failures == 1 and feed.last_error
    # Parsing 30,000 events took the child tens of MB; the worker did not grow.
    assert results[1]["parse_peak_rss_kib"] > 0
    assert after["VmHWM"] - before["VmHWM"] < 20 * 1024
    assert after["VmRSS"] - before["VmRSS"] < 20 * 1024


@pytest.fixture(scope="module")
def prefork_worker(django_db_setup, django_db_blocker) -> Iterator[tuple[str, str]]:
    """A prefork worker (the pool kind that enforces time limits, as in
    docker-compose) on a queue of its own, feeds allowed 16 MB beyond the worker's
    size. Time limits travel in each message (the tests set them per call); the
    worker's own default soft limit is off."""
    from tourism.celery_app import app

    queue = f"sync-limits-{uuid.uuid4().hex[:8]}"
    hostname = f"{queue}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        "ICAL_SYNC_SOFT_TIME_LIMIT": "0",
        "ICAL_PARSE_MEMORY_MB": "16",
        "PYTHONUNBUFFERED": "1",
    }
    log = (Path(os.environ.get("TMPDIR", "/tmp")) / f"celery-{queue}.log").open("w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tourism.celery_app",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-Q",
            queue,
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
        yield hostname, queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def upcoming(stay):
    start = timezone.now().astimezone(stay.place.zone).date() + dt.timedelta(days=7)
    return make_ics(("r1", start, start + dt.timedelta(days=2)))


def test_soft_time_limit_outside_the_parser_is_recorded(
    prefork_worker, stay, make_feed, upcoming
):
    """A server that answers after 6 s (inside the 10 s fetch limit) outlasts a
    3 s soft limit: the worker records the failure with backoff."""
    _hostname, queue = prefork_worker
    feed = make_feed(stay, upcoming, delay_s=6)
    result = calendar_feed_sync_task.apply_async(
        (feed.pk,), queue=queue, soft_time_limit=3, time_limit=60
    )
    outcome = result.get(timeout=60)
    assert outcome["status"] == SyncStatus.FAILED
    assert "took longer than its time limit" in outcome["message"]
    feed.refresh_from_db()
    assert "took longer than its time limit" in feed.last_error
    assert feed.consecutive_failures == 1 and feed.sync_started_at is None
    assert feed.next_run_at > timezone.now() + dt.timedelta(minutes=25)


def test_killed_sync_is_recorded_by_the_sweep(
    prefork_worker, stay, make_feed, feed_server, upcoming
):
    """The pool process is killed (SIGKILL) in the middle of the fetch, as the hard
    time limit or the kernel's OOM killer would, and can record nothing: the feed
    stays "syncing", and the dispatcher's sweep records the failure once the hard
    limit and its margin have passed."""
    from tourism.celery_app import app

    _hostname, queue = prefork_worker
    feed = make_feed(stay, upcoming, delay_s=30)
    result = calendar_feed_sync_task.apply_async(
        (feed.pk,), queue=queue, soft_time_limit=120, time_limit=150
    )
    assert wait_for(lambda: len(feed_server.requests) == 1)
    app.control.revoke(result.id, terminate=True, signal="SIGKILL")
    assert wait_for(lambda: result.ready(), timeout=60)
    feed.refresh_from_db()
    assert feed.sync_started_at is not None and not feed.last_error
    assert calendar_feed_sweep_stuck() == 0  # not stuck yet: it may be running
    later = timezone.now() + stuck_after()
    assert calendar_feed_sweep_stuck(now=later) == 1
    feed.refresh_from_db()
    assert "did not finish within" in feed.last_error
    assert feed.consecutive_failures == 1 and feed.sync_started_at is None
    assert feed.next_run_at == later + dt.timedelta(minutes=30)


def test_memory_limit_in_a_fresh_pool_process(prefork_worker, stay, make_feed):
    """30,000 tiny events need ~100 MB to parse; with 16 MB allowed beyond the
    pool process's size the child stops, the failure is recorded as the memory
    limit, and the pool process does not grow."""
    hostname, queue = prefork_worker

    def alive(pid: int) -> bool:  # not gone, and not a zombie waiting to be reaped
        status = Path(f"/proc/{pid}/status")
        return status.exists() and "\nState:\tZ" not in status.read_text()

    def live_pool_process() -> int | None:
        pids = worker_stats(hostname)["pool"]["processes"]
        return pids[0] if len(pids) == 1 and alive(pids[0]) else None

    # The previous test's pool process was killed: wait for its replacement.
    assert wait_for(lambda: live_pool_process() is not None)
    pool_pid = live_pool_process()
    before = memory_kib(pool_pid)
    feed = make_feed(stay, TINY_EVENTS)
    outcome = calendar_feed_sync_task.apply_async(
        (feed.pk,), queue=queue, soft_time_limit=120, time_limit=150
    ).get(timeout=150)
    assert outcome["status"] == SyncStatus.FAILED
    assert "more than 16 MB of memory" in outcome["message"]
    feed.refresh_from_db()
    assert "more than 16 MB of memory" in feed.last_error
    after = memory_kib(pool_pid)
    assert after["VmHWM"] - before["VmHWM"] < 20 * 1024
    assert feed.sync_started_at is None
