"""The lab's operations: a simulation with its bound and baselines, a policy what-if, the
ranked recruitment moves, and stored runs (inputs, seed, code version, outputs)."""

from __future__ import annotations

import functools
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from lab.models import LabRun
from lab.response import ResponseModel, response_model_fit
from lab.simulator import (
    BROADCAST,
    CASCADE,
    Demand,
    Scenario,
    ScenarioError,
    WorkerBatch,
    demand_from_history,
    figures,
    policy_parse,
    simulate_run,
    workers_parse,
)
from pools.models import Pool, Role, Skill
from providers.models import Site
from shifts.matching.memory import PrefilterAnswers

Progress = Callable[[float], None]
BASELINE_FIGURES = (
    "fill_rate_hours",
    "fill_rate_shifts",
    "hours_filled",
    "places_filled",
    "offers_per_filled_place",
    "median_time_to_fill_minutes",
    "p90_time_to_fill_minutes",
    "agency_spend_avoided",
    "escalations",
)
RECRUIT_BATCH = 5


@functools.cache
def code_version() -> str:
    """The git commit the code runs from, or ``GIT_COMMIT`` from the environment."""
    if os.environ.get("GIT_COMMIT"):
        return os.environ["GIT_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(settings.BASE_DIR),
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _part(progress: Progress | None, low: float, high: float) -> Progress | None:
    if progress is None:
        return None
    return lambda share: progress(low + (high - low) * share)


def _policy_view(pool: Pool, policy: dict[str, Any]) -> dict[str, Any]:
    names = (
        "first_wave_size",
        "wave_growth",
        "wave_interval_minutes",
        "offer_ttl_minutes",
        "urgent_within_hours",
        "default_radius_km",
    )
    view = {name: getattr(pool, name) for name in names} | policy
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in view.items()}


