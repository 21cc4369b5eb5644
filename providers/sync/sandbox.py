"""Run one function in a forked child process with CPU, memory and time limits.

Reading a calendar someone else wrote is the one step of a sync whose cost the feed
decides (a 200-byte ``RRULE:FREQ=SECONDLY`` can ask for millions of occurrences).
``run_limited`` forks the worker, and the child sets its own limits before calling
the function:

- ``RLIMIT_CPU``: ``cpu_seconds`` of processor time (SIGXCPU, then SIGKILL a second
  later if the child does not stop);
- ``RLIMIT_AS``: the address space the child had at the fork plus
  ``memory_bytes`` (allocations beyond it fail with MemoryError; a MemoryError a
  library turned into another error is still recognised through the exception
  chain). The child also reuses the free space of the heap it inherited, so what it
  can use is bounded by the worker's size plus ``memory_bytes``, not by
  ``memory_bytes`` alone;
- a wall-clock deadline kept by the parent (``wall_seconds``: a child starved of CPU
  on a busy machine, or stuck, is killed);
- at most ``max_result_bytes`` of pickled result read back.

The child sends its result (or its exception) back through a pipe, pickled, and
leaves with ``os._exit`` (no atexit handlers: it must not close the database or
Redis connections it shares with the parent). Whatever the child allocated dies with
it, so the worker's own memory stays where it was. The child's peak resident size and
CPU time come back with the result (``ChildStats``).

Without ``os.fork`` (not Linux/macOS) the function runs in-process, unlimited.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

# Exit codes of the child when it could not even send its result back.
_EXIT_UNSENDABLE = 70


class LimitExceeded(Exception):
    """The child went over a limit or died; ``kind`` says which:
    ``cpu``, ``memory``, ``time``, ``result`` (too large) or ``crash``."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class ChildStats:
    """What the child cost: CPU seconds (user + system), peak resident set (KiB,
    shared pages inherited from the parent included), wall seconds."""

    cpu_seconds: float = 0.0
    peak_rss_kib: int = 0
    wall_seconds: float = 0.0


class _CpuLimit(BaseException):
    """Raised by the SIGXCPU handler; a BaseException so that no ``except
    Exception`` in the function can swallow it."""


def _on_sigxcpu(signum: int, frame: object) -> None:
    raise _CpuLimit


def _address_space_bytes() -> int:
    """The current process's virtual size (what RLIMIT_AS counts)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _set_limits(cpu_seconds: float, memory_bytes: int) -> None:
    # A crash is reported by the parent; no traceback dump into the worker's log.
    faulthandler.disable()
    # A child of a Celery worker inherits its signal handlers: back to defaults, so
    # a stray SIGTERM/SIGINT/SIGUSR1 ends the child instead of running worker code.
    for name in ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    seconds = max(1, int(-(-cpu_seconds // 1)))  # whole seconds, rounded up
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        limit = _address_space_bytes() + memory_bytes
    except OSError:  # no /proc: no memory limit rather than no parse
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


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


def _child(
    write_fd: int,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cpu_seconds: float,
    memory_bytes: int,
) -> None:
    """Runs in the child; never returns."""
    code = 0
    try:
        try:
            _set_limits(cpu_seconds, memory_bytes)
            outcome: tuple[str, Any] = ("ok", func(*args, **kwargs))
        except _CpuLimit:
            outcome = ("limit", "cpu")
        except MemoryError:
            outcome = ("limit", "memory")
        except Exception as exc:  # the function's own error, re-raised in the parent
            # Libraries that turn any error into their own still chain the
            # MemoryError that started it.
            outcome = ("limit", "memory") if _from_memory_error(exc) else ("error", exc)
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(("limit", "memory"))
        except Exception as exc:  # an unpicklable exception: send its text
            data = pickle.dumps(("error", RuntimeError(str(exc)[:500])))
        view = memoryview(data)
        while view:
            written = os.write(write_fd, view)
            view = view[written:]
    except _CpuLimit:
        code = 128 + signal.SIGXCPU
    except BaseException:
        code = _EXIT_UNSENDABLE
    finally:
        os._exit(code)


def _read_until_eof(
    read_fd: int, deadline: float, max_bytes: int
) -> tuple[bytes, str | None]:
    """(what the child wrote, None) or (partial data, "time" | "result")."""
    chunks, size = [], 0
    poller = select.poll()
    poller.register(read_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), "time"
        if not poller.poll(min(left, 1.0) * 1000):
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), None
        size += len(chunk)
        if size > max_bytes:
            return b"", "result"
        chunks.append(chunk)


def _reap(pid: int, *, kill: bool) -> tuple[int | None, ChildStats]:
    """Wait for the child (killing it first if asked); its wait status and cost."""
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    try:
        _pid, status, usage = os.wait4(pid, 0)
    except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): no figures
        return None, ChildStats()
    return status, ChildStats(
        cpu_seconds=usage.ru_utime + usage.ru_stime, peak_rss_kib=usage.ru_maxrss
    )


def run_limited(
    func: Callable[..., T],
    *args: Any,
    cpu_seconds: float,
    memory_bytes: int,
    wall_seconds: float,
    max_result_bytes: int = 64 << 20,
    **kwargs: Any,
) -> tuple[T, ChildStats]:
    """``func(*args, **kwargs)`` in a forked child under the limits; its result and
    what it cost. The function's own exceptions are re-raised here (they must
    pickle); a limit or a crash raises LimitExceeded. Either exception carries the
    child's cost as ``child_stats``."""
    if not hasattr(os, "fork"):
        started = time.monotonic()
        return func(*args, **kwargs), ChildStats(
            wall_seconds=time.monotonic() - started
        )
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        _child(write_fd, func, args, kwargs, cpu_seconds, memory_bytes)
    os.close(write_fd)
    reaped = False
    try:
        data, problem = _read_until_eof(
            read_fd, started + wall_seconds, max_result_bytes
        )
        status, stats = _reap(pid, kill=problem is not None)
        reaped = True
    finally:
        os.close(read_fd)
        if not reaped:  # interrupted (a Celery soft time limit): no orphan left
            _reap(pid, kill=True)
    stats = ChildStats(
        cpu_seconds=stats.cpu_seconds,
        peak_rss_kib=stats.peak_rss_kib,
        wall_seconds=time.monotonic() - started,
    )
    try:
        return _outcome(data, problem, status, stats, cpu_seconds), stats
    except Exception as exc:
        exc.child_stats = stats  # type: ignore[attr-defined]
        raise


def _outcome(
    data: bytes,
    problem: str | None,
    status: int | None,
    stats: ChildStats,
    cpu_seconds: float,
) -> Any:
    if problem is not None:
        raise LimitExceeded(problem)
    if status is not None and os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum in (signal.SIGXCPU, signal.SIGKILL) and (
            stats.cpu_seconds >= cpu_seconds
        ):
            raise LimitExceeded("cpu")
        raise LimitExceeded("crash", f"signal {signum}")
    if status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status):
        if os.WEXITSTATUS(status) == 128 + signal.SIGXCPU:
            raise LimitExceeded("cpu")
        raise LimitExceeded("crash", f"exit code {os.WEXITSTATUS(status)}")
    try:
        kind, value = pickle.loads(data)  # our own child wrote it
    except Exception as exc:
        raise LimitExceeded("crash", "no result") from exc
    if kind == "ok":
        return value
    if kind == "limit":
        raise LimitExceeded(value)
    raise value
