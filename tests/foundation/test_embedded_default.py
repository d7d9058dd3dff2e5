"""The embedded default `make run` uses: a real Celery worker and beat start on the
filesystem broker and SQLite under FLEXPOOL_VAR_DIR, with no server, and a task sent from
another process is delivered. (CI's quickstart smoke does the same through `make run`.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _wait_for(path: Path, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


@pytest.mark.celery_worker
def test_a_task_round_trips_through_worker_and_beat_on_the_embedded_broker(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "flexpool.settings",
        "FLEXPOOL_VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    }  # no DATABASE_URL or REDIS_URL: the embedded default, even when the suite runs on PostgreSQL
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "beat")}
    commands = {
        "worker": [str(BIN / "celery"), "-A", "flexpool", "worker", "--pool=solo", "-l", "INFO"],
        "beat": [str(BIN / "celery"), "-A", "flexpool", "beat", "-l", "INFO"],
    }
    procs = []
    try:
        for name, command in commands.items():
            with logs[name].open("w") as log:
                procs.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        assert _wait_for(logs["worker"], "ready.", 90), logs["worker"].read_text()
        assert _wait_for(logs["beat"], "beat: Starting", 60), logs["beat"].read_text()
        roundtrip = subprocess.run(
            [sys.executable, "scripts/task_roundtrip.py", "60"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert roundtrip.returncode == 0, roundtrip.stdout + logs["worker"].read_text()
        assert "delivered" in roundtrip.stdout
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