def lab_simulate(
    *,
    pool: Pool,
    start: date,
    end: date,
    seed: int = 0,
    policy: dict[str, Any] | None = None,
    add_workers: list[WorkerBatch] | None = None,
    demand: list[Demand] | None = None,
    model: ResponseModel | None = None,
    baselines: bool = True,
    optimum: bool = True,
    progress: Progress | None = None,
    prefilter: PrefilterAnswers | None = None,
) -> dict[str, Any]:
    """One simulation of the pool's policy (with ``policy`` changes) on the range's demand,
    the offline optimum on the same answers, and the broadcast and cascade baselines
    (sharing the prefilter's answers, with ``prefilter`` if given: see ``simulate_run``)."""
    started = time.perf_counter()
    policy = policy or {}
    prefilter = prefilter if prefilter is not None else PrefilterAnswers()
    if model is None:
        model = response_model_fit(pool=pool)
    scenario = Scenario(
        pool=pool,
        start=start,
        end=end,
        seed=seed,
        policy=policy,
        add_workers=add_workers or [],
        demand=demand,
    )
    share = (0.0, 0.5) if baselines else (0.0, 1.0)
    main = simulate_run(
        scenario=scenario,
        model=model,
        with_eligibility=optimum,
        progress=_part(progress, *share),
        prefilter=prefilter,
    )
    out: dict[str, Any] = {
        "pool": pool.slug,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "seed": seed,
        "policy": _policy_view(pool, policy),
        "add_workers": [b.label() for b in scenario.add_workers],
    }
    out |= figures(main)
    if optimum:
        from lab.optimum import optimum_compute  # SciPy: loaded by the runs that need it

        bound = optimum_compute(main)
        best = bound["hours"]
        requested = out["hours_requested"]
        out |= {
            "optimum_hours": best,
            "optimum_places": bound["places"],
            "optimum_fill_rate_hours": round(best / requested, 4) if requested else 0.0,
            "ratio_to_optimum": round(out["hours_filled"] / best, 4) if best else None,
            "bound": bound["bound"],
            "bound_seconds": bound["seconds"],
        }
    if baselines:
        out["baselines"] = {}
        for index, (name, extra, cascade) in enumerate(
            (("broadcast", BROADCAST, False), ("cascade", CASCADE, True))
        ):
            run = simulate_run(
                scenario=replace(scenario, policy=policy | extra, advance_on_answer=cascade),
                model=model,
                progress=_part(progress, 0.5 + 0.25 * index, 0.75 + 0.25 * index),
                prefilter=prefilter,
            )
            figs = figures(run)
            entry = {k: figs[k] for k in BASELINE_FIGURES}
            if optimum and out.get("optimum_hours"):
                entry["ratio_to_optimum"] = round(figs["hours_filled"] / out["optimum_hours"], 4)
            out["baselines"][name] = entry
    out["response_model"] = {
        "offers": model.n_offers,
        "base_rate": model.base_rate,
        "table": model.table(),
        "heldout": model.heldout,
        "decline_share": model.decline_share,
        "median_accept_delay_minutes": model.accept_delays[len(model.accept_delays) // 2],
    }
    out["code_version"] = code_version()
    out["seconds"] = round(time.perf_counter() - started, 2)
    if progress is not None:
        progress(1.0)
    return out


def lab_compare(
    *,
    pool: Pool,
    start: date,
    end: date,
    seed: int,
    policies: list[dict[str, Any]],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Policy what-if: the current settings and each alternative on the same demand and the
    same answers, side by side (the first column is the pool as it is)."""
    model = response_model_fit(pool=pool)
    columns: list[dict[str, Any]] = [{}] + [p for p in policies if p]
    prefilter = PrefilterAnswers()
    results = []
    for index, policy in enumerate(columns):
        part = _part(progress, index / len(columns), (index + 1) / len(columns))
        results.append(
            lab_simulate(
                pool=pool,
                start=start,
                end=end,
                seed=seed,
                policy=policy,
                model=model,
                baselines=False,
                optimum=index == 0,
                progress=part,
                prefilter=prefilter,
            )
        )
    best = results[0].get("optimum_hours")
    for result in results:
        if best:
            result["ratio_to_optimum"] = round(result["hours_filled"] / best, 4)
            result["optimum_hours"] = best
    return {"columns": results, "optimum_hours": best, "bound": results[0].get("bound")}


def lab_recruitment_whatif(
    *,
    pool: Pool,
    start: date,
    end: date,
    seed: int,
    add_workers: list[WorkerBatch],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Recruitment what-if: the pool as it is and with the recruits, on the same demand
    and the same answers; the difference is what the recruits would buy."""
    model = response_model_fit(pool=pool)
    common: dict[str, Any] = {
        "pool": pool, "start": start, "end": end, "seed": seed, "model": model,
    }  # fmt: skip
    without = lab_simulate(
        **common, baselines=False, optimum=False, progress=_part(progress, 0, 0.5)
    )
    with_ = lab_simulate(
        **common, add_workers=add_workers, baselines=False, optimum=False,
        progress=_part(progress, 0.5, 1.0),
    )  # fmt: skip
    return {
        "without": without,
        "with": with_,
        "added_hours": round(with_["hours_filled"] - without["hours_filled"], 2),
        "added_agency_spend_avoided": round(
            with_["agency_spend_avoided"] - without["agency_spend_avoided"], 2
        ),
    }


def recruitment_candidates(
    *, pool: Pool, start: date, end: date, unfilled: dict[str, float], limit: int
) -> list[tuple[WorkerBatch, float]]:
    """Screen recruitment moves without simulating: the unfilled hours of the run, grouped
    by the role, the skills and the site's postcode district each place needed. The moves
    with the most unfilled hours behind them are simulated."""
    demand = {d.key: d for d in demand_from_history(pool=pool, start=start, end=end)}
    roles = dict(Role.objects.values_list("pk", "slug"))
    skills = dict(Skill.objects.values_list("pk", "slug"))
    districts = dict(Site.objects.filter(provider__pool=pool).values_list("pk", "district"))
    weight: dict[tuple[str, tuple[str, ...], str], float] = defaultdict(float)
    for key, hours in unfilled.items():
        d = demand.get(key)
        if d is None or not districts.get(d.site_id):
            continue
        move = (
            roles[d.role_id],
            tuple(sorted(skills[s] for s in d.skill_ids)),
            districts[d.site_id],
        )
        weight[move] += hours
    ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [
        (WorkerBatch(RECRUIT_BATCH, role, sk, district), round(hours, 2))
        for (role, sk, district), hours in ranked
    ]


def lab_recruitment_moves(
    *,
    pool: Pool,
    start: date,
    end: date,
    seed: int,
    moves: int = 3,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The recruitment moves (role x skills x district, in batches of five workers) that
    add the most filled hours, each measured by its own simulation against the pool as it
    is, best first."""
    model = response_model_fit(pool=pool)
    scenario = Scenario(pool=pool, start=start, end=end, seed=seed)
    base_run = simulate_run(scenario=scenario, model=model, progress=_part(progress, 0, 0.2))
    base = figures(base_run)
    filled: dict[str, int] = defaultdict(int)
    for b in base_run.bookings:
        filled[b.shift_key] += 1
    unfilled = {
        d.key: (d.headcount - filled[d.key]) * d.hours
        for d in base_run.demand
        if filled[d.key] < d.headcount
    }
    candidates = recruitment_candidates(
        pool=pool, start=start, end=end, unfilled=unfilled, limit=moves
    )
    rows = []
    for index, (batch, behind) in enumerate(candidates):
        part = _part(progress, 0.2 + 0.8 * index / max(len(candidates), 1),
                     0.2 + 0.8 * (index + 1) / max(len(candidates), 1))  # fmt: skip
        run = simulate_run(
            scenario=replace(scenario, add_workers=[batch]), model=model, progress=part
        )
        figs = figures(run)
        rows.append(
            {
                "move": batch.label(),
                "role": batch.role,
                "skills": " ".join(batch.skills),
                "district": batch.district,
                "workers": batch.count,
                "unfilled_hours_behind": behind,
                "added_hours": round(figs["hours_filled"] - base["hours_filled"], 2),
                "fill_rate_hours": figs["fill_rate_hours"],
                "added_agency_spend_avoided": round(
                    figs["agency_spend_avoided"] - base["agency_spend_avoided"], 2
                ),
            }
        )
    rows.sort(key=lambda r: (-r["added_hours"], r["move"]))
    if progress is not None:
        progress(1.0)
    return {"base": base, "moves": rows}


def lab_run_create(
    *, pool: Pool, kind: str, inputs: dict[str, Any], seed: int, by: User | None
) -> LabRun:
    """Store a run and, in the same transaction, the outbox's intent to execute it (a
    Celery worker picks it up once this commits)."""
    from outbox.services import outbox_put

    _inputs_check(kind, inputs)
    run = LabRun.objects.create(
        pool=pool,
        kind=kind,
        inputs=inputs,
        seed=seed,
        created_by=by,
        code_version=code_version(),
    )
    outbox_put(handler="lab.tasks.lab_run_start", payload={"run_id": run.pk})
    return run


def _inputs_check(kind: str, inputs: dict[str, Any]) -> None:
    if kind not in LabRun.Kind.values:
        raise ScenarioError(f"Unknown kind of run {kind!r}.")
    start, end = date.fromisoformat(inputs["from"]), date.fromisoformat(inputs["to"])
    if end < start:
        raise ScenarioError("The range ends before it starts.")
    if end >= timezone.localdate():
        raise ScenarioError("Replay a range that ends before today.")
    if (end - start).days >= 120:
        raise ScenarioError("Simulate at most 120 days at once.")
    for policy in inputs.get("policies", []):
        policy_parse([f"{k}={v}" for k, v in policy.items()])
    workers_parse(inputs.get("add_workers", []))


def _progress_key(run_id: int) -> str:
    return f"lab:run:{run_id}:progress"


def lab_run_progress(*, run: LabRun) -> float:
    """How far a running run has got, 0 to 1 (kept in the cache, not the database: the
    simulation's own transaction is rolled back, and its progress must be seen meanwhile)."""
    if run.status == LabRun.Status.DONE:
        return 1.0
    value = cache.get(_progress_key(run.pk))
    return float(value) if value is not None else 0.0


def lab_run_execute(*, run_id: int) -> LabRun | None:
    """Claim a queued run, execute it and store its outputs (or the reason it failed).
    A run already claimed or finished is left alone (returns ``None``)."""
    claimed = LabRun.objects.filter(pk=run_id, status=LabRun.Status.QUEUED).update(
        status=LabRun.Status.RUNNING
    )
    if not claimed:
        return None
    run = LabRun.objects.select_related("pool").get(pk=run_id)
    key = _progress_key(run.pk)
    last = [0.0]

    def progress(share: float) -> None:
        if share - last[0] >= 0.01 or share >= 1.0:
            last[0] = share
            cache.set(key, round(share, 3), timeout=86400)

    started = time.perf_counter()
    inputs = run.inputs
    start, end = date.fromisoformat(inputs["from"]), date.fromisoformat(inputs["to"])
    try:
        if run.kind == LabRun.Kind.COMPARE:
            policies = [
                policy_parse([f"{k}={v}" for k, v in p.items()]) for p in inputs.get("policies", [])
            ]
            outputs = lab_compare(
                pool=run.pool, start=start, end=end, seed=run.seed, policies=policies,
                progress=progress,
            )  # fmt: skip
        elif run.kind == LabRun.Kind.RECRUIT:
            outputs = lab_recruitment_moves(
                pool=run.pool, start=start, end=end, seed=run.seed,
                moves=int(inputs.get("moves", 3)), progress=progress,
            )  # fmt: skip
        else:
            outputs = lab_recruitment_whatif(
                pool=run.pool, start=start, end=end, seed=run.seed,
                add_workers=workers_parse(inputs.get("add_workers", [])), progress=progress,
            )  # fmt: skip
    except ScenarioError as exc:
        run.status, run.error = LabRun.Status.FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded on the run for the coordinator, then raised
        LabRun.objects.filter(pk=run.pk).update(
            status=LabRun.Status.FAILED,
            error=f"The run failed: {type(exc).__name__}.",
            finished_at=timezone.now(),
        )
        raise
    else:
        run.status, run.outputs = LabRun.Status.DONE, outputs
    run.seconds = round(time.perf_counter() - started, 2)
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "outputs", "seconds", "finished_at"])
    cache.delete(key)
    return run


def lab_run_record(
    *, pool: Pool, kind: str, inputs: dict[str, Any], seed: int, outputs: dict[str, Any]
) -> LabRun:
    """Store a run that has already been executed (by the management command)."""
    return LabRun.objects.create(
        pool=pool,
        kind=kind,
        inputs=inputs,
        seed=seed,
        code_version=code_version(),
        outputs=outputs,
        status=LabRun.Status.DONE,
        seconds=outputs.get("seconds"),
        finished_at=timezone.now(),
    )
