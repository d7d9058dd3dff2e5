"""Start the whole FlexPool system in the foreground: web server, Celery worker and
Celery beat. Ctrl-C (or SIGTERM) stops every process it started.

Used by `make run`. With no DATABASE_URL / REDIS_URL set it runs on the embedded
default: SQLite and a filesystem broker under ./var.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

DEMO_LOGINS = """
  FlexPool is running at http://127.0.0.1:{port}/

  Demo logins (password: flexpool-demo)
    coordinator@flexpool.test   pool coordinator (second factor: TOTP secret JBSWY3DPEHPK3PXP)
    provider@flexpool.test      manager at a care provider
    worker@flexpool.test        vetted care worker

  Press Ctrl-C to stop the web server, the Celery worker and Celery beat.
"""


def web_push_keys(env: dict[str, str], var_dir: Path) -> None:
    """Web push works out of the box: on first start make a VAPID key pair under var/
    (kept afterwards, so phones stay subscribed) unless keys were configured."""
    if any(name in env for name in ("WEBPUSH_VAPID_PRIVATE_KEY", "WEBPUSH_VAPID_PRIVATE_KEY_FILE")):
        return
    subprocess.run(
        [str(BIN / "python"), "manage.py", "vapid_keys", "--write", str(var_dir)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    env["WEBPUSH_VAPID_PUBLIC_KEY_FILE"] = str(var_dir / "vapid_public_key")
    env["WEBPUSH_VAPID_PRIVATE_KEY_FILE"] = str(var_dir / "vapid_private_key")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()

    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # Links in messages (and calendar UIDs) point at the port this run listens on.
    env.setdefault("SITE_URL", f"http://{args.host}:{args.port}")
    var_dir = Path(env.get("FLEXPOOL_VAR_DIR") or ROOT / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    web_push_keys(env, var_dir)

    commands = {
        "web": [
            str(BIN / "python"),
            "manage.py",
            "runserver",
            "--noreload",
            f"{args.host}:{args.port}",
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "flexpool",
            "worker",
            "--loglevel=INFO",
            # One task at a time in the worker process itself: with the filesystem broker a
            # prefork child's acknowledgement waits for the next 2 s poll, one message per poll.
            "--pool=solo",
        ],
        "beat": [str(BIN / "celery"), "-A", "flexpool", "beat", "--loglevel=INFO"],
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    for name, cmd in commands.items():
        procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    print(DEMO_LOGINS.format(port=args.port), flush=True)

    exit_code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(
                    f"{name} stopped with exit code {proc.returncode}; stopping the rest.",
                    flush=True,
                )
                exit_code = proc.returncode or 1
                stopping = True
                break
        time.sleep(0.5)

    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    print("FlexPool stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
