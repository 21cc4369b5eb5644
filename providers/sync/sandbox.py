"""Run a function in a helper process with CPU, memory and time limits.

Reading a calendar someone else wrote is the one step of a sync whose cost the feed
decides (a 200-byte ``RRULE:FREQ=SECONDLY`` can ask for millions of occurrences).
``run_limited`` hands the call to a helper process, forked from the worker process
the first time it is needed and kept for the next calls (forking afresh for every
feed cost more than the parse itself: every page the child touches is copied). For
each call the helper sets its limits before calling the function:

- ``cpu_seconds`` of processor time from now (``ITIMER_PROF``: SIGPROF, and
  ``RLIMIT_CPU`` two seconds later as a backstop: SIGXCPU);
- ``RLIMIT_AS``: the helper's address space now plus ``memory_bytes`` (allocations
  beyond it fail with MemoryError; a MemoryError a library turned into another error
  is still recognised through the exception chain). The helper also reuses free
  space of the heap it inherited, so what it can use is bounded by its size plus
  ``memory_bytes``, not by ``memory_bytes`` alone;
- a wall-clock deadline kept by the caller (``wall_seconds``): a helper starved of
  CPU on a busy machine, or stuck, is killed;
- at most ``max_result_bytes`` of pickled result read back.

The function, its arguments and its result (or exception) travel pickled through
two pipes. After a call the helper retires (exits; the next call forks a new one)
when a limit was hit or when the memory only it holds (its private pages: what it
allocated and the worker's pages it wrote to) has grown by more than a quarter of
``memory_bytes`` (at least 32 MB) since it started, so whatever a hostile feed cost
dies with it and neither the worker nor its helper stays bloated. The helper leaves
with ``os._exit`` (no atexit handlers: it must not close the database or Redis
connections it shares with the worker) and when the worker goes away (end of
file on its pipe). Each process has its own helper; threads of one process take
turns. The call's CPU time and the helper's peak resident size during it come back
with the result (``ChildStats``).

Without ``os.fork`` (not Linux/macOS) the function runs in-process, unlimited.
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import pickle
import resource
import select
import signal
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

_HEADER = struct.Struct("!Q")  # the length of each pickled message
_RETIRE_MIN_GROWTH_KIB = 32 * 1024


class LimitExceeded(Exception):
    """The call went over a limit or its helper died; ``kind`` says which:
    ``cpu``, ``memory``, ``time``, ``result`` (too large) or ``crash``."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class ChildStats:
    """What a call cost: CPU seconds (user + system) of the helper, its peak
    resident set during the call (KiB, pages shared with the worker included), wall
    seconds seen by the caller."""

    cpu_seconds: float = 0.0
    peak_rss_kib: int = 0
    wall_seconds: float = 0.0


# --- The helper's side ----------------------------------------------------------------


class _CpuLimit(BaseException):
    """Raised by the SIGXCPU handler; a BaseException so that no ``except
    Exception`` in the function can swallow it."""


def _on_cpu_limit(signum: int, frame: object) -> None:
    raise _CpuLimit


def _status_kib(name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def _private_kib() -> int:
    """Memory only this process holds (its own pages and the pages of its worker it
    has written to), KiB; VmRSS where the kernel does not tell."""
    try:
        with open("/proc/self/smaps_rollup") as rollup:
            return sum(
                int(line.split()[1])
                for line in rollup
                if line.startswith(("Private_Clean:", "Private_Dirty:"))
            )
    except OSError:
        return _status_kib("VmRSS")


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak() -> None:
    """Start VmHWM (peak resident set) again from the current size."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _from_memory_error(exc: BaseException) -> bool:
    """Whether a MemoryError is in the exception's chain (cause or context)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, MemoryError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_message(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _call(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cpu_seconds: float,
    memory_bytes: int,
) -> tuple[str, Any]:
    """The call under its limits, as (kind, value)."""
    cpu_soft, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    as_soft, as_hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
        seconds = math.ceil(_cpu_used() + cpu_seconds + 2)
        if cpu_hard != resource.RLIM_INFINITY:
            seconds = min(seconds, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, cpu_hard))
        limit = _status_kib("VmSize") * 1024 + memory_bytes
        if as_hard != resource.RLIM_INFINITY:
            limit = min(limit, as_hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, as_hard))
        return "ok", func(*args, **kwargs)
    except MemoryError:
        return "limit", "memory"
    except Exception as exc:  # the function's own error, raised again by the caller
        # Libraries that turn any error into their own still chain the MemoryError
        # that started it.
        return ("limit", "memory") if _from_memory_error(exc) else ("error", exc)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        resource.setrlimit(resource.RLIMIT_AS, (as_soft, as_hard))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, cpu_hard))


