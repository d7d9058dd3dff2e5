#!/usr/bin/env python
"""Surge: 200 shifts posted at once, until every first wave is committed.

One command (PostgreSQL and Redis on 127.0.0.1; the 20,000-worker borough is built on
first use with ``seed_demo --workers 20000`` and kept):

    .venv/bin/python bench/surge.py                  # 3 rounds of every configuration
    .venv/bin/python bench/surge.py --write          # ... and record in docs/benchmarks.md
    .venv/bin/python bench/surge.py --db flexpool_bench15 --rounds 2 --configs 1x1 2x1

Method. A configuration ``NxC`` is N Celery worker nodes (separate ``celery worker``
processes, each named ``surgeK@host``) with C processes each (``--pool=solo`` for 1,
``--pool=prefork --concurrency=C`` otherwise), all on the same Redis queue, prefetch one,
acks late, DEBUG off, as settings configure them. For each round and configuration (interleaved:
every configuration once per round) the nodes are started and waited for until ready, then
200 varied shifts (sites across the borough, care worker 70 %, 6–12 h, 8 h to 7 days ahead,
headcount 1–3) are posted through ``shift_post`` in ONE transaction — the surge: every
shift committed at the same instant, every matching intent handed to Celery by the outbox
after that commit. The clock starts at the commit (an ``on_commit`` hook registered first)
and stops when the last shift's first ``MatchRun`` is visible (polled every 100 ms); offer
messages' delivery tasks share the queue, as in production. Afterwards the bench checks
that no shift has two first-wave runs, stops the nodes and deletes its shifts. One burst
with the first configuration goes first and is not counted (``--warmup``): on a database
just built, PostgreSQL's buffers are cold for the first bursts, as a pool's database that
has been polled and swept all night is not; its time is printed and recorded beside the
figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from docs_section import benchmarks_section_write  # noqa: E402  (bench/ is on sys.path)

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NOTE = "bench surge"
WORKERS = 20_000
SECTION = "## Surge"


def configure(db: str, redis_db: int) -> dict[str, str]:
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "DJANGO_SETTINGS_MODULE": "flexpool.settings",
        "LOG_LEVEL": "WARNING",
        # As in production: no query log. A throwaway key, since DEBUG off demands one.
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    os.environ.update(env)
    return env


def database_ensure(db: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')


def data_ensure(history: int) -> str:
    from django.core.management import call_command
    from django.db import connection

    from shifts.models import ShiftRequest
    from workers.models import Worker

    call_command("migrate", verbosity=0, interactive=False)
    if Worker.objects.count() < WORKERS or (history and ShiftRequest.objects.count() < history):
        print(f"Building the demo borough with {WORKERS} workers...", flush=True)
        extra = (
            {"providers": 500, "history_shifts": history, "days": 730, "reset": True}
            if history
            else {}
        )
        call_command("seed_demo", workers=WORKERS, verbosity=0, **extra)
    ShiftRequest.objects.filter(notes=NOTE).delete()
    with connection.cursor() as cursor:
        # As autovacuum keeps a live database: statistics, and the visibility map that lets
        # PostgreSQL answer count queries from an index alone (a freshly loaded table has
        # none until its first vacuum).
        cursor.execute("VACUUM (ANALYZE)")
    return f"{Worker.objects.count():,} workers, {ShiftRequest.objects.count():,} shift requests"


def burst_post(rng: random.Random, n: int) -> tuple[list[int], float]:
    """Post ``n`` varied shifts in one transaction; returns their ids and the commit time."""
    from django.db import transaction
    from django.utils import timezone

    from pools.models import Pool, Role, Skill
    from providers.models import Site
    from shifts.services.posting import shift_post

    pool = Pool.objects.get(slug="bury")
    sites = list(
        Site.objects.filter(provider__pool=pool, provider__is_active=True)
        .select_related("provider")
        .order_by("pk")
    )
    care = Role.objects.get(slug="care-worker")
    others = list(Role.objects.filter(slug__in=["senior-carer", "support-worker"]))
    skills = list(Skill.objects.filter(slug__in=["hoist", "dementia"]))
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    committed: list[float] = []
    ids = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))
        for _ in range(n):
            site = rng.choice(sites)
            start = now + timedelta(hours=rng.randint(8, 7 * 24))
            shift = shift_post(
                provider=site.provider,
                site=site,
                role=care if rng.random() < 0.7 else rng.choice(others),
                skills=[s for s in skills if rng.random() < 0.15],
                start=start,
                end=start + timedelta(hours=rng.choice([6, 8, 10, 12])),
                headcount=rng.choice([1, 1, 1, 2, 3]),
                notes=NOTE,
            )
            ids.append(shift.pk)
    return ids, committed[0] if committed else time.time()


def nodes_start(
    nodes: int, per_node: int, env: dict[str, str], logs: Path, root: Path = ROOT
) -> list[subprocess.Popen[bytes]]:
    celery = str(Path(sys.executable).parent / "celery")
    subprocess.run(
        [celery, "-A", "flexpool", "purge", "-f"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        check=False,
    )
    pool = ["--pool=solo"] if per_node == 1 else ["--pool=prefork", f"--concurrency={per_node}"]
    started = []
    for k in range(nodes):
        log = logs / f"node{k}.log"
        started.append(
            subprocess.Popen(
                [
                    celery,
                    "-A",
                    "flexpool",
                    "worker",
                    *pool,
                    "-n",
                    f"surge{k}@%h",
                    "-Q",
                    "celery",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],  # fmt: skip
                cwd=root,
                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if all(
            " ready." in (logs / f"node{k}.log").read_text(errors="replace") for k in range(nodes)
        ):
            return started
        time.sleep(0.2)
    raise RuntimeError("Celery nodes did not start")


def nodes_stop(started: list[subprocess.Popen[bytes]]) -> None:
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(
    started: list[subprocess.Popen[bytes]], since: float
) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the Celery nodes' main processes, their pool processes, and the
    PostgreSQL backends they opened (client backends on this database started after
    ``since``, the nodes' start; the bench's own connection excluded)."""
    from django.db import connection

    parents = {p.pid for p in started}
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid in parents:
                children.add(int(entry.name))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
            "AND backend_start >= to_timestamp(%s)",
            [since],
        )
        backends = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()
    return {
        "celery main": {pid: _cpu_seconds(pid) for pid in parents},
        "celery pool": {pid: _cpu_seconds(pid) for pid in children},
        "postgres": {pid: _cpu_seconds(pid) for pid in backends},
        # The bench itself (posting, then polling for the last first wave) and its backend.
        "bench": {os.getpid(): _cpu_seconds(os.getpid()), own: _cpu_seconds(own)},
    }


def cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds each group used between two snapshots (a process new in ``after`` counts
    from zero: a PostgreSQL backend opened during the burst)."""
    return {
        group: sum(t - before[group].get(pid, 0.0) for pid, t in after[group].items())
        for group in after
    }


def wait_first_waves(ids: list[int], timeout: float = 300.0) -> float:
    from shifts.models import MatchRun

    pending = set(ids)
    deadline = time.monotonic() + timeout
    while pending:
        seen = set(MatchRun.objects.filter(shift_id__in=pending).values_list("shift_id", flat=True))
        now = time.time()
        pending -= seen
        if not pending:
            return now
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} shifts had no first wave after {timeout:.0f} s")
        time.sleep(0.1)  # finer polling took a fifth of a core from the workers
    return time.time()


def burst_run(  # type: ignore[no-untyped-def]
    config: str, args, env: dict[str, str], logs: Path, rng: random.Random
) -> tuple[float, float, float, int, dict[str, float]]:
    """One burst with the nodes of ``config`` started for it and stopped after: (seconds
    from the commit to the last first wave, load before, load after, shifts matched twice,
    CPU seconds by process group). The bench's shifts are deleted afterwards."""
    from shifts.models import MatchRun, ShiftRequest

    shape, _, tree = config.partition("@")
    nodes, per_node = (int(x) for x in shape.split("x"))
    since = time.time()
    root = Path(args.old_tree) if tree == "old" else ROOT
    workers = nodes_start(nodes, per_node, env, logs, root)
    try:
        load = os.getloadavg()[0]
        ids, committed = burst_post(rng, args.burst)
        # From the commit on (the snapshot takes milliseconds; the posting's own CPU
        # is left out, the workers sat idle until the commit).
        before = cpu_snapshot(workers, since)
        done = wait_first_waves(ids)
        cpu = cpu_used(before, cpu_snapshot(workers, since))
    finally:
        nodes_stop(workers)
    runs = Counter(
        MatchRun.objects.filter(shift_id__in=ids, wave=1).values_list("shift_id", flat=True)
    )
    twice = sum(1 for n in runs.values() if n > 1)
    ShiftRequest.objects.filter(pk__in=ids).delete()
    return done - committed, load, os.getloadavg()[0], twice, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="fp_bench_surge")
    parser.add_argument("--redis-db", type=int, default=4)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="bursts before the rounds, with the first configuration, not counted",
    )
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["1x1", "2x1", "1x2", "2x2"],
        help="NODESxPROCESSES, with @old to run the nodes from --old-tree (code A/B)",
    )
    parser.add_argument(
        "--old-tree",
        help="a worktree of the old code (git worktree add DIR COMMIT) for configs ending @old",
    )
    parser.add_argument(
        "--history-shifts",
        type=int,
        default=0,
        help="seed this much history (with 500 providers over 730 days), e.g. 1000000",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    env = configure(args.db, args.redis_db)
    database_ensure(args.db)
    import django

    django.setup()

    data = data_ensure(args.history_shifts)
    logs = Path("/tmp") / f"fp_surge_{os.getpid()}"
    logs.mkdir(exist_ok=True)
    rng = random.Random(7)
    results: dict[str, list[tuple[float, float, float, int, dict[str, float]]]] = {
        c: [] for c in args.configs
    }
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    warmups: list[float] = []
    for _ in range(args.warmup):
        # Not counted: the first bursts on a database just built or restored find
        # PostgreSQL's buffers cold (5.4 s against 4.0-4.4 s afterwards, 2026-12-03), which
        # a pool's database at 6 a.m., polled and swept all night, is not.
        seconds, *_rest = burst_run(args.configs[0], args, env, logs, rng)
        warmups.append(seconds)
        print(f"warm-up {args.configs[0]}: {seconds:.1f} s (not counted)", flush=True)
    for round_ in range(args.rounds):
        for config in args.configs:
            result = burst_run(config, args, env, logs, rng)
            results[config].append(result)
            seconds, load, load_end, twice, cpu = result
            print(
                f"round {round_ + 1} {config}: {args.burst} first waves in {seconds:.1f} s "
                f"({args.burst / seconds:.1f} shifts/s), matched twice: {twice}, "
                f"load {load:.1f} → {load_end:.1f}; CPU ms per first wave: "
                + ", ".join(f"{k} {v * 1000 / args.burst:.0f}" for k, v in cpu.items())
                + f"; the workers had {(sum(cpu.values()) - cpu['bench']) / seconds:.2f} of "
                f"{os.cpu_count()} cores",
                flush=True,
            )
    finished = time.strftime("%H:%M UTC", time.gmtime())
    report = _report(args, data, results, started_at, finished, warmups)
    print(report)
    if args.write:
        _write(report)


def _describe(config: str, old: str | None = None) -> str:
    shape, _, tree = config.partition("@")
    nodes, per_node = (int(x) for x in shape.split("x"))
    pool = "solo" if per_node == 1 else f"prefork × {per_node}"
    code = f", old code ({old})" if tree == "old" else ""
    return f"{nodes} node{'s' if nodes > 1 else ''}, {pool} ({nodes * per_node} process{'es' if nodes * per_node > 1 else ''}){code}"


def _report(args, data, results, started, finished, warmups) -> str:  # type: ignore[no-untyped-def]
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python bench/surge.py --db {args.db} --rounds {args.rounds} "
        + (f"--warmup {args.warmup} " if args.warmup != 1 else "")
        + f"--configs {' '.join(args.configs)}"
        + (f" --history-shifts {args.history_shifts}" if args.history_shifts else "")
        + (f" --redis-db {args.redis_db}" if args.redis_db != 4 else "")
        + (f" --old-tree {args.old_tree}" if args.old_tree else "")
        + f" --write` ({data}; the database is built on first use by `seed_demo --workers "
        f"{WORKERS}"
        + (
            f" --providers 500 --history-shifts {args.history_shifts} --days 730"
            if args.history_shifts
            else ""
        )
        + f"`; `VACUUM (ANALYZE)` first, as autovacuum keeps a live database). {args.burst} "
        "shifts posted in one transaction; "
        "the time is from that commit to the last first wave committed; configurations "
        "interleaved, one burst each per round"
        + (
            f", after {len(warmups)} warm-up burst{'s' if len(warmups) > 1 else ''} with "
            f"{args.configs[0]}, not counted (" + ", ".join(f"{w:.1f} s" for w in warmups) + ")"
            if warmups
            else ""
        )
        + ". Target: every first wave within 5 s.",
        "",
        f"Measured {started} to {finished} on {platform.machine()}, {os.cpu_count()} CPUs "
        "shared with other engineers' work; Python "
        f"{platform.python_version()}.",
        "",
        "| Celery workers | runs | median s | max s | shifts/s (median) | matched twice "
        "| CPU ms per first wave: node main / pool / PostgreSQL / bench (median) "
        "| cores they had "
        "| load (start → end) |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for config, rows in results.items():
        times = [r[0] for r in rows]
        med = statistics.median(times)
        loads = ", ".join(f"{r[1]:.1f} → {r[2]:.1f}" for r in rows)
        cpu = " / ".join(
            f"{statistics.median(r[4][group] for r in rows) * 1000 / args.burst:.0f}"
            for group in ("celery main", "celery pool", "postgres", "bench")
        )
        cores = statistics.median(
            sum(v for k, v in r[4].items() if k != "bench") / r[0] for r in rows
        )
        old = _git_head(Path(args.old_tree)) if args.old_tree else None
        lines.append(
            f"| {_describe(config, old)} | {len(rows)} | {med:.1f} | {max(times):.1f} "
            f"| {args.burst / med:.1f} | {sum(r[3] for r in rows)} | {cpu} | {cores:.2f} "
            f"| {loads} |"
        )
    lines.append("")
    return "\n".join(lines)


def _git_head(tree: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), "log", "-1", "--format=%h"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def _write(report: str) -> None:
    benchmarks_section_write(SECTION, report)


if __name__ == "__main__":
    main()
