#!/usr/bin/env python
"""Capacity over HTTP: gunicorn as configured, driven open loop at fixed request rates.

One command (PostgreSQL and Redis on 127.0.0.1; the database is built on first use with
``seed_demo --workers 20000 --providers 500 --history-shifts 1000000 --days 730``, about
six minutes, then kept):

    .venv/bin/python bench/http_load.py                    # every target at 50/100/150/200 req/s
    .venv/bin/python bench/http_load.py --write            # ... and record in docs/benchmarks.md
    .venv/bin/python bench/http_load.py --db flexpool_bench15 --seconds 10 --targets offers-poll

Method. gunicorn is started exactly as ``gunicorn.conf.py`` configures it (2 processes ×
4 threads unless WEB_CONCURRENCY / WEB_THREADS say otherwise) with DEBUG off, on
127.0.0.1:PORT, after ``collectstatic`` into a scratch folder. A small asyncio client
(aiohttp, one process, sharing the same two cores) sends requests on a fixed schedule —
request *i* of a step is due at ``t0 + i / rate`` and is sent then whether or not earlier
ones have answered (open loop) — and each latency is counted from the request's *scheduled*
time, so queueing anywhere (client, kernel, gunicorn, Django, PostgreSQL) counts against the
server. Each step runs one target at the offered rate for ``--seconds`` beside ``/healthz``
at 20 req/s (the control: what the same server does for the cheapest request at that
moment). Targets are interleaved: every rate runs all targets before the next rate. A
request fails if it errors, takes over 10 s, or answers an unexpected status.

Who asks: 300 vetted workers of the 20,000 (those with pending offers first), each with a
session cookie and an API token, taken in turn; the demo coordinator (with a second factor)
for the stats API and dashboards. Polls that find nothing new send what a phone would: the
htmx poll its list version (``?v=``, answered 204), other GETs the ETag they were given
(``If-None-Match``, answered 304).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from docs_section import benchmarks_section_write  # noqa: E402  (bench/ is on sys.path)

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

WORKERS, PROVIDERS, HISTORY, DAYS = 20_000, 500, 1_000_000, 730
IDENTITIES = 300
HEALTHZ_RATE = 20.0
TIMEOUT_S = 10.0
SECTION = "## Capacity over HTTP"


# --- the database and who asks --------------------------------------------------------
from figures import percentile  # noqa: E402  (bench/ is on sys.path)


def database_ensure(db: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')


def data_ensure() -> str:
    """Seed (once) and build the rollups (once); returns a line describing the data."""
    from django.core.management import call_command
    from django.db import connection

    from reports.models import RollupState
    from reports.rollups import rollups_refresh
    from shifts.models import ShiftRequest
    from workers.models import Worker

    call_command("migrate", verbosity=0, interactive=False)
    fresh = False
    if Worker.objects.count() < WORKERS or ShiftRequest.objects.count() < HISTORY:
        print("Seeding the 1M-shift, 20,000-worker borough (about six minutes)...", flush=True)
        call_command(
            "seed_demo",
            workers=WORKERS,
            providers=PROVIDERS,
            history_shifts=HISTORY,
            days=DAYS,
            reset=True,
            verbosity=1,
        )
        fresh = True
    if fresh or not RollupState.objects.exists():
        print("Building the dashboard rollups...", flush=True)
        rollups_refresh()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return f"{ShiftRequest.objects.count():,} shift requests, {Worker.objects.count():,} workers"


@dataclass
class Identity:
    cookie: str
    token: str
    page_etag: str = ""
    list_version: str = ""
    api_etag: str = ""


def session_for(user: Any) -> str:
    """A session cookie for ``user``, written straight into the session table as a sign-in
    would leave it (Django set up first)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def identities_make(n: int) -> tuple[list[Identity], str]:
    """Sessions and API tokens for ``n`` vetted workers (those with pending offers first),
    and a session for the demo coordinator. Written straight into the session table, as a
    sign-in would leave them."""
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from pools.demo import COORDINATOR_EMAIL
    from shifts.models import Offer
    from workers.models import Worker

    now = timezone.now()
    offered = list(
        Offer.objects.filter(status="pending", expires_at__gt=now, worker__status="approved")
        .values_list("worker_id", flat=True)
        .distinct()[:n]
    )
    others = list(
        Worker.objects.filter(status="approved")
        .exclude(pk__in=offered)
        .order_by("pk")
        .values_list("pk", flat=True)[: n - len(offered)]
    )
    people = []
    for worker in Worker.objects.filter(pk__in=offered + others).select_related("user"):
        token, _ = Token.objects.get_or_create(user=worker.user)
        people.append(Identity(cookie=session_for(worker.user), token=token.key))
    coordinator = session_for(User.objects.get(email=COORDINATOR_EMAIL))
    return people, coordinator