def _serve(requests: int, responses: int) -> None:
    """The helper's loop; never returns."""
    code = 0
    try:
        # A crash is reported by the caller; no traceback dump into the worker's
        # log. Signals the worker handles (Celery: SIGTERM, SIGUSR1…) end the helper.
        faulthandler.disable()
        for name in ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGPROF, _on_cpu_limit)
        signal.signal(signal.SIGXCPU, _on_cpu_limit)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        baseline, calls = _private_kib(), 0
        while True:
            try:
                (size,) = _HEADER.unpack(_read_exactly(requests, _HEADER.size))
                request = pickle.loads(_read_exactly(requests, size))
            except EOFError:  # the worker is gone, or let us go
                break
            func, args, kwargs, cpu_seconds, memory_bytes = request
            started, resident, calls = _cpu_used(), _status_kib("VmRSS"), calls + 1
            _reset_peak()
            try:
                kind, value = _call(func, args, kwargs, cpu_seconds, memory_bytes)
            except _CpuLimit:
                kind, value = "limit", "cpu"
            cost = (_cpu_used() - started, _status_kib("VmHWM"))
            growth = max(memory_bytes // 4 // 1024, _RETIRE_MIN_GROWTH_KIB)
            # Private pages cost a page-table walk (~2 ms): counted after a call
            # that grew the resident set, and every 50 calls.
            retire = kind == "limit" or (
                (cost[1] - resident > growth // 2 or calls % 50 == 0)
                and _private_kib() > baseline + growth
            )
            try:
                data = pickle.dumps((kind, value, *cost, retire), protocol=5)
            except MemoryError:
                data, retire = pickle.dumps(("limit", "memory", *cost, True)), True
            except Exception as exc:  # an exception that does not pickle: its text
                error = RuntimeError(str(exc)[:500])
                data = pickle.dumps(("error", error, *cost, retire))
            _write_message(responses, data)
            del request, func, args, kwargs, value, data
            if retire:
                break
    except _CpuLimit:
        code = 128 + signal.SIGXCPU
    except BaseException:
        code = 70
    finally:
        os._exit(code)


# --- The caller's side ----------------------------------------------------------------


@dataclass
class _Helper:
    pid: int
    owner: int  # the process that forked it
    requests: int  # write end
    responses: int  # read end


_lock = threading.Lock()
_helper: _Helper | None = None


def _start_helper() -> _Helper:
    request_r, request_w = os.pipe()
    response_r, response_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the helper's coverage is not collected
        os.close(request_w)
        os.close(response_r)
        _serve(request_r, response_w)
    os.close(request_r)
    os.close(response_w)
    return _Helper(pid, os.getpid(), request_w, response_r)


def _stop_helper(*, kill: bool) -> tuple[int | None, float]:
    """Stop and reap the helper (SIGKILL first if asked; else it leaves on the end of
    file); its wait status and CPU seconds."""
    global _helper
    helper, _helper = _helper, None
    if helper is None:
        return None, 0.0
    for fd in (helper.requests, helper.responses):
        with contextlib.suppress(OSError):
            os.close(fd)
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(helper.pid, signal.SIGKILL)
    try:
        _pid, status, usage = os.wait4(helper.pid, 0)
    except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored)
        return None, 0.0
    return status, usage.ru_utime + usage.ru_stime


def stop() -> None:
    """Let this process's helper go (tests; it also leaves with the process)."""
    with _lock:
        if _helper is not None and _helper.owner == os.getpid():
            _stop_helper(kill=False)


def helper_pid() -> int | None:
    """The pid of this process's helper, if one is running (tests)."""
    helper = _helper
    return helper.pid if helper is not None and helper.owner == os.getpid() else None


def _current_helper() -> _Helper:
    global _helper
    if _helper is not None and _helper.owner != os.getpid():
        # Inherited through a fork (a Celery pool process): the parent's helper,
        # not ours. Drop our copies of its pipes and start our own.
        for fd in (_helper.requests, _helper.responses):
            with contextlib.suppress(OSError):
                os.close(fd)
        _helper = None
    if _helper is None:
        _helper = _start_helper()
    return _helper


def _read_reply(fd: int, deadline: float, max_bytes: int) -> tuple[bytes, str | None]:
    """(the reply, None) or (b"", "time" | "result" | "eof")."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    buffer, wanted = bytearray(), None
    while wanted is None or len(buffer) < wanted:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", "time"
        if not poller.poll(min(left, 1.0) * 1000):
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"", "eof"
        buffer += chunk
        if wanted is None and len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if size > max_bytes:
                return b"", "result"
            wanted = _HEADER.size + size
    return bytes(buffer[_HEADER.size :]), None


def _died(status: int | None) -> LimitExceeded:
    """Why the helper died during a call."""
    if status is not None and os.WIFSIGNALED(status):
        if os.WTERMSIG(status) == signal.SIGXCPU:
            return LimitExceeded("cpu")
        return LimitExceeded("crash", f"signal {os.WTERMSIG(status)}")
    if status is not None and os.WIFEXITED(status):
        if os.WEXITSTATUS(status) == 128 + signal.SIGXCPU:
            return LimitExceeded("cpu")
        return LimitExceeded("crash", f"exit code {os.WEXITSTATUS(status)}")
    return LimitExceeded("crash", "no result")


def run_limited(
    func: Callable[..., T],
    *args: Any,
    cpu_seconds: float,
    memory_bytes: int,
    wall_seconds: float,
    max_result_bytes: int = 64 << 20,
    **kwargs: Any,
) -> tuple[T, ChildStats]:
    """``func(*args, **kwargs)`` in this process's helper under the limits; its
    result and what it cost. ``func`` and the arguments must pickle (a module-level
    function). The function's own exceptions are raised again here; a limit or a
    crash raises LimitExceeded. Either exception carries the cost as
    ``child_stats``."""
    started = time.monotonic()
    if not hasattr(os, "fork"):
        return func(*args, **kwargs), ChildStats(
            wall_seconds=time.monotonic() - started
        )
    request = pickle.dumps((func, args, kwargs, cpu_seconds, memory_bytes), protocol=5)
    with _lock:
        try:
            helper = _current_helper()
            try:
                _write_message(helper.requests, request)
            except BrokenPipeError:  # it retired or died since: a new one
                _stop_helper(kill=True)
                helper = _current_helper()
                _write_message(helper.requests, request)
            data, problem = _read_reply(
                helper.responses, started + wall_seconds, max_result_bytes
            )
        except BaseException:  # interrupted (a Celery soft time limit): no orphan
            _stop_helper(kill=True)
            raise
        if problem is not None:
            status, cpu = _stop_helper(kill=problem != "eof")
            stats = ChildStats(cpu_seconds=cpu, wall_seconds=time.monotonic() - started)
            error = _died(status) if problem == "eof" else LimitExceeded(problem)
            error.child_stats = stats  # type: ignore[attr-defined]
            raise error
        kind, value, cpu, peak, retire = pickle.loads(data)  # our own helper wrote it
        if retire:
            _stop_helper(kill=False)
    stats = ChildStats(
        cpu_seconds=cpu, peak_rss_kib=peak, wall_seconds=time.monotonic() - started
    )
    if kind == "ok":
        return value, stats
    error = LimitExceeded(value) if kind == "limit" else value
    error.child_stats = stats
    raise error
