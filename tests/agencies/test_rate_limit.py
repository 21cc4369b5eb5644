"""The per-key limit (agencies.auth.ApiKeyRateThrottle), a sliding-window counter:
on the embedded default it counts in the process's cache, with PostgreSQL and Redis
(bin/test's first run) in Redis."""

from __future__ import annotations

import itertools

import pytest

from agencies.auth import ApiKeyRateThrottle
from tests.octo.conftest import extra_key

pytestmark = pytest.mark.django_db


_minutes = itertools.count(29_000_000, 1000)


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, at the start of a minute and moved by hand. Each test
    starts far from the others: key ids come back after a rolled-back test, and the
    counts of an earlier test's minutes must not be this test's."""

    class Clock:
        now = 60.0 * next(_minutes)

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", clock)
    return clock


def statuses(client, n: int) -> list[int]:
    return [client.get("/supplier").status_code for _ in range(n)]


def test_limit_per_minute_and_retry_after(agency, clock):
    key = extra_key(agency, rate_per_minute=3)
    ApiKeyRateThrottle.reset(key.api_key)
    client = key.client()
    clock.now += 10
    assert statuses(client, 4) == [200, 200, 200, 429]
    response = client.get("/supplier")
    assert response.status_code == 429
    # The next minute starts in 50 s, but then this minute's 3 still weigh 3; one
    # more fits once they weigh 2, 20 s into it.
    assert int(response["Retry-After"]) == 70
    clock.now += 69
    assert statuses(client, 1) == [429]
    clock.now += 1
    assert statuses(client, 2) == [200, 429]


def test_retry_after_while_the_previous_minute_fades(agency, clock):
    """Refused because of the previous minute's weight: the wait is until it has
    faded enough, not until the end of this minute."""
    key = extra_key(agency, rate_per_minute=4)
    ApiKeyRateThrottle.reset(key.api_key)
    client = key.client()
    assert statuses(client, 4) == [200] * 4
    clock.now += 60  # the previous minute's 4 weigh 4 now
    response = client.get("/supplier")
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert wait == 15  # 1 + 4 * (60 - 15) / 60 = 4
    clock.now += wait - 1
    assert statuses(client, 1) == [429]
    clock.now += 1
    assert statuses(client, 1) == [200]


def test_the_previous_minute_fades_out(agency, clock):
    """Half-way through the next minute, the 3 requests of the previous one still
    count as 1.5: one more request fits (2.5 ≤ 3), a second does not (3.5)."""
    key = extra_key(agency, rate_per_minute=3)
    ApiKeyRateThrottle.reset(key.api_key)
    client = key.client()
    assert statuses(client, 3) == [200, 200, 200]
    clock.now += 90
    assert statuses(client, 2) == [200, 429]
    clock.now += 90  # two minutes after the last one: nothing counts any more
    assert statuses(client, 4) == [200, 200, 200, 429]


def test_refused_requests_do_not_count(agency, clock):
    """A client that keeps calling while refused is let through again as soon as
    its accepted requests allow, not kept out by its own refusals."""
    key = extra_key(agency, rate_per_minute=2)
    ApiKeyRateThrottle.reset(key.api_key)
    client = key.client()
    assert statuses(client, 12) == [200, 200] + [429] * 10
    # Half-way through the next minute the previous one weighs half: its 2
    # accepted requests count 1 (its 10 refused ones would have made it 6).
    clock.now += 90
    assert statuses(client, 2) == [200, 429]


def test_keys_are_limited_separately(agency, clock, settings):
    settings.API_KEY_RATE_LIMIT = "2/min"
    first = extra_key(agency)
    second = extra_key(agency)
    for key in (first, second):
        ApiKeyRateThrottle.reset(key.api_key)
    assert statuses(first.client(), 3) == [200, 200, 429]
    assert statuses(second.client(), 2) == [200, 200]