# --- gunicorn -------------------------------------------------------------------------


def server_start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    out = log.open("wb")
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "flexpool.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def server_stop(server: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)


# --- the load -------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    label: str
    expect: tuple[int, ...]
    request: object  # (i) -> (path, headers)


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # ms, from the scheduled time
    errors: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    first_due: float = 0.0
    last_done: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)


async def _one(session, base: str, target: Target, i: int, due: float, result: Result) -> None:  # type: ignore[no-untyped-def]
    import aiohttp

    path, headers = target.request(i)  # type: ignore[operator]
    loop = asyncio.get_running_loop()
    try:
        async with session.get(
            base + path,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_S - max(0.0, loop.time() - due)),
        ) as response:
            await response.read()
            status = response.status
    except Exception as exc:  # noqa: BLE001 - timeouts, refused and reset connections all count
        result.errors += 1
        kind = type(exc).__name__
        result.kinds[kind] = result.kinds.get(kind, 0) + 1
        return
    done = loop.time()
    result.last_done = max(result.last_done, done)
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if status in target.expect:
        result.latencies.append((done - due) * 1000)
    else:
        result.errors += 1
        result.kinds[f"HTTP {status}"] = result.kinds.get(f"HTTP {status}", 0) + 1


async def _drive(
    session, base: str, target: Target, rate: float, seconds: float, t0: float
) -> Result:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    result = Result(first_due=t0)
    tasks = []
    for i in range(int(rate * seconds)):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(session, base, target, i, due, result)))
    await asyncio.gather(*tasks)
    return result


async def step(base: str, target: Target, healthz: Target, rate: float, seconds: float):  # type: ignore[no-untyped-def]
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        t0 = asyncio.get_running_loop().time() + 0.1
        return await asyncio.gather(
            _drive(session, base, target, rate, seconds, t0),
            _drive(session, base, healthz, HEALTHZ_RATE, seconds, t0),
        )


async def learn_versions(base: str, people: list[Identity], common: dict[str, str]) -> None:
    """What each phone already holds: its page's ETag and list version, its API ETag."""
    import aiohttp

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        gate = asyncio.Semaphore(4)

        async def learn(person: Identity) -> None:
            async with gate:
                async with session.get(
                    base + "/worker/offers/", headers={**common, "Cookie": person.cookie}
                ) as r:
                    html = await r.text()
                    assert r.status == 200, (r.status, html[:300])
                    person.page_etag = r.headers["ETag"]
                    found = re.search(r"\?v=([0-9a-f]+)", html)
                    person.list_version = found.group(1) if found else ""
                async with session.get(
                    base + "/api/v1/offers/",
                    headers={**common, "Authorization": f"Token {person.token}"},
                ) as r:
                    await r.read()
                    assert r.status == 200, r.status
                    person.api_etag = r.headers["ETag"]

        await asyncio.gather(*(learn(p) for p in people))


