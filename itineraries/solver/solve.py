"""Entry point: ``solve(problem, params) -> Solution``.

Time split (all within ``params.time_limit_s`` minus a small safety margin):

1. reachability / arc pruning (shared by both phases);
2. the seeded ILS heuristic for ``heuristic_share`` of the limit;
3. the CP-SAT segment LNS (:mod:`itineraries.solver.lns`) up to
   ``1 - cp_sat_share`` of the limit (skipped for small problems);
4. CP-SAT on the exact full model, hinted with the best plan, for what remains
   (model building time included); it may improve the plan, gives the bound and
   proves optimality on small problems. When building the full model would eat
   more than half of that slot (at 10 s: more than about 12 500 candidate pairs
   over all tours, e.g. > 111 candidates on one tour or > 55 on each of four),
   it is skipped and the LNS runs to the end instead: no bound is reported.
   Without a heuristic plan (e.g. mandatory nodes the greedy could not place)
   the full model always gets all the remaining time.

The bound is the CP-SAT bound when the full model ran, capped by the trivial
bound "every reachable node visited"; a plan reaching the bound is OPTIMAL (and
a plan visiting every reachable node ends the search at once).

The best plan found is returned, re-checked by the independent validator (a
failing check raises :class:`SolverBugError`: it would be a bug, never a user
error). CP-SAT ``MODEL_INVALID`` raises the same way.

Determinism: the ILS and the LNS use ``random.Random(seed)``; CP-SAT gets
``random_seed``; with ``num_workers > 1`` CP-SAT runs with ``interleave_search``
(reproducible multi-worker search), the LNS sub-solves always use one worker. A
phase that ends by convergence or proof is reproducible; a phase cut by the
wall clock depends on machine speed. ``SolverParams(deterministic=True)`` makes
every phase stop on a work budget instead (ILS iterations, LNS moves, CP-SAT
deterministic time), the wall clock then only being a safety net.
"""

from __future__ import annotations

import math
import time

from ortools.sat.python import cp_model

from itineraries.solver.datatypes import (
    OrienteeringProblem,
    Solution,
    SolverBugError,
    SolverParams,
    SolveStatus,
    TourPlan,
)
from itineraries.solver.extract import plans_from_sequences, sequences_from_values
from itineraries.solver.heuristic import run_ils
from itineraries.solver.lns import improve_with_lns
from itineraries.solver.model import add_hint, build_model
from itineraries.solver.reach import TourReach, all_reach
from itineraries.solver.validate import validate

# Work budgets used when ``params.deterministic`` is set (per second of limit).
_ILS_ITERATIONS_PER_S = 150
_CP_SAT_DETERMINISTIC_PER_S = 1.0
_LNS_MOVES_PER_S = 15
# Small problems skip the LNS: the full CP-SAT model handles them directly.
_LNS_MIN_CANDIDATES = 30
# Python time to create one arc literal and its precedence constraint (measured
# about 15 us alone, more on a busy machine; rounded up generously).
_BUILD_S_PER_ARC = 4e-5
# Below this many seconds left, CP-SAT is not started at all.
_MIN_CP_SAT_S = 0.02


def _score(problem: OrienteeringProblem, plans: tuple[TourPlan, ...]) -> int:
    return sum(problem.nodes[v.node].score for plan in plans for v in plan.visits)


def _sequence_score(problem: OrienteeringProblem, sequences: list[list[int]]) -> int:
    return sum(problem.nodes[i].score for sequence in sequences for i in sequence)


def _build_estimate_s(reach: list[TourReach]) -> float:
    """Rough upper estimate of the time to build the full CP-SAT model."""
    return _BUILD_S_PER_ARC * sum(len(r.candidates) ** 2 for r in reach)


def _margin(limit: float) -> float:
    return min(0.5, 0.05 * limit)


