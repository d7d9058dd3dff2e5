#!/usr/bin/env python
"""Benchmark: the matching lab on the demo borough's last 90 days.

One command (PostgreSQL must be running):

    .venv/bin/python bench/lab.py                  # default policy, bound and baselines
    .venv/bin/python bench/lab.py --days 28        # a shorter range
    .venv/bin/python bench/lab.py --set wave_size=20 --set offer_ttl_minutes=30  # a what-if
    .venv/bin/python bench/lab.py --write          # ... and record the figures in docs/benchmarks.md
    .venv/bin/python bench/lab.py --workers 20000 --days 28 --no-baselines --no-optimum
                                                   # the big pool (its own database)

The first run builds the database ``fp_bench_lab`` with ``manage.py seed_demo`` (the demo
borough: 93 providers, 300 workers, 90 days of history, about 2,700 shift requests) and
keeps it. Each run is ``manage.py simulate --pool bury --from <N days ago> --to <yesterday>
--seed 0 --json`` in this process; the figures are its JSON (the simulation's own seconds,
the bound's seconds, and the whole command's seconds with both baselines).

``--workers 20000`` uses the database ``fp_bench_lab20k``, built with ``seed_demo --workers
20000 --providers 500 --days 42 --history-shifts 57540``: demand at the rate of the surge
bench's 20,000-worker borough (1,370 requests a day, ``bench/surge.py``), and two weeks of
offer history before the replayed four for the response model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAMES = {300: "fp_bench_lab", 20000: "fp_bench_lab20k"}
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# What seed_demo builds for each size of pool (see the docstring).
SEED_ARGS = {
    300: [],
    20000: ["--workers", "20000", "--providers", "500", "--days", "42",
            "--history-shifts", "57540", "--future-days", "1"],
}  # fmt: skip
ENV = {
    "DJANGO_SETTINGS_MODULE": "flexpool.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-" + "k" * 50,
    "ALLOWED_HOSTS": "localhost",
    "LOG_LEVEL": "WARNING",
    "NOTIFICATION_BACKENDS": "",
}
TARGET_SECONDS = 60.0
TARGET_RATIO = 0.95


def ensure_database(workers: int) -> None:
    import psycopg

    db_name = os.environ.get("BENCH_LAB_DB", DB_NAMES[workers])
    os.environ.update(ENV | {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}"})
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{db_name}"')
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], check=True, cwd=ROOT)
    subprocess.run(
        [*manage, "seed_demo", *SEED_ARGS[workers]], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    # Fresh statistics before timing, as the other benches do: straight after seeding, the
    # planner's estimates depend on whether autovacuum has got round to the new rows yet
    # (2026-12-02, 20,000 workers, one day: 390 s before an ANALYZE, 140 s after).
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:5432/{db_name}", autocommit=True
    ) as conn:
        conn.execute("VACUUM (ANALYZE)")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, choices=sorted(SEED_ARGS), default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--no-optimum", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    ensure_database(args.workers)

    import django

    django.setup()
    from django.core.management import call_command

    today = date.today()
    start, end = today - timedelta(days=args.days), today - timedelta(days=1)
    command = [
        "simulate", "--pool", "bury", "--from", start.isoformat(), "--to", end.isoformat(),
        "--seed", str(args.seed), "--json", "--no-store",
    ]  # fmt: skip
    for pair in args.set:
        command += ["--set", pair]
    if args.no_baselines:
        command.append("--no-baselines")
    if args.no_optimum:
        command.append("--no-optimum")
    load_before = load()
    out = StringIO()
    started = time.perf_counter()
    call_command(*command, stdout=out)
    wall = time.perf_counter() - started
    o = json.loads(out.getvalue())
    load_after = load()
    rows = [
        ("requests / places / hours asked", f"{o['shifts']} / {o['places']} / {o['hours_requested']}"),
        ("simulation (default policy), seconds", f"{o['sim_seconds']}"),
        ("whole command, seconds", f"{wall:.1f}"),
        ("fill rate, hours (online)", f"{o['fill_rate_hours']:.1%}"),
    ]  # fmt: skip
    if "bound" in o:
        rows += [
            ("offline optimum, seconds (bound)", f"{o['bound_seconds']} ({o['bound']})"),
            ("fill rate, hours (optimum)", f"{o['optimum_fill_rate_hours']:.1%}"),
            ("online / optimum (hours)", f"{o['ratio_to_optimum']}"),
        ]  # fmt: skip
    rows += [
        ("median / p90 time to fill, min", f"{o['median_time_to_fill_minutes']} / {o['p90_time_to_fill_minutes']}"),
        ("offers per filled place", f"{o['offers_per_filled_place']}"),
        ("agency £ avoided", f"{o['agency_spend_avoided']:,.0f}"),
    ]  # fmt: skip
    for name, b in o.get("baselines", {}).items():
        rows.append(
            (
                f"{name}: fill (hours) / ratio / offers per place",
                f"{b['fill_rate_hours']:.1%} / {b.get('ratio_to_optimum')} / "
                f"{b['offers_per_filled_place']}",
            )
        )
    heldout = o["response_model"]["heldout"]
    if heldout.get("brier") is not None:
        rows.append(
            (
                "response model, held-out Brier (base rate)",
                f"{heldout['brier']} ({heldout['brier_base_rate']}) on {heldout['n']} offers",
            )
        )
    print(f"# lab bench {date.today()} {platform.node()} load {load_before} -> {load_after}")
    print(" ".join(["manage.py", *command]))
    for name, value in rows:
        print(f"  {name:48} {value}")
    if args.write:
        _write(command, rows, load_before, load_after, o)


def _write(
    command: list[str], rows: list[tuple[str, str]], before: str, after: str, o: dict
) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    marker = "## Matching lab"
    block = [
        "",
        f"### {date.today()}: `manage.py {' '.join(command)}` "
        f"(load average {before} before, {after} after)",
        "",
        "| figure | value |",
        "|---|---:|",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    if marker not in text:
        text += f"\n{marker}\n\nRun by `.venv/bin/python bench/lab.py` (see its docstring).\n"
    text += "\n".join(block)
    path.write_text(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
