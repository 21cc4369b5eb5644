"""Running a function in a helper process with CPU, memory and time limits
(providers.sync.sandbox): what comes back, what is stopped, what it costs the
caller, and when the helper is replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from providers.sync import sandbox
from providers.sync.sandbox import LimitExceeded, run_limited

LIMITS = {"cpu_seconds": 2, "memory_bytes": 64 << 20, "wall_seconds": 20}


def rss_kib() -> int:
    """The current resident set of this process (VmRSS), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def spin() -> None:
    while True:
        pass


def hog(megabytes: int) -> int:
    """Keep allocating 1 MiB blocks; how many it got."""
    kept = []
    for _ in range(megabytes):
        kept.append(bytearray(1 << 20))
    return len(kept)


def fail(message: str) -> None:
    raise ValueError(message)


def test_the_result_and_the_cost_come_back():
    """The function's return value and the child's CPU time and peak memory."""
    result, stats = run_limited(sum, range(1000), **LIMITS)
    assert result == 499500
    assert stats.peak_rss_kib > 0 and stats.cpu_seconds >= 0
    assert stats.wall_seconds < LIMITS["wall_seconds"]


def test_the_functions_own_error_is_raised_in_the_parent():
    """An exception in the child is pickled back and raised again."""
    with pytest.raises(ValueError, match="broken feed") as exc:
        run_limited(fail, "broken feed", **LIMITS)
    assert exc.value.child_stats.peak_rss_kib > 0


def test_cpu_limit_stops_an_endless_loop():
    """A loop that never ends is stopped after its CPU seconds, not left running."""
    with pytest.raises(LimitExceeded) as exc:
        run_limited(spin, cpu_seconds=1, memory_bytes=64 << 20, wall_seconds=30)
    assert exc.value.kind == "cpu"
    assert 0.5 <= exc.value.child_stats.cpu_seconds < 3


def test_memory_limit_stops_a_hog_and_the_parent_does_not_grow():
    """2 GiB asked for with 64 MiB allowed: MemoryError in the child, reported as
    the memory limit; the parent's resident memory stays where it was."""
    before = rss_kib()
    with pytest.raises(LimitExceeded) as exc:
        run_limited(hog, 2048, **LIMITS)
    assert exc.value.kind == "memory"
    assert rss_kib() - before < 16 * 1024


def hog_count() -> int:
    """How many 1 MiB blocks the child gets before MemoryError."""
    kept = []
    try:
        while True:
            kept.append(bytearray(1 << 20))
    except MemoryError:
        return len(kept)


def vsz_kib() -> int:
    """This process's address space now (VmSize), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1])
    raise AssertionError("no VmSize")


def test_memory_limit_bounds_the_childs_address_space():
    """The child's address space is at most the parent's plus 64 MiB: it gets its
    64 MiB (and reuses free space already in the heap it inherited), never more."""
    size = vsz_kib()
    got, _stats = run_limited(hog_count, **LIMITS)
    assert got >= 60 and got * 1024 < size + 64 * 1024


def test_memory_within_the_limit_is_fine():
    """The limit is added to what the worker already has: 32 MiB of 64 fit."""
    result, stats = run_limited(hog, 32, **LIMITS)
    assert result == 32 and stats.peak_rss_kib > 32 * 1024


def test_wall_clock_limit_kills_a_sleeping_child():
    """A child that uses no CPU but never answers is killed at the deadline."""
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as exc:
        run_limited(
            time.sleep, 60, cpu_seconds=5, memory_bytes=64 << 20, wall_seconds=1
        )
    assert exc.value.kind == "time"
    assert time.monotonic() - started < 30


def die_by_signal() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def test_a_crashing_child_is_reported():
    """A child killed by a signal of its own is a crash, not a hang."""
    with pytest.raises(LimitExceeded) as exc:
        run_limited(die_by_signal, **LIMITS)
    assert exc.value.kind == "crash" and str(int(signal.SIGSEGV)) in exc.value.detail


def test_a_result_too_large_to_read_back_is_refused():
    """The parent reads at most max_result_bytes of what the child sends."""
    with pytest.raises(LimitExceeded) as exc:
        run_limited(bytes, 4 << 20, max_result_bytes=1 << 20, **LIMITS)
    assert exc.value.kind == "result"


def children() -> set[int]:
    """Processes whose parent is this one (zombies included)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.add(int(stat.parent.name))
    return found


@pytest.fixture(autouse=True)
def _fresh_helper():
    """Each test starts without a helper and leaves none behind."""
    sandbox.stop()
    yield
    sandbox.stop()


def test_the_helper_is_kept_for_the_next_call():
    """Forking for every feed costs more than reading it: one helper serves call
    after call, and an error of the function does not replace it."""
    first, _stats = run_limited(os.getpid, **LIMITS)
    assert first != os.getpid() and first == sandbox.helper_pid()
    with pytest.raises(ValueError):
        run_limited(fail, "x", **LIMITS)
    assert run_limited(os.getpid, **LIMITS)[0] == first


def test_the_helper_retires_after_a_limit():
    """Whatever a hostile call left behind dies with its helper: after a limit the
    next call gets a new one."""
    first, _stats = run_limited(os.getpid, **LIMITS)
    with pytest.raises(LimitExceeded):
        run_limited(hog, 2048, **LIMITS)
    assert sandbox.helper_pid() is None
    assert run_limited(os.getpid, **LIMITS)[0] not in (first, None)


KEPT: list[bytearray] = []


def keep(megabytes: int) -> int:
    """Allocate and keep (in the helper) ``megabytes`` MiB, touched."""
    KEPT.extend(bytearray(b"x" * (1 << 20)) for _ in range(megabytes))
    return os.getpid()


def test_a_helper_that_grew_retires():
    """A helper holding more than a quarter of its memory limit beyond its start
    leaves after answering."""
    pid, _stats = run_limited(keep, 80, **{**LIMITS, "memory_bytes": 256 << 20})
    assert sandbox.helper_pid() is None and pid not in children()
    pid, _stats = run_limited(keep, 8, **{**LIMITS, "memory_bytes": 256 << 20})
    assert sandbox.helper_pid() == pid  # 8 MiB is fine


def test_threads_take_turns():
    """Two threads of one process share its helper, one call at a time."""
    results = []

    def call():
        results.append(run_limited(os.getpid, **LIMITS)[0])

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4 and len(set(results)) == 1


class Interrupted(Exception):
    pass


def test_an_interrupted_call_leaves_no_helper_behind():
    """A signal handler raising in the caller while it waits (Celery's soft time
    limit does that) kills the helper: no orphan keeps working."""
    before = children()

    def interrupt(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(Interrupted):
            run_limited(time.sleep, 30, **LIMITS)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert sandbox.helper_pid() is None and children() == before


def test_no_child_is_left_behind():
    """Every helper is reaped, whatever happened to it."""
    before = children()
    run_limited(sum, [1], **LIMITS)
    assert len(children() - before) == 1  # the helper, kept
    for func, args in ((fail, ("x",)), (die_by_signal, ()), (time.sleep, (30,))):
        with pytest.raises((ValueError, LimitExceeded)):
            run_limited(
                func, *args, cpu_seconds=2, memory_bytes=1 << 26, wall_seconds=1
            )
    assert children() == before
    run_limited(sum, [1], **LIMITS)
    sandbox.stop()
    assert children() == before