def solve(problem: OrienteeringProblem, params: SolverParams | None = None) -> Solution:
    """Solve ``problem`` within ``params.time_limit_s`` seconds."""
    params = params or SolverParams()
    started = time.perf_counter()
    limit = params.time_limit_s
    wall = (
        params.wall_limit_s if params.deterministic and params.wall_limit_s else limit
    )
    deadline = started + wall - _margin(wall)
    if problem.budget_minor is not None:
        # Every plan visits the mandatory nodes: their prices alone may break it.
        must = problem.spend(n.id for n in problem.nodes if n.mandatory)
        if must > problem.budget_minor:
            wall = time.perf_counter() - started
            return Solution(SolveStatus.INFEASIBLE, (), 0, None, None, wall)
    reach = all_reach(problem)

    # Trivial bound: every node that fits on some tour is visited.
    everything = sum(
        problem.nodes[i].score for i in {i for r in reach for i in r.candidates}
    )
    best: tuple[TourPlan, ...] | None = None
    best_score = -1
    full_model = True
    if params.use_heuristic:
        ils_deadline = min(deadline, started + limit * params.heuristic_share)
        iterations = None
        if params.deterministic:
            # Work budget instead of a phase deadline; the wall clock is a safety net.
            ils_deadline = deadline
            iterations = max(
                1, int(limit * params.heuristic_share * _ILS_ITERATIONS_PER_S)
            )
        if not params.use_cp_sat:
            ils_deadline = deadline
        sequences = run_ils(
            problem, reach, params.random_seed, ils_deadline, iterations
        )
        n_candidates = len({i for r in reach for i in r.candidates})
        # The full model is only worth building if that takes a fraction of its slot.
        full_model = _build_estimate_s(reach) <= 0.5 * limit * params.cp_sat_share
        if (
            sequences is not None
            and params.use_cp_sat
            and n_candidates > _LNS_MIN_CANDIDATES
            and _sequence_score(problem, sequences) < everything
        ):
            lns_deadline = min(deadline, started + limit * (1 - params.cp_sat_share))
            if not full_model:
                lns_deadline = deadline
            moves = None
            if params.deterministic:
                lns_deadline = deadline
                share = 1 - params.cp_sat_share - params.heuristic_share
                moves = max(1, int(limit * share * _LNS_MOVES_PER_S))
            sequences = improve_with_lns(
                problem,
                reach,
                sequences,
                params.random_seed,
                lns_deadline,
                moves,
                deterministic=params.deterministic,
            )
        if sequences is not None:
            best = plans_from_sequences(problem, sequences)
            if best is None:
                raise SolverBugError("heuristic returned an infeasible sequence")
            best_score = _score(problem, best)

    from_cp_sat = best is None  # the heuristic found no plan of its own
    status = (
        SolveStatus.FEASIBLE if best is not None else SolveStatus.NO_SOLUTION_IN_TIME
    )
    bound: int | None = None
    remaining = deadline - time.perf_counter()
    if (
        params.use_cp_sat
        and remaining > _MIN_CP_SAT_S
        and (best is None or (full_model and best_score < everything))
    ):
        built = build_model(problem, reach)
        if best is not None:
            add_hint(problem, built, best)
        remaining = deadline - time.perf_counter()
        if remaining > _MIN_CP_SAT_S:
            solver = cp_model.CpSolver()
            p = solver.parameters
            # CP-SAT may overshoot its limit a little (presolve on big models).
            p.max_time_in_seconds = 0.8 * remaining
            p.num_workers = params.num_workers
            p.random_seed = params.random_seed
            p.log_search_progress = params.log_search_progress
            if params.num_workers > 1:
                p.interleave_search = True  # reproducible multi-worker search
            if params.deterministic:
                p.max_deterministic_time = max(
                    0.01, limit * params.cp_sat_share * _CP_SAT_DETERMINISTIC_PER_S
                )
            cp_status = solver.solve(built.model)
            if cp_status == cp_model.MODEL_INVALID:
                raise SolverBugError("CP-SAT model invalid: " + built.model.validate())
            if cp_status == cp_model.INFEASIBLE:
                if best is not None:
                    raise SolverBugError("CP-SAT proved infeasible a valid plan")
                status = SolveStatus.INFEASIBLE
            elif cp_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                plans = plans_from_sequences(
                    problem, sequences_from_values(built, solver)
                )
                if plans is None:
                    raise SolverBugError("CP-SAT returned an infeasible sequence")
                score = _score(problem, plans)
                if score > best_score:
                    best, best_score = plans, score
                status = SolveStatus.FEASIBLE
                if cp_status == cp_model.OPTIMAL and best_score >= round(
                    solver.objective_value
                ):
                    status = SolveStatus.OPTIMAL
            if cp_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                raw = solver.best_objective_bound
                if math.isfinite(raw):
                    bound = math.floor(raw + 1e-6)
    if (
        from_cp_sat
        and params.use_heuristic
        and best is not None
        and best_score < (everything if bound is None else bound)
    ):
        # The greedy start could not place the mandatory nodes but CP-SAT could:
        # the local search goes on from CP-SAT's plan (its first solution often
        # leaves whole days empty that a free sight nearby would fill).
        iterations = None
        if params.deterministic:
            iterations = max(
                1, int(limit * params.heuristic_share * _ILS_ITERATIONS_PER_S)
            )
        sequences = run_ils(
            problem,
            reach,
            params.random_seed,
            deadline,
            iterations,
            initial=[[v.node for v in plan.visits] for plan in best],
        )
        if sequences is not None:
            plans = plans_from_sequences(problem, sequences)
            if plans is None:
                raise SolverBugError("heuristic returned an infeasible sequence")
            score = _score(problem, plans)
            if score > best_score:
                best, best_score = plans, score
    if status != SolveStatus.INFEASIBLE:
        bound = everything if bound is None else min(bound, everything)
    if best is not None and bound is not None and best_score >= bound:
        status = SolveStatus.OPTIMAL
    wall = time.perf_counter() - started
    if best is None:
        return Solution(status, (), 0, None, bound, wall)
    solution = Solution(status, best, best_score, best_score, bound, wall)
    errors = validate(problem, solution)
    if errors:
        raise SolverBugError("returned plan is invalid: " + "; ".join(errors))
    return solution
