"""Outages under load, against real servers of the test's own (tests/faults/
stack.py): gunicorn, a prefork Celery worker and Celery beat on PostgreSQL and Redis
that the test stops and starts, agency bookings through OCTO in four threads, plans
asked for, webhooks to a receiver on 127.0.0.1, e-mails as files.

One scenario, in order: Redis stopped for 20 s, then PostgreSQL for 10 s, then the
worker killed (SIGKILL) while it solves a plan and started again as docker-compose
would. Afterwards every e-mail and webhook the bookings call for arrived, each under
one idempotency key (so exactly once for a receiver that keeps keys), no plan is
left queued or solving, the worker came back from the Redis outage by itself, and
every 5xx answered meanwhile was a 503 JSON with Retry-After.

A message arrives twice with the same key only if the worker was killed between
sending it and recording it: at most one per pool process at the kill."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.faults.stack import BookingLoad, FaultStack, tally, wait_settled

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]


def probe_health(stack: FaultStack, seconds: float) -> list[dict]:
    """/healthz once a second for ``seconds``: the bodies of its answers."""
    bodies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = httpx.get(stack.url("/healthz"), timeout=5)
            bodies.append({"code": response.status_code, **response.json()})
        except (httpx.HTTPError, ValueError) as exc:
            bodies.append({"code": None, "error": repr(exc)})
        time.sleep(1)
    return bodies


def kill_mid_solve(stack: FaultStack, load: BookingLoad, timeout: float = 60) -> bool:
    """Ask for plans and SIGKILL the worker while one is being solved; True if one
    was caught solving."""
    with stack.octo() as client:
        for n in range(6):
            load._plan(client, 100 + n)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.sql("SELECT 1 FROM itineraries_tripplan WHERE status = 'solving'"):
            stack.kill_worker()
            return True
        time.sleep(0.02)
    stack.kill_worker()
    return False


def test_outages_lose_nothing_duplicate_nothing_and_leave_nothing_stuck():
    with FaultStack() as stack:
        load = BookingLoad(stack, threads=4)
        load.start()
        try:
            time.sleep(5)
            # 1. Redis down for 20 s under load.
            stack.redis.stop()
            redis_health = probe_health(stack, 20)
            stack.redis.start()
            assert stack.worker_alive(), stack.log("worker")[-3000:]
            came_back_s = stack.wait_worker(90)
            assert stack.worker_alive() and stack.worker_starts == 1
            time.sleep(5)
            # 2. PostgreSQL down for 10 s under load.
            stack.postgres.stop()
            database_health = probe_health(stack, 10)
            stack.postgres.start()
            time.sleep(5)
            # 3. The worker killed mid-solve, started again by its supervisor.
            caught_solving = kill_mid_solve(stack, load)
            stack.start_worker()
            time.sleep(5)
        finally:
            load.stop()
        settle_s = wait_settled(stack, 240)
        result = tally(stack)
        summary = (
            f"{result} settled in {settle_s:.0f}s; worker back {came_back_s:.1f}s "
            f"after Redis; answers {dict(load.answers.codes)}; "
            f"bookings {len(load.bookings)}, plans {len(load.plans)}"
        )
        print(summary)  # noqa: T201 - the figures, with -s

        # While Redis was down /healthz said so (503 JSON naming it), and so for
        # PostgreSQL; every 5xx anyone got was a 503 JSON with Retry-After.
        assert any(
            b["code"] == 503 and "redis" in b.get("failed", []) for b in redis_health
        ), redis_health
        assert any(
            b["code"] == 503 and "database" in b.get("failed", [])
            for b in database_health
        ), database_health
        assert load.answers.bad_5xx == [], load.answers.bad_5xx[:5]
        assert load.answers.json_503 > 0
        # The load went on through it all, and everything it caused went out once.
        assert len(load.bookings) >= 20 and result.emails_expected >= 20
        assert result.webhooks_expected >= 3 * 20
        assert (result.emails_lost, result.webhooks_lost) == (0, 0), summary
        assert (result.emails_duplicated, result.webhooks_duplicated) == (0, 0), summary
        assert result.resent <= stack.worker_concurrency, summary  # the kill only
        assert (result.outbox_not_sent, result.deliveries_not_delivered) == (0, 0)
        # No plan stuck; the one killed mid-solve was picked up again.
        assert caught_solving, "no plan was being solved when the worker was killed"
        assert result.plans_total >= 6 and result.plans_stuck == 0, summary
        assert stack.worker_starts == 2  # the first, and after the deliberate kill