def targets_make(people: list[Identity], coordinator: str, common: dict[str, str]) -> list[Target]:
    n = len(people)

    def worker(i: int) -> Identity:
        return people[i % n]

    today = date.today()
    stats = f"/api/v1/stats/summary/?from={today - timedelta(weeks=13)}&to={today}"
    coord = {**common, "Cookie": coordinator}
    return [
        Target(
            "offers-poll",
            "offers page, htmx poll, nothing new (204)",
            (204, 200),
            lambda i: (
                f"/worker/offers/?v={worker(i).list_version}",
                {**common, "Cookie": worker(i).cookie, "HX-Request": "true"},
            ),
        ),
        Target(
            "offers-304",
            "offers page with its ETag, nothing new (304)",
            (304, 200),
            lambda i: (
                "/worker/offers/",
                {**common, "Cookie": worker(i).cookie, "If-None-Match": worker(i).page_etag},
            ),
        ),
        Target(
            "offers-page",
            "offers page, full (200)",
            (200,),
            lambda i: ("/worker/offers/", {**common, "Cookie": worker(i).cookie}),
        ),
        Target(
            "api-offers-304",
            "GET /api/v1/offers/ with its ETag (304)",
            (304, 200),
            lambda i: (
                "/api/v1/offers/",
                {
                    **common,
                    "Authorization": f"Token {worker(i).token}",
                    "If-None-Match": worker(i).api_etag,
                },
            ),
        ),
        Target(
            "api-offers",
            "GET /api/v1/offers/, full (200)",
            (200,),
            lambda i: ("/api/v1/offers/", {**common, "Authorization": f"Token {worker(i).token}"}),
        ),
        Target(
            "stats-api", "GET /api/v1/stats/summary/ (13 weeks)", (200,), lambda i: (stats, coord)
        ),
        Target(
            "dash-overview", "dashboard: overview", (200,), lambda i: ("/pool/dashboard/", coord)
        ),
        Target(
            "dash-breakdown",
            "dashboard: by provider, role, type",
            (200,),
            lambda i: ("/pool/dashboard/breakdown/", coord),
        ),
        Target(
            "dash-demand",
            "dashboard: unfilled demand",
            (200,),
            lambda i: ("/pool/dashboard/demand/", coord),
        ),
        Target(
            "dash-conduct",
            "dashboard: cancellations and conduct",
            (200,),
            lambda i: ("/pool/dashboard/conduct/", coord),
        ),
        Target(
            "dash-health",
            "dashboard: pool health",
            (200,),
            lambda i: ("/pool/dashboard/health/", coord),
        ),
    ]


def drain(base: str, common: dict[str, str], limit_s: float = 60.0) -> None:
    """Wait until the server has worked off an overloaded step's backlog (/healthz answers
    in under 50 ms three times running), so one step's queue never spills into the next."""
    import urllib.request

    deadline = time.monotonic() + limit_s
    quick = 0
    time.sleep(1.0)
    while quick < 3 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            request = urllib.request.Request(base + "/healthz", headers=common)
            urllib.request.urlopen(request, timeout=10).read()
            quick = quick + 1 if time.monotonic() - started < 0.05 else 0
        except OSError:
            quick = 0
        time.sleep(0.2)


