#!/usr/bin/env python
"""Matching, old code against new: the same shifts on the same databases, interleaved.

    git archive <old commit> | tar -x -C /tmp/old && ln -s $PWD/.venv /tmp/old/.venv
    .venv/bin/python bench/matching_ab.py --trees old=/tmp/old new=. \\
        --dbs flexpool_bury20k flexpool_region --what floor prefilter first wave --shifts 30

Method. One process per (code tree, database) (``--serve``: this script, run in that tree,
imports that tree's code) posts the same Bury shifts (bench/surge.py's ``burst_post``, one seed) in a
transaction rolled back at the end. For each shift every (process, measurement) pair is
asked in turn, in a random order each time, and answers with its wall time in-process:

- ``floor``: bench/matching_floor.py's hand-written query (asked of the first tree only);
- ``prefilter``: ``_prefiltered_rows`` (every worker who passes the SQL rules, ranked);
- ``first``: ``_prefiltered_first(ctx, 50)``, the prefilter as a first wave asks it;
- ``wave``: ``shift_match_wave`` as Celery runs it, in a savepoint rolled back;
- ``urgent``: the same with the shift marked critical (everyone eligible offered);
- ``evaluation``: the urgent evaluation alone, ``shift_eligible_workers`` (every rule for
  every worker in reach, ranked), without writing the offers and messages.

The databases must already hold the schema both trees expect (neither process migrates).
Prints median and p95 per measurement, tree and database, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEASUREMENTS = ("floor", "prefilter", "first", "wave", "urgent", "evaluation")


def serve(shifts: int, seed: int) -> None:
    """Post ``shifts`` shifts, answer "<measurement> <index>" lines, roll back on "quit"."""
    tree = Path.cwd()
    sys.path[:0] = [str(tree), str(tree / "bench")]
    import django

    django.setup()
    import surge
    from django.db import transaction
    from django.utils import timezone
    from matching_floor import floor

    from shifts.matching import shift_eligible_workers, shift_match_wave
    from shifts.matching.rules import _context, _prefiltered_first, _prefiltered_rows
    from shifts.models import ShiftRequest

    class Done(Exception):
        pass

    try:
        with transaction.atomic():
            ids, _ = surge.burst_post(random.Random(seed), shifts)
            print(json.dumps({"ready": len(ids)}), flush=True)
            for line in sys.stdin:
                what, _, arg = line.strip().partition(" ")
                if what == "quit":
                    break
                shift_id = ids[int(arg)]
                shift = ShiftRequest.objects.select_related("site", "pool").get(pk=shift_id)
                ctx = _context(shift, timezone.now())
                point = transaction.savepoint()
                if what == "urgent":
                    ShiftRequest.objects.filter(pk=shift_id).update(is_critical=True)
                t0 = time.perf_counter()
                if what == "floor":
                    rows = floor(shift)
                elif what == "prefilter":
                    rows = len(_prefiltered_rows(ctx))
                elif what == "evaluation":
                    rows = len(shift_eligible_workers(shift=shift))
                elif what == "first":
                    first, rest = _prefiltered_first(ctx, 50)
                    # The rest as ids (older code) or as their number.
                    rows = len(first) + (rest if isinstance(rest, int) else len(rest))
                else:
                    run = shift_match_wave(shift_id=shift_id, force=True)
                    rows = run.offered_count if run else 0
                ms = (time.perf_counter() - t0) * 1000
                transaction.savepoint_rollback(point)
                print(json.dumps({"ms": ms, "rows": rows}), flush=True)
            raise Done
    except Done:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", default=[f"new={ROOT}"], help="name=path ...")
    parser.add_argument("--dbs", nargs="+", default=["flexpool_bury20k"])
    parser.add_argument("--what", nargs="+", choices=MEASUREMENTS, default=["prefilter", "wave"])
    parser.add_argument("--shifts", type=int, default=30)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.shifts, args.seed)
        return

    sys.path.insert(0, str(ROOT / "bench"))
    from figures import percentile

    warm = 3
    trees = [t.split("=", 1) for t in args.trees]
    servers: dict[tuple[str, str], subprocess.Popen[str]] = {}
    for name, tree in trees:
        for db in args.dbs:
            env = {
                **os.environ,
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
                "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
                "DJANGO_SETTINGS_MODULE": "flexpool.settings",
                "LOG_LEVEL": "WARNING",
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "127.0.0.1",
            }
            servers[(name, db)] = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve",
                 "--shifts", str(args.shifts + warm), "--seed", str(args.seed)],
                cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip

    def ask(key: tuple[str, str], command: str) -> dict[str, Any]:
        process = servers[key]
        assert process.stdin is not None and process.stdout is not None
        if command:
            process.stdin.write(command + "\n")
            process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{key}: the serving process stopped")
        return json.loads(line)

    for key in servers:
        ask(key, "")  # ready
    rng = random.Random(args.seed)
    times: dict[tuple[str, str, str], list[float]] = {}
    rows: dict[tuple[str, str, str], list[int]] = {}
    loads = [os.getloadavg()[0]]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    first_tree = trees[0][0]
    try:
        for index in range(args.shifts + warm):
            order = [
                (key, what)
                for key in servers
                for what in args.what
                if what != "floor" or key[0] == first_tree
            ]
            rng.shuffle(order)
            for key, what in order:
                answer = ask(key, f"{what} {index}")
                if index >= warm:
                    times.setdefault((what, key[1], key[0]), []).append(answer["ms"])
                    rows.setdefault((what, key[1], key[0]), []).append(answer["rows"])
            loads.append(os.getloadavg()[0])
    finally:
        for key in servers:
            process = servers[key]
            assert process.stdin is not None
            process.stdin.write("quit\n")
            process.stdin.flush()
            process.wait(timeout=60)
    print(
        f"{started} to {time.strftime('%H:%M UTC', time.gmtime())}, {args.shifts} shifts "
        f"(+{warm} warm-up), 1-minute load average {loads[0]:.1f} → {loads[-1]:.1f} "
        f"(median {statistics.median(loads):.1f})"
    )
    print("| measurement | database | code | median ms | p95 ms | rows (median) |")
    print("|---|---|---|---:|---:|---:|")
    for (what, db, name), values in sorted(times.items()):
        print(
            f"| {what} | {db} | {name} | {statistics.median(values):.1f} "
            f"| {percentile(values, 0.95):.1f} | {statistics.median(rows[(what, db, name)]):.0f} |"
        )


if __name__ == "__main__":
    main()
