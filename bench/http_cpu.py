#!/usr/bin/env python
"""In-process CPU per request, through the whole WSGI application (every middleware, the
request_started / request_finished signals and so the connection health check, the view,
the template), with DEBUG off, as gunicorn would call it but without the HTTP parsing.

    .venv/bin/python bench/http_cpu.py --db flexpool_wt1 --redis-db 9
    .venv/bin/python bench/http_cpu.py --db flexpool_wt1 --trees /work/main .   # old vs new
    .venv/bin/python bench/http_cpu.py --db flexpool_wt1 --profile api-offers   # cProfile

Each tree (a checkout of FlexPool) runs in its own Python process on the same database and
Redis DB (with its own cache key prefix); the parent asks them in turn, one round of
``--per-round`` requests of each target at a time, so old and new see the same machine.
CPU is the process's CPU time (``time.process_time``) per request; wall time is reported
beside it. Who asks is what bench/http_load.py uses: vetted workers with a session and an
API token (taken in turn), the demo coordinator for the stats API and dashboards.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = [
    "offers-page",
    "offers-poll",
    "api-offers",
    "api-offers-built",
    "healthz",
    "stats-api",
    "dash-health",
]
COMMON = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}


def _env(db: str, redis_db: int, secret: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "DJANGO_SETTINGS_MODULE": "flexpool.settings",
        "SECRET_KEY": secret,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }


# --- the child: one tree's Django, answering "target n" with timings -------------------


def _child(tree: Path, prefix: str) -> None:
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import redis

    import flexpool.settings as project_settings

    project_settings.CACHES["default"]["KEY_PREFIX"] = prefix  # each tree its own cache
    import django

    django.setup()
    from flexpool.wsgi import application

    store = redis.Redis.from_url(os.environ["REDIS_URL"])  # to remove kept pages

    people = json.loads(sys.stdin.readline())
    served = {"i": 0}

    def environ(path: str, extra: dict[str, str]) -> dict[str, object]:
        path, _, query = path.partition("?")
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **COMMON,
            **extra,
        }

    versions: dict[int, str] = {}

    def request_for(target: str, i: int) -> tuple[str, dict[str, str]]:
        person = people["workers"][i % len(people["workers"])]
        if target == "offers-page":
            return "/worker/offers/", {"HTTP_COOKIE": person["cookie"]}
        if target == "offers-poll":
            version = versions.get(i % len(people["workers"]), "x")
            return f"/worker/offers/?v={version}", {
                "HTTP_COOKIE": person["cookie"],
                "HTTP_HX_REQUEST": "true",
            }
        if target in ("api-offers", "api-offers-built"):
            return "/api/v1/offers/", {"HTTP_AUTHORIZATION": f"Token {person['token']}"}
        if target == "healthz":
            return "/healthz", {}
        coordinator = {"HTTP_COOKIE": people["coordinator"]}
        if target == "stats-api":
            today = date.today()
            return f"/api/v1/stats/summary/?from={today - timedelta(weeks=13)}&to={today}", (
                coordinator
            )
        if target == "dash-health":
            return "/pool/dashboard/health/", coordinator
        raise SystemExit(f"unknown target {target}")

    def forget(target: str, i: int) -> None:
        """For ``api-offers-built``: the page built afresh, as after the worker's offers
        changed (or its kept copy expired), its kept copies removed before it is asked."""
        if target != "api-offers-built":
            return
        whose = people["workers"][i % len(people["workers"])]["id"]
        kept = list(store.scan_iter(match=f"{prefix}:*api-offers-json:{whose}:*", count=1000))
        if kept:
            store.delete(*kept)

    def one(target: str, i: int) -> tuple[int, bytes]:
        path, extra = request_for(target, i)
        status: list[str] = []

        def start_response(line: str, headers: object, *info: object) -> object:
            status.append(line)
            return lambda data: None

        body = b"".join(application(environ(path, extra), start_response))  # type: ignore[arg-type]
        return int(status[0].split()[0]), body

    # What each phone already holds (the htmx poll's list version).
    import re

    for n in range(len(people["workers"])):
        one("api-offers", n)  # each kept page warmed, as a phone that asked before finds it
        _, html = one("offers-page", n)
        found = re.search(rb"\?v=([0-9a-f]+)", html)
        versions[n] = found.group(1).decode() if found else ""

    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "profile":
            import cProfile
            import pstats

            target, n = command[1], int(command[2])
            for _ in range(20):
                one(target, served["i"])
                served["i"] += 1
            profile = cProfile.Profile(time.process_time)
            for _ in range(n):
                forget(target, served["i"])
                profile.enable()
                one(target, served["i"])
                profile.disable()
                served["i"] += 1
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("cumulative").print_stats(60)
            # Own time by package: where the CPU goes, however deep the call.
            by: dict[str, float] = {}
            for (file, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
                part = file.split("site-packages/")[-1].split("/")
                name = "/".join(part[:2]) if len(part) > 1 else file.rsplit("/", 1)[-1]
                by[name] = by.get(name, 0.0) + own
            total = sum(by.values())
            for name, own in sorted(by.items(), key=lambda kv: -kv[1])[:30]:
                out.write(f"{own / total:6.1%}  {name}\n")
            print(json.dumps({"profile": out.getvalue()}), flush=True)
            continue
        target, n = command[0], int(command[1])
        cpu: list[float] = []
        wall: list[float] = []
        statuses: dict[int, int] = {}
        for _ in range(n):
            forget(target, served["i"])
            c0, w0 = time.process_time(), time.perf_counter()
            status, _ = one(target, served["i"])
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            served["i"] += 1
        print(json.dumps({"cpu": cpu, "wall": wall, "statuses": statuses}), flush=True)


# --- the parent ----------------------------------------------------------------------


def _people(n: int) -> dict[str, object]:
    from http_load import session_for
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from pools.demo import COORDINATOR_EMAIL
    from workers.models import Worker

    workers = []
    for worker in (
        Worker.objects.filter(status="approved").select_related("user").order_by("pk")[:n]
    ):
        token, _ = Token.objects.get_or_create(user=worker.user)
        user = worker.user
        assert user is not None
        workers.append({"cookie": session_for(user), "token": token.key, "id": worker.pk})
    coordinator = session_for(User.objects.get(email=COORDINATOR_EMAIL))
    return {"workers": workers, "coordinator": coordinator}


def _summary(values: list[float]) -> str:
    sys.path.insert(0, str(HERE))
    from figures import percentile

    return f"{percentile(values, 0.5):.1f} / {percentile(values, 0.95):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--trees", nargs="+", default=[str(HERE.parent)])
    parser.add_argument("--targets", nargs="+", default=TARGETS)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--profile", help="a target: print cProfile of --per-round requests")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    secret = os.environ.get("BENCH_SECRET") or secrets.token_urlsafe(50)
    if args.child:
        os.environ.update(_env(args.db, args.redis_db, secret))
        _child(Path(args.child), os.environ["BENCH_PREFIX"])
        return

    os.environ.update(_env(args.db, args.redis_db, secret))
    sys.path.insert(0, str(HERE.parent))
    import django

    django.setup()
    people = _people(args.people)
    children = []
    scratch = Path(tempfile.mkdtemp(prefix="fp_cpu_"))
    for n, tree in enumerate(args.trees):
        static = {"STATIC_ROOT": str(scratch / f"static{n}")}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=tree,
            env={**os.environ, **static},
            check=True,
        )
        child = subprocess.Popen(
            [sys.executable, __file__, "--db", args.db, "--redis-db", str(args.redis_db)]
            + ["--child", str(Path(tree).resolve())],
            env={**os.environ, **static, "BENCH_SECRET": secret, "BENCH_PREFIX": f"benchcpu{n}"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin and child.stdout
        child.stdin.write(json.dumps(people) + "\n")
        child.stdin.flush()
        children.append(child)
    for child in children:
        assert child.stdout
        assert child.stdout.readline().strip() == "ready"

    def ask(child: subprocess.Popen[str], line: str) -> dict[str, object]:
        assert child.stdin and child.stdout
        child.stdin.write(line + "\n")
        child.stdin.flush()
        return json.loads(child.stdout.readline())  # type: ignore[no-any-return]

    if args.profile:
        for tree, child in zip(args.trees, children, strict=True):
            print(f"=== {tree}")
            print(ask(child, f"profile {args.profile} {args.per_round}")["profile"])
    else:
        cpu: dict[tuple[int, str], list[float]] = {}
        wall: dict[tuple[int, str], list[float]] = {}
        statuses: dict[tuple[int, str], dict[str, int]] = {}
        load0 = os.getloadavg()[0]
        for _ in range(args.rounds):
            for target in args.targets:
                for n, child in enumerate(children):
                    got = ask(child, f"{target} {args.per_round}")
                    cpu.setdefault((n, target), []).extend(got["cpu"])  # type: ignore[arg-type]
                    wall.setdefault((n, target), []).extend(got["wall"])  # type: ignore[arg-type]
                    seen = statuses.setdefault((n, target), {})
                    for status, count in got["statuses"].items():  # type: ignore[attr-defined]
                        seen[status] = seen.get(status, 0) + count
        print(
            f"{args.rounds} rounds × {args.per_round} requests, load {load0:.1f} → "
            f"{os.getloadavg()[0]:.1f}; CPU ms median / p95, wall ms median / p95"
        )
        print("| target | tree | CPU ms | wall ms | statuses |")
        print("|---|---|---:|---:|---|")
        for target in args.targets:
            for n, tree in enumerate(args.trees):
                print(
                    f"| {target} | {tree} | {_summary(cpu[(n, target)])} "
                    f"| {_summary(wall[(n, target)])} | {statuses[(n, target)]} |"
                )
    for child in children:
        assert child.stdin
        child.stdin.close()
        child.wait()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