# --- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="fp_bench_http", help="PostgreSQL database (kept)")
    parser.add_argument("--redis-db", type=int, default=3)
    parser.add_argument("--port", type=int, default=9150)
    parser.add_argument("--rates", type=float, nargs="+", default=[50, 100, 150, 200])
    parser.add_argument("--seconds", type=float, default=15.0, help="per step")
    parser.add_argument("--targets", nargs="*", help="names (default: all)")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()

    secret = secrets.token_urlsafe(50)
    scratch = Path(tempfile.mkdtemp(prefix="fp_http_"))
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "DJANGO_SETTINGS_MODULE": "flexpool.settings",
        "SECRET_KEY": secret,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(args.port),
        "WEB_BIND": "127.0.0.1",
        "STATIC_ROOT": str(scratch / "static"),
        "FLEXPOOL_VAR_DIR": str(scratch / "var"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    database_ensure(args.db)
    import django

    django.setup()
    data = data_ensure()
    people, coordinator = identities_make(IDENTITIES)

    base = f"http://127.0.0.1:{args.port}"
    common = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    server = server_start(env, scratch / "gunicorn.log")
    rows: list[tuple[str, float, Result, Result, tuple[float, float]]] = []
    try:
        for _ in range(100):
            try:
                import urllib.request

                req = urllib.request.Request(base + "/healthz", headers=common)
                if urllib.request.urlopen(req, timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        asyncio.run(learn_versions(base, people, common))
        targets = targets_make(people, coordinator, common)
        if args.targets:
            targets = [t for t in targets if t.name in args.targets]
        healthz = Target("healthz", "/healthz", (200,), lambda i: ("/healthz", common))
        for target in targets:  # warm every process's caches and connections
            asyncio.run(step(base, target, healthz, 10, 1.0))
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        for rate in args.rates:
            for target in targets:
                load = os.getloadavg()[0]
                mine, control = asyncio.run(step(base, target, healthz, rate, args.seconds))
                loads = (load, os.getloadavg()[0])
                rows.append((target.name, rate, mine, control, loads))
                print(_row(target.label, rate, args.seconds, mine, control, loads), flush=True)
                if mine.kinds or control.kinds:
                    print(f"  errors: {mine.kinds} /healthz: {control.kinds}", flush=True)
                drain(base, common)
        finished = time.strftime("%H:%M UTC", time.gmtime())
    finally:
        server_stop(server)
        shutil.rmtree(scratch, ignore_errors=True)

    labels = {t.name: t.label for t in targets}
    report = _report(args, data, started, finished, rows, labels)
    print(report)
    if args.write:
        _write(report)


def _row(label: str, rate: float, seconds: float, r: Result, h: Result, loads) -> str:  # type: ignore[no-untyped-def]
    achieved = r.ok / max(seconds, r.last_done - r.first_due) if r.ok else 0.0
    return (
        f"| {label} | {rate:.0f} | {achieved:.0f} | {percentile(r.latencies, 0.5):.0f} "
        f"| {percentile(r.latencies, 0.95):.0f} | {percentile(r.latencies, 0.99):.0f} | {r.errors} "
        f"| {percentile(h.latencies, 0.5):.0f} / {percentile(h.latencies, 0.99):.0f} | {h.errors} "
        f"| {loads[0]:.1f} → {loads[1]:.1f} |"
    )


def _report(args, data, started, finished, rows, labels) -> str:  # type: ignore[no-untyped-def]
    threads = os.environ.get("WEB_THREADS", "4")
    procs = os.environ.get("WEB_CONCURRENCY", "2")
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python bench/http_load.py --db {args.db} --seconds "
        f"{args.seconds:g} --write` (database built on first use by `seed_demo --workers "
        f"{WORKERS} --providers {PROVIDERS} --history-shifts {HISTORY} --days {DAYS}`, "
        f"then the rollups; {data}). gunicorn as configured: {procs} processes × {threads} "
        "threads, DEBUG off; the asyncio load generator (aiohttp, open loop, latency from each "
        "request's scheduled time, 10 s timeout) on the same 2 cores. Each row is one "
        f"{args.seconds:g}-second step; `/healthz` ran beside it at {HEALTHZ_RATE:.0f} req/s "
        "(its p50 / p99 in the same step). Between steps the bench waits until `/healthz` "
        "answers in under 50 ms three times running, so an overloaded step's backlog does not "
        "spill into the next.",
        "",
        f"Measured {started} to {finished} on {platform.machine()}, {os.cpu_count()} CPUs "
        "shared with six other engineers' work (1-minute load average at the start → end of "
        "each step).",
        "",
        "| target | offered req/s | achieved req/s | p50 ms | p95 ms | p99 ms | errors "
        "| /healthz p50 / p99 ms | /healthz errors | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, rate, mine, control, loads in sorted(
        rows, key=lambda r: (list(labels).index(r[0]), r[1])
    ):
        lines.append(_row(labels[name], rate, args.seconds, mine, control, loads))
    lines.append("")
    return "\n".join(lines)


def _write(report: str) -> None:
    benchmarks_section_write(SECTION, report)


if __name__ == "__main__":
    main()
