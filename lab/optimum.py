"""The offline optimum: the most hours (then places) that could have been filled had every
answer been known in advance, for the same demand, workers and rules.

The candidates come from the real matching code: ``simulate_run(with_eligibility=True)``
asks ``shift_eligible_workers`` for each posted copy before anything is booked, so every
rule matching has (vetted, role, skills, documents, distance, availability, blocks, and the
working-time rules against bookings outside the range) is applied by matching itself. Of
those, the pairs whose drawn answer is "yes" are the edges. What remains between the
replayed shifts themselves are matching's three working-time rules, written here as
constraints with matching's own parameters:

- no two bookings of a worker overlap, and between two of them there are at least the
  pool's ``rest_hours`` (a gap shorter than that is a clash): per worker, every maximal set
  of pairwise-clashing shifts takes at most one (the clash graph is an interval graph, so
  these clique constraints are exact and the LP relaxation is tight on them);
- the weekly hours cap: matching counts, for a shift, the hours booked in the ISO week
  (Europe/London) the shift starts in plus the shift's hours in that week; per worker and
  week, the hours of the chosen shifts starting that week stay within the cap less the
  hours already booked there (a relaxation of the online order, so still an upper bound);
- a shift takes at most its headcount.

Solver: when no worker can take two of their candidate shifts, the problem is a bipartite
matching (``scipy.sparse.csgraph.maximum_bipartite_matching`` for places when every shift
is equally long, else ``scipy.optimize.linear_sum_assignment`` on hours): ``bound="matching"``.
Otherwise an exact MIP with ``scipy.optimize.milp`` (HiGHS) under a time limit:
``bound="exact"``; if HiGHS does not prove optimality in time, its LP relaxation (an upper
bound): ``bound="lp"``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from lab.response import hours_in_week, iso_week_start
from lab.simulator import RunResult

TIME_LIMIT_SECONDS = 30.0


def _cliques(items: list[tuple[float, float, int]]) -> list[list[int]]:
    """Maximal sets of pairwise-overlapping open intervals (start, end, var)."""
    out: list[list[int]] = []
    active: list[tuple[float, int]] = []
    dirty = False
    for start, end, var in sorted(items):
        still = [(e, v) for e, v in active if e > start]
        if len(still) < len(active) and dirty:
            if len(active) >= 2:
                out.append([v for _e, v in active])
            dirty = False
        active = still + [(end, var)]
        dirty = True
    if dirty and len(active) >= 2:
        out.append([v for _e, v in active])
    return out


def optimum_compute(result: RunResult, time_limit: float = TIME_LIMIT_SECONDS) -> dict[str, Any]:
    started = time.perf_counter()
    assert result.eligible is not None, "run the simulation with_eligibility=True"
    demand = {d.key: d for d in result.demand}
    pairs: list[tuple[str, int]] = []
    for key, candidates in result.eligible.items():
        for c in candidates:
            answer = result.answers.get((key, c["worker_id"]))
            if answer is not None and answer.accepts:
                pairs.append((key, c["worker_id"]))
    hours = np.array([demand[k].hours for k, _w in pairs])
    base: dict[str, Any] = {"pairs": len(pairs)}
    if not pairs:
        return base | {"bound": "exact", "places": 0, "hours": 0.0, "seconds": 0.0}

    rest = result.rest_hours * 3600 / 2
    by_worker: dict[int, list[int]] = defaultdict(list)
    for i, (_k, w) in enumerate(pairs):
        by_worker[w].append(i)
    rows: list[list[int]] = []
    coefs: list[list[float]] = []
    upper: list[float] = []
    single = True
    for w, vars_ in by_worker.items():
        items = [
            (
                demand[pairs[i][0]].start.timestamp() - rest,
                demand[pairs[i][0]].end.timestamp() + rest,
                i,
            )
            for i in vars_
        ]
        cliques = _cliques(items)
        if len(vars_) > 1 and not (len(cliques) == 1 and len(cliques[0]) == len(vars_)):
            single = False
        for clique in cliques:
            rows.append(clique)
            coefs.append([1.0] * len(clique))
            upper.append(1.0)
        cap = float(result.worker_facts.get(w, {}).get("cap", 48))
        weeks: dict[str, list[int]] = defaultdict(list)
        for i in vars_:
            weeks[iso_week_start(demand[pairs[i][0]].start).date().isoformat()].append(i)
        for members in weeks.values():
            first = demand[pairs[members[0]][0]]
            room = cap - hours_in_week(result.week_hours.get(w, []), first.start)
            clipped = [
                hours_in_week([(demand[pairs[i][0]].start, demand[pairs[i][0]].end)], first.start)
                for i in members
            ]
            if sum(clipped) > room + 1e-9:
                if len(members) > 1:
                    single = False
                rows.append(members)
                coefs.append(clipped)
                upper.append(room)
    by_shift: dict[str, list[int]] = defaultdict(list)
    for i, (k, _w) in enumerate(pairs):
        by_shift[k].append(i)
    for k, vars_ in by_shift.items():
        if len(vars_) > demand[k].headcount:
            rows.append(vars_)
            coefs.append([1.0] * len(vars_))
            upper.append(float(demand[k].headcount))

    if single:
        return (
            base
            | _matching(pairs, demand, hours)
            | {"seconds": round(time.perf_counter() - started, 3)}
        )

    row_ids = [i for i, row in enumerate(rows) for _ in row]
    col_ids = [v for row in rows for v in row]
    data = [x for row in coefs for x in row]
    a = csr_matrix(coo_matrix((data, (row_ids, col_ids)), shape=(len(rows), len(pairs))))
    # Most hours first; among equal hours, most places (the tie-break cannot outweigh a
    # quarter of an hour).
    weight = -(hours + 0.2 / (len(pairs) + 1))
    constraint = LinearConstraint(a, -np.inf, np.array(upper))
    solution = milp(
        weight,
        constraints=constraint,
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit},
    )
    if solution.status == 0 and solution.x is not None:
        x = np.round(solution.x)
        return base | {
            "bound": "exact",
            "places": int(x.sum()),
            "hours": round(float(hours @ x), 2),
            "seconds": round(time.perf_counter() - started, 3),
        }
    relaxed = milp(
        weight, constraints=constraint, integrality=np.zeros(len(pairs)), bounds=Bounds(0, 1)
    )
    x = relaxed.x if relaxed.x is not None else np.ones(len(pairs))
    return base | {
        "bound": "lp",
        "places": round(float(x.sum()), 2),
        "hours": round(float(hours @ x), 2),
        "seconds": round(time.perf_counter() - started, 3),
    }


def _matching(
    pairs: list[tuple[str, int]], demand: dict[str, Any], hours: np.ndarray
) -> dict[str, Any]:
    """Each worker can take one of their shifts at most: a bipartite matching of places
    (a shift with headcount n is n places) to workers."""
    keys = sorted({k for k, _w in pairs})
    workers = sorted({w for _k, w in pairs})
    column = {w: j for j, w in enumerate(workers)}
    places: list[str] = [k for k in keys for _ in range(demand[k].headcount)]
    first_place: dict[str, int] = {}
    for i, k in enumerate(places):
        first_place.setdefault(k, i)
    edges_r: list[int] = []
    edges_c: list[int] = []
    for k, w in pairs:
        for p in range(demand[k].headcount):
            edges_r.append(first_place[k] + p)
            edges_c.append(column[w])
    lengths = {round(demand[k].hours, 4) for k in keys}
    if len(lengths) == 1:
        graph = csr_matrix(
            (np.ones(len(edges_r)), (edges_r, edges_c)), shape=(len(places), len(workers))
        )
        match = maximum_bipartite_matching(graph, perm_type="column")
        n = int((match >= 0).sum())
        return {"bound": "matching", "places": n, "hours": round(n * lengths.pop(), 2)}
    weights = np.zeros((len(places), len(workers)))
    for r_, c_ in zip(edges_r, edges_c, strict=True):
        weights[r_, c_] = demand[places[r_]].hours
    rows, cols = linear_sum_assignment(weights, maximize=True)
    chosen = [(r_, c_) for r_, c_ in zip(rows, cols, strict=True) if weights[r_, c_] > 0]
    return {
        "bound": "matching",
        "places": len(chosen),
        "hours": round(float(sum(weights[r_, c_] for r_, c_ in chosen)), 2),
    }
