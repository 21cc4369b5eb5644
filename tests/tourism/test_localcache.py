"""The per-process versioned caches (tourism.localcache): what is served from the
process's memory, and every way an entry stops being served."""

import pytest
from django.core.cache import cache as shared_cache
from django.core.signals import request_finished, request_started
from django.db import transaction

from tourism.localcache import VersionedLocalCache


class Loads:
    """A loader that counts its calls and returns what ``value`` says now."""

    def __init__(self, value="v1"):
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.value


@pytest.fixture
def local():
    item = VersionedLocalCache("test-cache", ttl=60.0, maxsize=3)
    shared_cache.delete(item._key)
    return item


def test_second_read_is_served_from_memory(local):
    load = Loads()
    assert local.get("a", load) == "v1"
    load.value = "v2"
    assert local.get("a", load) == "v1"
    assert load.calls == 1


@pytest.mark.django_db
def test_invalidate_drops_entries(local):
    load = Loads()
    local.get("a", load)
    load.value = "v2"
    local.invalidate()
    assert local.get("a", load) == "v2"
    assert load.calls == 2


def test_another_process_changing_the_version_drops_entries(local):
    """Another process's write changes only the shared token; this process sees the
    new token on its next read and reloads."""
    load = Loads()
    local.get("a", load)
    load.value = "v2"
    shared_cache.set(local._key, "changed-elsewhere", timeout=None)
    assert local.get("a", load) == "v2"


def test_lost_version_token_drops_entries(local):
    """The shared cache was flushed (Redis restarted): a new token, entries gone."""
    load = Loads()
    local.get("a", load)
    load.value = "v2"
    shared_cache.delete(local._key)
    assert local.get("a", load) == "v2"


def test_entries_expire_after_ttl():
    local = VersionedLocalCache("test-ttl", ttl=0.0)
    load = Loads()
    local.get("a", load)
    local.get("a", load)
    assert load.calls == 2


def test_none_is_not_stored(local):
    load = Loads(value=None)
    assert local.get("unknown", load) is None
    assert local.get("unknown", load) is None
    assert load.calls == 2


def test_least_recently_used_entries_are_evicted(local):
    loads = {key: Loads(key) for key in "abcd"}
    for key in "abc":
        local.get(key, loads[key])
    local.get("a", loads["a"])  # a is now the most recently used
    local.get("d", loads["d"])  # evicts b, the least recently used
    for key in "acd":
        local.get(key, loads[key])
    local.get("b", loads["b"])
    assert {key: load.calls for key, load in loads.items()} == {
        "a": 1,
        "b": 2,
        "c": 1,
        "d": 1,
    }


@pytest.mark.django_db
def test_entry_loaded_before_the_commit_is_dropped_at_the_commit(
    local, django_capture_on_commit_callbacks
):
    """A reader that loads between the writer's save and its commit may read the
    old row: the second bump, after the commit, drops what it stored."""
    load = Loads()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        local.invalidate()  # the writer's save
        assert local.get("a", load) == "v1"  # a reader, before the commit
        load.value = "v2"  # the commit makes the new row visible
    assert local.get("a", load) == "v2"


@pytest.mark.django_db  # request signals close old database connections
def test_a_request_reads_the_tokens_once(local):
    """Inside a request the tokens are read on the first use and kept: another
    process's change is seen from the next request on (as if this request had
    started a moment earlier)."""
    load = Loads()
    request_started.send(sender=None)
    try:
        local.get("a", load)
        shared_cache.set(local._key, "changed-elsewhere", timeout=None)
        load.value = "v2"
        assert local.get("a", load) == "v1"
    finally:
        request_finished.send(sender=None)
    request_started.send(sender=None)
    try:
        assert local.get("a", load) == "v2"
    finally:
        request_finished.send(sender=None)
    # Outside requests every read checks the shared token.
    shared_cache.set(local._key, "changed-again", timeout=None)
    load.value = "v3"
    assert local.get("a", load) == "v3"


@pytest.mark.django_db
def test_a_requests_own_write_is_seen_in_the_same_request(local):
    load = Loads()
    request_started.send(sender=None)
    try:
        local.get("a", load)
        load.value = "v2"
        local.invalidate()
        assert local.get("a", load) == "v2"
    finally:
        request_finished.send(sender=None)


def test_off_without_a_shared_cache(local, settings):
    """LOCAL_CACHES off (the default without Redis): every read loads."""
    settings.LOCAL_CACHES = False
    load = Loads()
    local.get("a", load)
    local.get("a", load)
    assert load.calls == 2


@pytest.mark.django_db
def test_a_write_in_one_process_reaches_another():
    """Two processes' caches of the same name (as every gunicorn worker has): a
    write through one changes the shared token, and the other reloads."""
    here = VersionedLocalCache("test-processes")
    there = VersionedLocalCache("test-processes")
    load_here, load_there = Loads(), Loads()
    here.get("a", load_here)
    there.get("a", load_there)
    load_there.value = "v2"
    here.invalidate()
    assert there.get("a", load_there) == "v2"
    assert load_there.calls == 2
