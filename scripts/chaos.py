"""The chaos suite (`make chaos`): FlexPool's production shape on loopback — gunicorn,
a Celery worker and beat on PostgreSQL and Redis, DEBUG=false — with its own Redis
(port 6391), its own database (flexpool_chaos, reached through a TCP proxy on port 9111
that can refuse connections) and its own web port (9110). Faults injected while shifts
are posted through the API:

  kill       the worker's process group gets SIGKILL mid-matching (several rounds)
  redis      redis-server stopped (its queue is lost: no persistence) and restarted
  database   every database connection cut and new ones refused, then allowed again
  duplicate  every task of a round sent again, twice, and a second beat started
  slow       the e-mail channel takes 3 s a message

Printed per fault: shifts lost (acknowledged with 201 and never matched, or missing),
shifts saved without a 201, offers duplicated, notifications lost / duplicated (per
channel, from what the channels record), recovery seconds (fault over → every
acknowledged shift has its first wave), 503s, and other 5xx (the goal is 0).

    .venv/bin/python scripts/chaos.py              # 5 kill rounds, the rest once
    .venv/bin/python scripts/chaos.py --short      # one round of each (CI)
    .venv/bin/python scripts/chaos.py --write      # and put the table in docs/reliability.md

Exit status 1 if a goal is missed (anything lost or duplicated, recovery >= 60 s, a 5xx
other than 503).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("VENV_BIN", ROOT / ".venv" / "bin"))
DB = os.environ.get("CHAOS_DB", "flexpool_chaos")
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_PORT = int(os.environ.get("CHAOS_REDIS_PORT", "6391"))
WEB_PORT = int(os.environ.get("CHAOS_WEB_PORT", "9110"))
PROXY_PORT = int(os.environ.get("CHAOS_PROXY_PORT", "9111"))
GOAL_RECOVERY = 60.0
PROVIDER_EMAIL, PASSWORD = "provider@flexpool.test", "flexpool-demo"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- A TCP proxy in front of PostgreSQL that can refuse connections -------------------


class Proxy:
    def __init__(self, listen: int, target: int) -> None:
        self.listen, self.target = listen, target
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.AbstractServer | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def _call(self, coro) -> None:  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(PG_HOST, self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    async def _open(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen)

    async def _refuse(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for w in list(self.writers):
            w.transport.abort()
        self.writers.clear()

    def accept(self) -> None:
        self._call(self._open())

    def refuse(self) -> None:
        self._call(self._refuse())


# --- The services ---------------------------------------------------------------------


class Services:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.sent_log = work / "sent.log"
        self.slow_file = work / "slow"
        self.env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": "chaos-" + os.urandom(24).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SITE_URL": f"http://127.0.0.1:{WEB_PORT}",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PROXY_PORT}/{DB}",
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "FLEXPOOL_VAR_DIR": str(work / "var"),
            "STATIC_ROOT": str(work / "static"),
            "PORT": str(WEB_PORT),
            "WEB_BIND": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "METRICS_TOKEN": "chaos",
            "API_TOKEN_THROTTLE_RATE": "1000/min",
            "NOTIFICATION_BACKENDS": "chaos_channels.ConsoleRecording,chaos_channels.EmailRecording",
            "CHAOS_SENT_LOG": str(self.sent_log),
            "CHAOS_SLOW_FILE": str(self.slow_file),
            "PYTHONPATH": str(ROOT / "scripts"),
            "PYTHONUNBUFFERED": "1",
        }
        (work / "var").mkdir(parents=True, exist_ok=True)

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.work / f"{name}.log", "ab")  # noqa: SIM115 - the process owns it
        self.procs[name] = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def redis_start(self) -> None:
        self._start(
            "redis",
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.work),
            ],
        )
        for _ in range(100):
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True
                ).returncode
                == 0
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 30) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def web_start(self) -> None:
        self._start("web", [str(BIN / "gunicorn"), "flexpool.wsgi", "--config", "gunicorn.conf.py"])

    def worker_start(self, name: str = "worker") -> None:
        self._start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "flexpool",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "-n",
                f"{name}@chaos",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def beat_start(self, name: str = "beat") -> None:
        self._start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "flexpool",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.work / f"{name}-schedule"),
            ],
        )

    def manage(self, *args: str) -> None:
        subprocess.run(
            [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env, check=True
        )

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


# --- Load: shifts posted through the API -------------------------------------------


@dataclass
class Load:
    token: str
    site: int
    acknowledged: list[int] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    offset: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post_one(self) -> None:
        with self.lock:
            self.offset += 1
            n = self.offset
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2, minutes=17 * n)
        body = json.dumps(
            {
                "site": self.site,
                "role": "care-worker",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=8)).isoformat(),
                "headcount": 1,
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{WEB_PORT}/api/v1/shifts/",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Token {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status = response.status
                data = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            status, data = exc.code, {}
        except (urllib.error.URLError, OSError) as exc:
            self.statuses[f"error {type(exc).__name__}"] += 1
            return
        self.statuses[str(status)] += 1
        if status == 201:
            with self.lock:
                self.acknowledged.append(int(data["id"]))

    def burst(self, n: int) -> None:
        threads = [threading.Thread(target=self.post_one) for _ in range(n)]
        for t in threads:
            t.start()
            time.sleep(0.02)
        for t in threads:
            t.join()

    def steady(self, seconds: float, every: float = 0.25) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.post_one()
            time.sleep(every)


def _api(path: str, *, token: str = "", data: dict[str, str] | None = None) -> object:
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{WEB_PORT}{path}",
        headers=headers,
        data=json.dumps(data).encode() if data is not None else None,
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


# --- Measuring -----------------------------------------------------------------------


class _Shared:
    conn: psycopg.Connection | None = None


class _NoClose:
    """The suite's one measuring connection (the shared server has few to spare), used as
    ``with db() as conn``; reconnects (with patience) if it was lost."""

    def __enter__(self) -> psycopg.Connection:
        for attempt in range(60):
            if _Shared.conn is not None and not _Shared.conn.closed:
                return _Shared.conn
            try:
                _Shared.conn = psycopg.connect(
                    host=PG_HOST, port=PG_PORT, user="postgres", dbname=DB, autocommit=True
                )
            except psycopg.OperationalError as exc:
                if attempt == 59:
                    raise
                say(f"  measuring connection failed ({exc}); again in 1 s")
                time.sleep(1)
        assert _Shared.conn is not None
        return _Shared.conn

    def __exit__(self, *exc: object) -> None:
        return None


def db() -> _NoClose:
    return _NoClose()


def unmatched(ids: list[int]) -> int:
    if not ids:
        return 0
    with db() as conn:
        row = conn.execute(
            "select count(*) from shifts_shiftrequest where id = any(%s) and matched_at is not null",
            [ids],
        ).fetchone()
    return len(ids) - int(row[0] if row else 0)


def wait_recovered(ids: list[int], since: float, limit: float = 150) -> float | None:
    """Seconds from ``since`` until every shift in ``ids`` has its first wave."""
    while time.monotonic() - since < limit:
        if unmatched(ids) == 0:
            return time.monotonic() - since
        time.sleep(0.25)
    return None


@dataclass
class Result:
    fault: str
    rounds: int = 0
    ids: list[int] = field(default_factory=list)
    window: list[tuple[datetime, datetime]] = field(default_factory=list)
    recovery: list[float | None] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    figures: dict[str, int] = field(default_factory=dict)


def measure(result: Result, sent_log: Path) -> None:
    sent = Counter(tuple(line.split()) for line in sent_log.read_text().splitlines() if line)
    with db() as conn:
        present = {
            r[0]
            for r in conn.execute(
                "select id from shifts_shiftrequest where id = any(%s) and matched_at is not null",
                [result.ids],
            )
        }
        saved = 0
        notes: list[tuple[int, bool]] = []
        for start, end in result.window:
            row = conn.execute(
                "select count(*) from shifts_shiftrequest where posted_at between %s and %s",
                [start, end],
            ).fetchone()
            saved += int(row[0] if row else 0)
            notes += conn.execute(
                """select n.id, coalesce(p.email, true) from notifications_notification n
                   left join notifications_notificationpreference p on p.user_id = n.user_id
                   where n.created_at between %s and %s
                     and (n.deliver_after is null or n.deliver_after <= now())""",
                [start, end],
            ).fetchall()
        dup_offers = conn.execute(
            """select count(*) from (select 1 from shifts_offer where shift_id = any(%s)
               group by shift_id, worker_id having count(*) > 1) d""",
            [result.ids],
        ).fetchone()
        dup_waves = conn.execute(
            """select count(*) from (select 1 from shifts_matchrun where shift_id = any(%s)
               group by shift_id, wave having count(*) > 1) d""",
            [result.ids],
        ).fetchone()
        given_up = conn.execute(
            "select count(*) from notifications_delivery where status = 'gave_up'"
        ).fetchone()
    lost_notes = dup_notes = 0
    for note_id, email in notes:
        for channel in ("console", "email") if email else ("console",):
            n = sent.get((str(note_id), channel), 0)
            lost_notes += n == 0
            dup_notes += max(n - 1, 0)
    result.figures = {
        "posted (201)": len(result.ids),
        "shifts lost": len(set(result.ids) - present),
        "saved without 201": max(saved - len(result.ids), 0),
        "offers duplicated": int(dup_offers[0] if dup_offers else 0)
        + int(dup_waves[0] if dup_waves else 0),
        "messages": len(notes),
        "notifications lost": lost_notes,
        "notifications duplicated": dup_notes,
        "gave up": int(given_up[0] if given_up else 0),
    }


# --- The faults ----------------------------------------------------------------------


def round_kill(s: Services, load: Load, result: Result) -> None:
    before = len(load.acknowledged)
    t = threading.Thread(target=load.burst, args=(30,))
    t.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill once matching is under way
        ids = load.acknowledged[before:]
        if ids and len(ids) - unmatched(ids) > 0:
            break
        time.sleep(0.05)
    s.stop("worker", signal.SIGKILL)
    t.join()
    say(
        f"  worker killed with {unmatched(load.acknowledged[before:])} of "
        f"{len(load.acknowledged) - before} shifts not yet matched"
    )
    time.sleep(2)
    s.worker_start()
    since = time.monotonic()
    result.recovery.append(wait_recovered(load.acknowledged[before:], since))


def round_redis(s: Services, load: Load, result: Result) -> None:
    before = len(load.acknowledged)
    load.burst(10)
    s.stop("redis")
    say("  redis-server stopped: posting for 20 s")
    load.steady(20)
    s.redis_start()
    since = time.monotonic()
    say("  redis-server started (empty)")
    load.burst(5)
    result.recovery.append(wait_recovered(load.acknowledged[before:], since))


def round_database(s: Services, proxy: Proxy, load: Load, result: Result) -> None:
    before = len(load.acknowledged)
    load.burst(10)
    proxy.refuse()
    say("  database connections cut and refused: posting for 15 s")
    load.steady(15)
    proxy.accept()
    since = time.monotonic()
    say("  database accepting again")
    load.burst(5)
    result.recovery.append(wait_recovered(load.acknowledged[before:], since))


def round_duplicate(s: Services, load: Load, result: Result, started: datetime) -> None:
    from celery import Celery

    before = len(load.acknowledged)
    s.beat_start("beat2")
    say("  a second beat started")
    load.burst(20)
    since = time.monotonic()
    wait_recovered(load.acknowledged[before:], since)
    with db() as conn:
        rows = [
            r[0]
            for r in conn.execute(
                "select id from outbox_outboxmessage where created_at >= %s", [started]
            )
        ]
        notes = [
            r[0]
            for r in conn.execute(
                "select id from notifications_notification where created_at >= %s", [started]
            )
        ]
    app = Celery(broker=s.env["REDIS_URL"])
    for _ in range(2):
        for pk in rows:
            app.send_task("outbox.tasks.outbox_consume", args=[pk])
        for i in range(0, len(notes), 100):
            app.send_task(
                "notifications.tasks.notifications_deliver_batch", args=[notes[i : i + 100]]
            )
    say(f"  sent {len(rows)} outbox tasks and {len(notes)} deliveries again, twice")
    load.burst(5)
    result.recovery.append(wait_recovered(load.acknowledged[before:], time.monotonic()))
    time.sleep(15)  # let the duplicates and both beats run
    s.stop("beat2")


def round_slow(s: Services, load: Load, result: Result) -> None:
    before = len(load.acknowledged)
    s.slow_file.write_text("3")
    say("  e-mail channel slowed to 3 s a message: posting for 20 s")
    load.burst(10)
    load.steady(20, every=1.0)  # matching must not queue behind the slow deliveries
    since = time.monotonic()
    result.recovery.append(wait_recovered(load.acknowledged[before:], since))
    time.sleep(15)
    s.slow_file.unlink()
    say("  e-mail channel back to normal")


# --- Running it ---------------------------------------------------------------------


def settle(s: Services, limit: float = 240) -> None:
    """Wait until every message is delivered (or given up) and the outbox is empty."""
    since = time.monotonic()
    while time.monotonic() - since < limit:
        with db() as conn:
            row = conn.execute(
                """select (select count(*) from outbox_outboxmessage where done_at is null),
                          (select count(*) from notifications_notification
                           where delivered_at is null
                             and (deliver_after is null or deliver_after <= now()))"""
            ).fetchone()
        if row and row[0] == 0 and row[1] == 0:
            say(f"settled in {time.monotonic() - since:.0f} s")
            return
        time.sleep(2)
    say(
        f"not settled after {limit:.0f} s: outbox {row[0] if row else '?'}, undelivered {row[1] if row else '?'}"
    )


def table(results: list[Result]) -> str:
    cols = [
        "posted (201)",
        "shifts lost",
        "saved without 201",
        "offers duplicated",
        "messages",
        "notifications lost",
        "notifications duplicated",
    ]
    lines = [
        "| fault | rounds | " + " | ".join(cols) + " | recovery s (max) | 503 | other 5xx |",
        "|---|---:|" + "---:|" * (len(cols) + 3),
    ]
    for r in results:
        rec = [x for x in r.recovery]
        worst = "never" if any(x is None for x in rec) else f"{max(rec):.1f}" if rec else "-"  # type: ignore[type-var]
        other = sum(
            n
            for k, n in r.statuses.items()
            if (k.startswith("5") and k != "503") or k.startswith("error")
        )
        lines.append(
            f"| {r.fault} | {r.rounds} | "
            + " | ".join(str(r.figures.get(c, 0)) for c in cols)
            + f" | {worst} | {r.statuses.get('503', 0)} | {other} |"
        )
    return "\n".join(lines)


def goals_met(results: list[Result]) -> bool:
    ok = True
    for r in results:
        f = r.figures
        bad = [
            k
            for k in (
                "shifts lost",
                "saved without 201",
                "offers duplicated",
                "notifications lost",
                "notifications duplicated",
            )
            if f.get(k)
        ]
        if any(x is None or x >= GOAL_RECOVERY for x in r.recovery):
            bad.append("recovery")
        if any((k.startswith("5") and k != "503") or k.startswith("error") for k in r.statuses):
            bad.append("5xx")
        if bad:
            say(f"GOAL MISSED for {r.fault}: {', '.join(bad)}")
            ok = False
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="one round of each fault (CI)")
    parser.add_argument("--kill-rounds", type=int, default=5)
    parser.add_argument(
        "--write", action="store_true", help="write the table to docs/reliability.md"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    parser.add_argument(
        "--only", default="", help="comma-separated faults: kill,redis,database,duplicate,slow"
    )
    args = parser.parse_args()
    kill_rounds = 1 if args.short else args.kill_rounds

    work = Path(tempfile.mkdtemp(prefix="flexpool-chaos-"))
    s = Services(work)
    proxy = Proxy(PROXY_PORT, PG_PORT)
    results: list[Result] = []
    try:
        say(
            f"chaos: database {DB} via proxy :{PROXY_PORT}, redis :{REDIS_PORT}, web :{WEB_PORT}, logs {work}"
        )
        subprocess.run(["dropdb", "-h", PG_HOST, "-U", "postgres", "--if-exists", DB], check=True)
        subprocess.run(["createdb", "-h", PG_HOST, "-U", "postgres", DB], check=True)
        proxy.accept()
        s.redis_start()
        s.manage("migrate", "--noinput", "-v0")
        s.manage(
            "seed_demo",
            "--providers",
            "5",
            "--workers",
            "150",
            "--days",
            "1",
            "--history-shifts",
            "0",
            "--future-days",
            "0",
            "-v0",
        )
        s.web_start()
        s.worker_start()
        s.beat_start()
        for _ in range(120):
            try:
                _api("/healthz")
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        answer = _api("/api/v1/auth/token/", data={"email": PROVIDER_EMAIL, "password": PASSWORD})
        token = str(answer["token"])  # type: ignore[index]
        site = int(_api("/api/v1/sites/", token=token)["results"][0]["id"])  # type: ignore[index]
        load = Load(token=token, site=site)

        only = {x for x in args.only.split(",") if x}

        def run(fault: str, rounds: int, body) -> None:  # type: ignore[no-untyped-def]
            key = {
                "worker": "kill",
                "Redis": "redis",
                "database": "database",
                "every": "duplicate",
                "slow": "slow",
            }[fault.split()[0]]
            if only and key not in only:
                return
            result = Result(fault)
            for i in range(rounds):
                say(f"{fault}: round {i + 1} of {rounds}")
                before, statuses_before = len(load.acknowledged), Counter(load.statuses)
                start = datetime.now(UTC)
                body(result, start)
                result.window.append((start, datetime.now(UTC)))
                result.ids += load.acknowledged[before:]
                result.statuses += load.statuses - statuses_before
                result.rounds += 1
                say(
                    f"  recovery {result.recovery[-1] if result.recovery[-1] is None else round(result.recovery[-1], 1)} s"
                )
            results.append(result)

        run("worker kill -9 mid-matching", kill_rounds, lambda r, t: round_kill(s, load, r))
        run("Redis stopped 20 s, restarted empty", 1, lambda r, t: round_redis(s, load, r))
        run("database connections refused 15 s", 1, lambda r, t: round_database(s, proxy, load, r))
        run(
            "every task sent twice more + a second beat",
            1,
            lambda r, t: round_duplicate(s, load, r, t),
        )
        run("slow e-mail channel (3 s a message)", 1, lambda r, t: round_slow(s, load, r))
        settle(s)
        for r in results:
            measure(r, s.sent_log)
        with urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{WEB_PORT}/metrics", headers={"Authorization": "Bearer chaos"}
            ),
            timeout=10,
        ) as m:
            figures = [
                ln
                for ln in m.read().decode().splitlines()
                if ln.startswith(
                    (
                        "flexpool_outbox_backlog",
                        "flexpool_celery_queue_depth",
                        "flexpool_matching_first_waves_last_hour",
                    )
                )
            ]
        say("/metrics at the end: " + "; ".join(figures))
    finally:
        if _Shared.conn is not None:
            _Shared.conn.close()
        s.stop_all()
        proxy.refuse()
        subprocess.run(["dropdb", "-h", PG_HOST, "-U", "postgres", "--if-exists", DB], check=False)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    text = table(results)
    print(text)
    if args.write:
        load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load_avg}"
        doc = ROOT / "docs" / "reliability.md"
        head = doc.read_text().split("\n## Chaos suite figures")[0].rstrip()
        doc.write_text(
            f"{head}\n\n## Chaos suite figures\n\n`.venv/bin/python scripts/chaos.py`"
            f" ({'--short, ' if args.short else ''}{stamp}):\n\n{text}\n"
        )
    return 0 if goals_met(results) else 1


if __name__ == "__main__":
    sys.exit(main())
