"""docker-compose.yml describes the stack the README documents (no Docker engine in
CI, so its structure is checked here)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_services_share_one_image():
    """db (PostgreSQL 16), redis (7), and web/worker/beat built from one image."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    app = [services[name] for name in ("web", "worker", "beat")]
    assert {s["image"] for s in app} == {"titicaca-tourism:latest"}
    assert all(s["build"] == "." for s in app)
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def _queues(command: str) -> set[str]:
    words = command.split()
    return set(words[words.index("-Q") + 1].split(",")) if "-Q" in words else set()


def test_syncs_have_their_own_worker():
    """The sync queue (calendar feeds, OCTO pulls) is consumed by its own worker, and
    the default worker that solves plans does not consume it: a hostile feed cannot
    wait in front of a plan."""
    from django.conf import settings

    from tourism.celery_app import app

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    default, sync = app.conf.task_default_queue, settings.SYNC_TASK_QUEUE
    assert _queues(services["worker"]["command"]) == {default}
    assert _queues(services["sync-worker"]["command"]) == {sync}
    assert services["sync-worker"]["image"] == services["worker"]["image"]
    assert services["sync-worker"]["restart"] == "unless-stopped"
    assert services["sync-worker"]["init"] is True
    route = app.amqp.router.route
    for task in (
        "providers.tasks.calendar_feed_sync_task",
        "providers.tasks.octo_connection_sync_task",
    ):
        assert route({}, task)["queue"].name == sync, task
    for task in ("itineraries.plan_solve", "providers.tasks.booking_notice_task"):
        assert route({}, task)["queue"].name == default, task


def test_ci_runs_the_readme_test_command():
    """.ci/run calls bin/test, the README's test command."""
    assert "bin/test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "bin/serve" in readme and "bin/test" in readme


def test_compose_services_come_back_and_report_their_health():
    """Every long-running service restarts by itself (unless stopped by hand); Redis
    persists to an append-only file on a volume; web, worker and beat have health
    checks that run the project's own check for their role."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "worker", "sync-worker", "beat"}
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
    redis = services["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "redisdata" in compose["volumes"]
    for service, role in (
        ("web", "web"),
        ("worker", "worker"),
        ("sync-worker", "worker"),
        ("beat", "beat"),
    ):
        check = services[service]["healthcheck"]
        assert check["test"] == ["CMD", "python", "-m", "tourism.healthcheck", role]
        assert check["retries"] >= 1 and check["interval"].endswith("s")


def test_the_health_check_module_knows_each_role():
    """The command the compose health checks run exists and refuses an unknown
    role; beat is healthy only while its schedule file is fresh."""
    import os
    import time

    from tourism import healthcheck

    assert healthcheck.main(["healthcheck", "nope"]) == 2
    schedule = ROOT / "var" / f"beat-schedule-test-{os.getpid()}"
    schedule.parent.mkdir(exist_ok=True)
    try:
        assert not healthcheck.beat(str(schedule))
        schedule.write_bytes(b"")
        assert healthcheck.beat(str(schedule))
        old = time.time() - 3600
        os.utime(schedule, (old, old))
        assert not healthcheck.beat(str(schedule))
    finally:
        schedule.unlink(missing_ok=True)
