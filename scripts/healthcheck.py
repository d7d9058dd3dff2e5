"""Health checks for FlexPool's services, as docker-compose.yml and scripts/prod_smoke.sh
run them: ``python scripts/healthcheck.py web|worker|beat``. Exit status 0 means healthy.

- web: GET /healthz on this host answers 200 (database and broker up). The request names
  the first ALLOWED_HOSTS entry and says it came over HTTPS through the proxy, as real
  traffic does, so production's host check and HTTPS redirect let it through.
- worker: the Celery worker on this host answers a ping over the broker.
- beat: Celery beat has saved its schedule file within the last BEAT_STALE_SECONDS.
"""

from __future__ import annotations

import http.client
import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check_web() -> bool:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost").split(",")]
    host = next((h for h in hosts if h and "*" not in h and not h.startswith(".")), "localhost")
    port = int(os.environ.get("PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=8)
    try:
        connection.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    except OSError as exc:
        print(f"web: {exc}")
        return False
    print(f"web: {response.status} {body}")
    return response.status == 200


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexpool.settings")
    import django

    django.setup()


def check_worker() -> bool:
    _django()
    from flexpool.celery import app

    name = os.environ.get("CELERY_WORKER_NAME", f"celery@{socket.gethostname()}")
    replies = app.control.ping(destination=[name], timeout=5.0) or []
    print(f"worker: {replies}")
    return any(name in reply for reply in replies)


def check_beat() -> bool:
    _django()
    from django.conf import settings

    stale = int(os.environ.get("BEAT_STALE_SECONDS", "600"))
    base = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    # The shelve behind the schedule may add a suffix (.db, .dat) depending on the dbm module.
    files = [p for p in base.parent.glob(base.name + "*") if p.is_file()]
    if not files:
        print(f"beat: no schedule file at {base}")
        return False
    age = time.time() - max(p.stat().st_mtime for p in files)
    print(f"beat: schedule saved {age:.0f} s ago")
    return age < stale


CHECKS = {"web": check_web, "worker": check_worker, "beat": check_beat}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CHECKS)}")
    sys.exit(0 if CHECKS[sys.argv[1]]() else 1)
