"""End to end through a real Celery worker on Redis: a run asked for on the page is
executed by the worker (via the outbox), not by the test."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from lab.models import LabRun
from tests import factories as f
from tests.lab.conftest import at, past_shift
from tests.shifts.test_celery_worker import celery_worker_process  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


def test_a_real_worker_executes_a_policy_what_if(
    celery_worker_process,  # noqa: F811
    client,
    coordinator,
    pool,
    site,
    day,
):
    f.WorkerFactory(pool=pool)
    past_shift(site, at(day, 8), 8)
    past_shift(site, at(day + timedelta(days=1), 8), 8)
    client.force_login(coordinator)
    response = client.post(
        reverse("lab:index"),
        {
            "kind": "compare",
            "compare-start": day.isoformat(),
            "compare-end": (day + timedelta(days=2)).isoformat(),
            "compare-seed": "1",
            "compare-alt1_wave_size": "1",
        },
    )
    assert response.status_code == 302
    run = LabRun.objects.get()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        assert celery_worker_process.poll() is None, "".join(celery_worker_process.log)
        time.sleep(0.5)
    assert run.status == LabRun.Status.DONE, run.error + "".join(celery_worker_process.log)
    assert len(run.outputs["columns"]) == 2
    assert run.outputs["columns"][1]["policy"]["first_wave_size"] == 1
    page = client.get(reverse("lab:run", args=[run.pk]))
    assert b"Policies side by side" in page.content
