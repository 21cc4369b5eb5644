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


def test_ci_runs_the_readme_test_command():
    """.ci/run calls bin/test, the README's test command."""
    assert "bin/test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "bin/serve" in readme and "bin/test" in readme
