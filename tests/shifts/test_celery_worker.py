"""End to end through a real Celery worker process on Redis: a posted shift is matched by
the worker, not by the test."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from pools.models import Role
from shifts.models import MatchRun, Offer
from shifts.services.posting import shift_post

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_process():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "flexpool",
            "worker",
            "--pool=solo",
            "-Q",
            "celery",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Tasks sent before the worker has started wait for it in Redis, so there is no need
    # to wait for it to be ready; its output is kept to explain a failure.
    log: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)

    threading.Thread(target=read, daemon=True).start()
    process.log = log  # type: ignore[attr-defined]
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_real_worker_matches_a_posted_shift(celery_worker_process, provider, site, worker):
    start = timezone.now() + timedelta(days=1)
    shift = shift_post(
        provider=provider,
        site=site,
        role=Role.objects.get(slug="care-worker"),
        skills=[],
        start=start,
        end=start + timedelta(hours=8),
        headcount=1,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Offer.objects.filter(shift=shift).exists():
            break
        assert celery_worker_process.poll() is None, "".join(celery_worker_process.log)
        time.sleep(0.2)
    assert Offer.objects.filter(shift=shift).exists(), "".join(celery_worker_process.log)
    offer = Offer.objects.get(shift=shift)
    assert offer.worker == worker and offer.wave == 1
    assert MatchRun.objects.filter(shift=shift, offered_count=1).exists()
