"""The solver package stays pure: importing it loads no Django, DRF or Celery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, sys
import itineraries.solver
import itineraries.solver.toptw
print(json.dumps(sorted(sys.modules)))
"""


def test_import_loads_no_framework() -> None:
    """Importing itineraries.solver in a fresh interpreter loads no django module."""
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    modules = json.loads(completed.stdout)
    assert "itineraries.solver" in modules
    banned = ("django", "rest_framework", "celery")
    loaded = [m for m in modules if m.split(".")[0] in banned]
    assert loaded == []


def test_public_api_is_re_exported() -> None:
    """The package root exposes the public API only."""
    import itineraries.solver as solver

    assert set(solver.__all__) == {
        "Node",
        "OrienteeringProblem",
        "Solution",
        "SolveStatus",
        "SolverBugError",
        "SolverParams",
        "Tour",
        "TourPlan",
        "Visit",
        "Window",
        "solve",
        "validate",
    }
    assert [s.value for s in solver.SolveStatus] == [
        "OPTIMAL",
        "FEASIBLE",
        "INFEASIBLE",
        "NO_SOLUTION_IN_TIME",
    ]
