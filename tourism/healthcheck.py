"""Container health checks (docker-compose.yml): ``python -m tourism.healthcheck
web|worker|beat`` exits 0 when healthy, 1 otherwise.

- web: ``GET http://127.0.0.1:8000/healthz`` answers 200 (PostgreSQL and Redis up).
- worker: the worker of this container (``<name>@<hostname>``: ``default@`` or
  ``sync@`` in docker-compose) answers a ping.
- beat: the schedule file (``--schedule``) was written in the last
  ``BEAT_HEALTH_MAX_AGE`` seconds (beat saves it at least every 3 minutes).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request


def web(url: str = "http://127.0.0.1:8000/healthz") -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def worker() -> bool:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tourism.settings")
    from tourism.celery_app import app

    suffix = f"@{socket.gethostname()}"
    try:
        replies = app.control.ping(timeout=5)
    except Exception:
        return False
    return any(name.endswith(suffix) for reply in replies for name in reply)


def beat(schedule: str = "/tmp/celerybeat-schedule") -> bool:
    max_age = float(os.environ.get("BEAT_HEALTH_MAX_AGE", "400"))
    for path in (schedule, schedule + ".db", schedule + ".dat"):
        try:
            if time.time() - os.path.getmtime(path) < max_age:
                return True
        except OSError:
            continue
    return False


def main(argv: list[str]) -> int:
    checks = {"web": web, "worker": worker, "beat": beat}
    if len(argv) != 2 or argv[1] not in checks:
        sys.stderr.write("usage: python -m tourism.healthcheck web|worker|beat\n")
        return 2
    return 0 if checks[argv[1]]() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
