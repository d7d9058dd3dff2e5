#!/usr/bin/env python
"""What a matching intent costs around its wave: the outbox and Celery, code A against B.

    git archive <old commit> | tar -x -C /tmp/old && ln -s $PWD/.venv /tmp/old/.venv
    .venv/bin/python bench/outbox_overhead.py --db fp_bench_1m --trees old=/tmp/old new=. \\
        --tasks 1000 --rounds 3

Method. For each round and tree (interleaved, in that order each round) one Celery node
(``celery worker`` from that tree, prefork × 2, as a node of bench/surge.py) is started
and waited for. Then ``--tasks`` outbox rows naming the matching handler
(``shifts.tasks.shift_match_due``) are written for a shift that exists but is not due (an
old, closed one), and each is published as the outbox publishes a matching intent (with
the header saying its handler is atomic, which older code ignores). A task then does
everything a first wave's task does except the wave's work: Celery's receiving,
acknowledging and per-task hooks, the outbox's reads, lock and mark, and the wave's lock
of its shift (skipped: not due) and the handler's check that it is not due. The clock runs
until every row is done; CPU is read from /proc for the node's main process, its pool
processes and the PostgreSQL backends they opened (bench/surge.py's ``cpu_snapshot``).
Prints µs of CPU per task (median of the rounds) and tasks per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import surge  # noqa: E402

HANDLER = "shifts.tasks.shift_match_due"


def shift_not_due() -> int:
    from django.utils import timezone

    from shifts.models import ShiftRequest

    shift = (
        ShiftRequest.objects.exclude(status=ShiftRequest.Status.OPEN)
        .filter(end__lt=timezone.now())
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return shift if shift is not None else 0  # none (an empty database): a shift not found


def burst(n: int, shift_id: int) -> list[int]:
    """Write ``n`` rows, then publish each as ``outbox_publish`` does for an atomic handler."""
    from flexpool.celery import app
    from outbox.models import OutboxMessage

    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(handler=HANDLER, payload={"shift_id": shift_id}) for _ in range(n)
    )
    ids = [r.pk for r in rows if r.pk is not None]
    for pk in ids:
        app.send_task("outbox.tasks.outbox_consume", args=[pk], headers={"outbox_atomic": True})
    return ids


def wait_done(ids: list[int], timeout: float = 300.0) -> float:
    from outbox.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=True).exists():
            return time.time()
        time.sleep(0.1)
    raise RuntimeError("tasks not done in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--redis-db", type=int, default=4)
    parser.add_argument("--trees", nargs="+", required=True, help="name=path, e.g. old=/tmp/old")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    env = surge.configure(args.db, args.redis_db)
    import django

    django.setup()
    from outbox.models import OutboxMessage

    trees = dict(t.split("=", 1) for t in args.trees)
    shift_id = shift_not_due()
    logs = Path("/tmp") / f"fp_outbox_overhead_{os.getpid()}"
    logs.mkdir(exist_ok=True)
    results: dict[str, list[tuple[float, dict[str, float], float]]] = {n: [] for n in trees}
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for round_ in range(args.rounds):
        for name, tree in trees.items():
            since = time.time()
            nodes = surge.nodes_start(1, args.processes, env, logs, Path(tree).resolve())
            try:
                load = os.getloadavg()[0]
                before = surge.cpu_snapshot(nodes, since)
                start = time.time()
                ids = burst(args.tasks, shift_id)
                done = wait_done(ids)
                cpu = surge.cpu_used(before, surge.cpu_snapshot(nodes, since))
            finally:
                surge.nodes_stop(nodes)
            OutboxMessage.objects.filter(pk__in=ids).delete()
            results[name].append((done - start, cpu, load))
            print(
                f"round {round_ + 1} {name}: {args.tasks} tasks in {done - start:.1f} s, "
                "CPU µs per task: "
                + ", ".join(f"{k} {v * 1e6 / args.tasks:.0f}" for k, v in cpu.items())
                + f"; load {load:.1f}",
                flush=True,
            )
    print(
        f"\n{started_at} to {time.strftime('%H:%M UTC', time.gmtime())}, {args.tasks} tasks "
        f"a round, {args.rounds} rounds, load {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        "| code | tasks/s (median) | CPU µs per task: node main / pool / PostgreSQL (median) "
        "| sum |"
    )
    print("|---|---:|---|---:|")
    for name, rows in results.items():
        groups = ("celery main", "celery pool", "postgres")
        med = [statistics.median(r[1][g] for r in rows) * 1e6 / args.tasks for g in groups]
        rate = statistics.median(args.tasks / r[0] for r in rows)
        print(f"| {name} | {rate:.0f} | {' / '.join(f'{m:.0f}' for m in med)} | {sum(med):.0f} |")


if __name__ == "__main__":
    main()
