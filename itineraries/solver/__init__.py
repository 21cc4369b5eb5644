"""Pure orienteering solver core (no Django): typed data, solve(), validate().

A team orienteering problem with time windows, generalised for itineraries:
per-tour start/end nodes and time spans, several windows per node, asymmetric
travel, prices with a budget, mandatory nodes, ``allowed_tours`` and a per-tour
cap on active time (``Tour.max_active_min``, the traveller's pace). See
:mod:`itineraries.solver.datatypes` for the exact semantics and
:mod:`itineraries.solver.solve` for the search and its determinism.

    problem = OrienteeringProblem(nodes, tours, travel, budget_minor=50_000)
    solution = solve(problem, SolverParams(time_limit_s=5, random_seed=0))
    assert validate(problem, solution) == []

Modules: ``datatypes`` (input/output types), ``reach`` (reachability, arc
pruning), ``heuristic`` (seeded ILS), ``model`` (CP-SAT model), ``lns`` (CP-SAT
segment LNS), ``extract`` (values -> plans), ``validate`` (independent checker),
``solve`` (orchestration), ``toptw`` (benchmark reader and CLI).
"""

from itineraries.solver.datatypes import (
    Node,
    OrienteeringProblem,
    Solution,
    SolverBugError,
    SolverParams,
    SolveStatus,
    Tour,
    TourPlan,
    Visit,
    Window,
)
from itineraries.solver.solve import solve
from itineraries.solver.validate import validate

__all__ = [
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
]
