"""How fast the workforce-return and committee-report pages answer with 500 providers, eight
quarters of returns and 1,000,000 historical shift requests.

One command (PostgreSQL on 127.0.0.1, database ``fp_bench_reports``, created if missing):

    .venv/bin/python bench/reports.py            # seed if needed, then measure
    .venv/bin/python bench/reports.py --write    # ... and record the figures in docs/benchmarks.md

Method: the database is seeded once with ``seed_demo --providers 500 --workers 1500
--days 730 --history-shifts 1000000`` (which also counts the rollups), then eight quarters
of workforce returns for the 500 providers (``reports.demo.workforce_demo_build``), vacuumed
and analysed. Each page is requested through Django's test client as the demo coordinator
(signed in, with a second factor): the whole server side without a network in front. Each
URL is fetched twice to warm up, then ``--runs`` times; we report the median and the 95th
percentile. The PDF is rendered ``--pdf-runs`` times.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "fp_bench_reports"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexpool.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
PROVIDERS = 500
QUARTERS = 8
HISTORY = 1_000_000
DAYS = 730
from figures import percentile  # noqa: E402  (bench/ is on sys.path)


def database_ensure() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            c.execute(f'CREATE DATABASE "{DB_NAME}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pdf-runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    database_ensure()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.utils import timezone

    from accounts.models import User
    from pools.demo import COORDINATOR_EMAIL
    from pools.models import Pool
    from reports.demo import workforce_demo_build
    from reports.models import CommitteeReport, WorkforceReturn
    from reports.quarters import quarter_to_return

    call_command("migrate", verbosity=0)
    pool = Pool.objects.filter(slug="bury").first()
    if pool is None or not WorkforceReturn.objects.filter(pool=pool).exists():
        started = time.monotonic()
        call_command(
            "seed_demo",
            providers=PROVIDERS,
            workers=1500,
            days=DAYS,
            history_shifts=HISTORY,
            future_days=14,
            reset=True,
            verbosity=2,
        )
        pool = Pool.objects.get(slug="bury")
        written = workforce_demo_build(
            pool=pool, seed=2024, today=timezone.localdate(), quarters=QUARTERS
        )
        print(f"seeded in {time.monotonic() - started:.0f} s ({written} returns)")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    quarter = quarter_to_return(timezone.localdate())
    earlier = quarter.previous()
    CommitteeReport.objects.filter(pool=pool).delete()
    from reports import services

    coordinator = User.objects.get(email=COORDINATOR_EMAIL)
    services.report_publish(report=services.report_for(pool=pool, quarter=earlier), by=coordinator)
    client = Client()
    client.force_login(coordinator)
    from reports.models import LivingWageRate

    def change() -> None:
        """Touch one setting, as a coordinator would: every kept figure is retired."""
        rate = LivingWageRate.objects.filter(pool=pool).first()
        assert rate is not None
        rate.save()

    pages = [
        (
            "Committee report (draft, after any change: computed afresh)",
            f"/pool/reports/{quarter}/",
            True,
        ),
        (
            "Workforce API (after any change: computed afresh)",
            f"/api/v1/stats/workforce/?quarter={quarter}",
            True,
        ),
        ("Committee report (draft, kept until a change)", f"/pool/reports/{quarter}/"),
        ("Committee report (published, stored)", f"/pool/reports/{earlier}/"),
        ("Printable report", f"/pool/reports/{quarter}/print/"),
        ("A table as CSV", f"/pool/reports/{quarter}/?export=by-role"),
        ("Who returned", f"/pool/returns/?quarter={quarter}"),
        ("Workforce API", f"/api/v1/stats/workforce/?quarter={quarter}"),
    ]
    results = []
    with override_settings(DEBUG=False):
        for label, url, *fresh in pages:
            times = []
            for i in range(args.runs + 2):
                if fresh:
                    change()
                t = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - t) * 1000
                assert response.status_code == 200, (url, response.status_code)
                if i >= 2:
                    times.append(elapsed)
            results.append((label, statistics.median(times), percentile(times, 0.95)))
            print(f"{label:62} median {results[-1][1]:7.1f} ms  p95 {results[-1][2]:7.1f} ms")
        pdf_times = []
        for _ in range(args.pdf_runs):
            t = time.perf_counter()
            response = client.get(f"/pool/reports/{quarter}/report.pdf")
            pdf_times.append(time.perf_counter() - t)
            assert response.content.startswith(b"%PDF")
    pdf = (statistics.median(pdf_times), max(pdf_times))
    print(f"{'PDF':62} median {pdf[0]:7.2f} s   max {pdf[1]:7.2f} s")
    returns = WorkforceReturn.objects.filter(pool=pool).count()
    load = os.getloadavg()
    if args.write:
        lines = [
            "## Workforce returns and committee reports",
            "",
            f"Measured {date.today().isoformat()} with `.venv/bin/python bench/reports.py --write` "
            f"on {platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
            f"{platform.python_version()}; load average {load[0]:.1f}, {load[1]:.1f}, "
            f"{load[2]:.1f} at the end. Data: {PROVIDERS} providers, {returns:,} returns over "
            f"{QUARTERS} quarters, {HISTORY:,} historical shift requests; {args.runs} runs a "
            "page after two warm-up requests; the PDF rendered "
            f"{args.pdf_runs} times. Target: every page under 300 ms at the 95th percentile, "
            "the PDF under 5 s. The first run seeds (about 25 minutes under load: 1M shifts, "
            'the rollups, 8 quarters of returns); later runs reuse the database. "After any '
            'change" saves a Real Living Wage row before each request, which retires the kept '
            "report, so the draft is computed from the returns each time; otherwise a draft is "
            "kept in the cache until a return, benchmark, rate, provider or the rollups change "
            "(reports.workforce.workforce_generation).",
            "",
            "| page | median (ms) | p95 (ms) |",
            "|---|---|---|",
            *(f"| {label} | {m:.1f} | {p:.1f} |" for label, m, p in results),
            f"| PDF (WeasyPrint), seconds | {pdf[0]:.2f} | max {pdf[1]:.2f} |",
            "",
        ]
        doc = ROOT / "docs" / "benchmarks.md"
        text = doc.read_text()
        block = "\n".join(lines)
        pattern = re.compile(r"## Workforce returns and committee reports\n.*?(?=\n## |\Z)", re.S)
        text = pattern.sub(block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
        doc.write_text(text)


if __name__ == "__main__":
    main()
