"""Throwaway PostgreSQL and Redis servers that a fault test (or the fault benchmark)
can stop and start at will: its OWN processes on free loopback ports, data in a
temporary folder, never the shared test servers. Debian's binaries, as
``bin/_services.sh`` runs them (PostgreSQL as the ``postgres`` user when root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout} s")
        time.sleep(0.1)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key)
    return Path(found[-1]) if found and Path(found[-1], "initdb").exists() else None


def _version_key(path: str) -> tuple[int, ...]:
    part = path.split("/")[-2]
    return tuple(int(n) for n in part.split(".") if n.isdigit())


def available() -> str | None:
    """Why the servers cannot run here, or None."""
    if postgres_bin() is None:
        return "Debian's postgresql is not installed (bin/test installs it)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (bin/test installs it)"
    return None


class RedisServer:
    """``redis-server`` on a free port; ``stop()`` and ``start()`` keep the port (and,
    with AOF, the data: queued messages survive a restart, as in production)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "redis.log").open("a") as log:
            self.process = self._spawn(log)
        _wait(lambda: _port_open(self.port), 20, "Redis")

    def _spawn(self, log) -> subprocess.Popen:
        return subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        """Like a crash or a network cut: SIGKILL (the AOF keeps what was written up
        to the last second)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PostgresServer:
    """A PostgreSQL cluster of its own (``initdb``) on a free port; ``stop()`` is an
    immediate shutdown (connections cut), ``start()`` brings it back on the same
    port with its data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.bin = postgres_bin()
        self.data = folder / "pg"
        self.sockets = folder / "pgsock"
        self._initialised = False

    @property
    def url(self) -> str:
        return f"postgres://tourism@127.0.0.1:{self.port}/tourism"

    def _as_pg(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, **kwargs)

    def _init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o755)
        self.data.mkdir()
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._as_pg(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "tourism",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self._initialised = True

    def start(self) -> None:
        if not self._initialised:
            self._init()
            create = True
        else:
            create = False
        # Durable, unlike the shared test servers (fsync=off there): an immediate
        # shutdown must not lose commits the clients were told about.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c max_connections=200"
        )
        self._as_pg(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            options,
        )
        if create:
            self._as_pg(
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "tourism",
                "tourism",
            )

    def stop(self) -> None:
        if self._initialised and (self.data / "postmaster.pid").exists():
            self._as_pg(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
            )

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def temp_folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("TMPDIR")))
    os.chmod(folder, 0o755)
    return folder
