"""TOPTW reader, distance convention, and the JSON CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from itineraries.solver import SolverParams, SolveStatus, solve, validate
from itineraries.solver.extract import plans_from_sequences
from itineraries.solver.toptw import (
    distance_matrix,
    main,
    parse_instance,
    read_instance,
    to_problem,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "toptw"
ROOT = Path(__file__).resolve().parents[3]


def test_c204_header_quirk() -> None:
    """c204 splits its header tokens over two lines; N is still read as 100."""
    instance = read_instance(DATA / "c204.txt")
    assert instance.header == ("2", "4", "100", "1", "0", "700")
    assert instance.n_customers == 100
    assert instance.tmax == 3390
    assert instance.decimals == 1
    assert instance.vertices[100].id == 100


def test_pr01_crlf_and_variable_list() -> None:
    """A CRLF pr file: O/C are the last two tokens whatever the list length."""
    raw = (DATA / "pr01.txt").read_bytes()
    assert b"\r\n" in raw
    instance = read_instance(DATA / "pr01.txt")
    assert instance.n_customers == 48
    assert instance.decimals == 2
    v47 = instance.vertices[47]
    assert (v47.service, v47.score, v47.open, v47.close) == (10, 21, 123, 302)
    problem = to_problem(instance, 1)
    assert problem.nodes[47].windows == ((12300, 30200),)
    assert problem.nodes[47].service_min == 1000
    assert problem.tours[0].latest_arrival == 100000


def test_crlf_and_lf_parse_the_same() -> None:
    """Line endings do not change the parsed instance."""
    text = (DATA / "c101.txt").read_text()
    crlf = text.replace("\n", "\r\n")
    assert parse_instance(crlf, "c101") == parse_instance(text, "c101")


def test_distances_are_truncated() -> None:
    """Solomon distances are truncated to 1 decimal, pr distances to 2 decimals."""
    c101 = read_instance(DATA / "c101.txt")
    # Depot (40, 50) to customer 1 (45, 68): sqrt(349) = 18.681... -> 18.6.
    assert distance_matrix(c101)[0][1] == 186
    pr01 = read_instance(DATA / "pr01.txt")
    v0, v1 = pr01.vertices[0], pr01.vertices[1]
    exact = float(((v0.x - v1.x) ** 2 + (v0.y - v1.y) ** 2).sqrt())
    assert distance_matrix(pr01)[0][1] == int(exact * 100)


def test_righini_salani_c101_route_matches_published_times() -> None:
    """The published optimal c101 route (score 320) has the published start times."""
    problem = to_problem(read_instance(DATA / "c101.txt"), 1)
    route = [57, 63, 62, 74, 93, 97, 12, 2, 21, 75]
    plans = plans_from_sequences(problem, [route])
    assert plans is not None
    starts = [v.start for v in plans[0].visits]
    assert starts[:2] == [350, 1710]
    assert starts[-1] == 10586
    assert validate(problem, plans) == []
    assert sum(problem.nodes[i].score for i in route) == 320


def test_c101_m1_solved_to_optimum() -> None:
    """The engine finds the proven m=1 optimum 320 of c101 within 3 s."""
    problem = to_problem(read_instance(DATA / "c101.txt"), 1)
    solution = solve(problem, SolverParams(time_limit_s=3.0))
    assert solution.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert validate(problem, solution) == []
    assert solution.score == 320


def test_cli_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    """main() prints exactly one JSON line with the documented keys."""
    assert main([str(DATA / "pr01.txt"), "--tours", "2", "--time-limit", "1.5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) == {"instance", "tours", "score", "routes", "seconds"}
    assert result["instance"] == "pr01"
    assert result["tours"] == 2
    assert len(result["routes"]) == 2
    assert result["seconds"] <= 1.5
    problem = to_problem(read_instance(DATA / "pr01.txt"), 2)
    inner = [route[1:-1] for route in result["routes"]]
    assert all(route[0] == 0 and route[-1] == 0 for route in result["routes"])
    plans = plans_from_sequences(problem, inner)
    assert plans is not None
    assert validate(problem, plans) == []
    assert result["score"] == sum(problem.nodes[i].score for r in inner for i in r)


def test_cli_as_module() -> None:
    """``python -m itineraries.solver.toptw`` runs and prints one JSON line."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "itineraries.solver.toptw",
            str(DATA / "c204.txt"),
            "--tours",
            "1",
            "--time-limit",
            "1",
            "--seed",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = completed.stdout.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["instance"] == "c204"
    assert result["score"] > 0
