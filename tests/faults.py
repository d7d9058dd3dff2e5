"""Real parts to break on purpose: a redis-server of the test's own (ports 6390-6399, so
the shared Redis is never touched) and a real Celery worker process pointed at it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from kombu import pools

ROOT = Path(__file__).resolve().parents[1]
PORTS = range(6390, 6400)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 6390-6399 for a test redis-server")


class OwnRedis:
    """A redis-server the test starts and stops (no persistence: a restart is empty, as
    after a crash without AOF, which is the harder case)."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def celery_app_broker(url: str) -> None:
    """Point this process's Celery app at ``url`` (forgetting pooled connections)."""
    from flexpool.celery import app

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()
    app.conf.CELERY_BROKER_URL = url


def subprocess_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def celery_worker(
    redis_url: str, *extra: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """A real worker on ``redis_url`` and the test database; its output is kept in
    ``process.log`` to explain a failure."""
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "flexpool",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *extra,
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)

    threading.Thread(target=read, daemon=True).start()
    process.log = log  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
