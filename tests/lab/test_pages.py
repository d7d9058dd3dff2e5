"""The Matching lab's pages: the pool's own coordinators only, runs stored and queued
through the outbox, progress while running, the figures and a CSV when done."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from lab.models import LabRun
from lab.services import lab_run_execute
from outbox.models import OutboxMessage
from shifts.models import Offer
from tests import factories as f
from tests.lab.conftest import at, past_shift

pytestmark = pytest.mark.postgres


@pytest.fixture
def history(pool, site, day):
    """Two workers who have accepted every offer they were ever sent, and four past requests,
    one of them for a senior carer nobody can take."""
    near = f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.003)
    f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.02)
    for i in range(25):
        old = past_shift(site, at(day - timedelta(days=40 + i), 8), 8)
        sent = old.posted_at + timedelta(minutes=1)
        Offer.objects.create(
            shift=old, worker=near, status=Offer.Status.ACCEPTED, wave=1, rank=1,
            distance_km=1, sent_at=sent, expires_at=sent + timedelta(hours=1),
            responded_at=sent + timedelta(minutes=4),
        )  # fmt: skip
    past_shift(site, at(day, 8), 8)
    past_shift(site, at(day + timedelta(days=1), 8), 8, headcount=2)
    past_shift(site, at(day + timedelta(days=2), 20), 10)
    from pools.models import Role

    past_shift(site, at(day + timedelta(days=3), 8), 8, role=Role.objects.get(slug="senior-carer"))
    return day


def form(kind, day, **extra):
    data = {
        "kind": kind,
        f"{kind}-start": day.isoformat(),
        f"{kind}-end": (day + timedelta(days=6)).isoformat(),
        f"{kind}-seed": "3",
    }
    data.update({f"{kind}-{k}": v for k, v in extra.items()})
    return data


def test_the_lab_page_answers_the_pools_coordinator(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("lab:index"))
    assert response.status_code == 200
    assert b"Policy what-if" in response.content
    assert b"Ranked recruitment moves" in response.content


@pytest.mark.parametrize("who", ["manager", "worker_user", "outsider"])
def test_the_lab_is_404_for_anyone_but_coordinators(client, request, who):
    user = (
        request.getfixturevalue("worker").user
        if who == "worker_user"
        else (request.getfixturevalue(who))
    )
    client.force_login(user)
    assert client.get(reverse("lab:index")).status_code == 404


def test_a_policy_what_if_is_stored_and_queued_through_the_outbox(client, coordinator, history):
    client.force_login(coordinator)
    response = client.post(
        reverse("lab:index"), form("compare", history, alt1_wave_size="1", alt2_offer_ttl="20")
    )
    run = LabRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("lab:run", args=[run.pk])
    assert run.status == LabRun.Status.QUEUED and run.seed == 3
    assert run.inputs["policies"] == [{"first_wave_size": 1}, {"offer_ttl_minutes": 20}]
    message = OutboxMessage.objects.get(handler="lab.tasks.lab_run_start")
    assert message.payload == {"run_id": run.pk}
    page = client.get(reverse("lab:run", args=[run.pk]))
    assert b"0 % done" in page.content


@pytest.mark.parametrize(
    "extra, error",
    [
        ({}, b"Enter at least one setting"),
        ({"alt1_wave_size": "0"}, b"greater than or equal to 1"),
        ({"alt1_radius": "lots"}, b"Enter a number"),
    ],
)
def test_a_bad_what_if_is_refused_with_a_message_and_nothing_stored(
    client, coordinator, history, extra, error
):
    client.force_login(coordinator)
    response = client.post(reverse("lab:index"), form("compare", history, **extra))
    assert response.status_code == 400
    assert error in response.content
    assert not LabRun.objects.exists() and not OutboxMessage.objects.exists()


def test_a_range_reaching_today_is_refused(client, coordinator):
    from django.utils import timezone

    client.force_login(coordinator)
    response = client.post(reverse("lab:index"), form("recruit", timezone.localdate()))
    assert response.status_code == 400
    assert b"before today" in response.content


def test_an_unknown_kind_is_a_bad_request(client, coordinator):
    client.force_login(coordinator)
    assert client.post(reverse("lab:index"), {"kind": "<script>"}).status_code == 400


def test_a_recruitment_what_if_shows_what_the_recruits_buy(client, coordinator, history):
    client.force_login(coordinator)
    client.post(
        reverse("lab:index"), form("simulate", history, add_workers="3 senior-carer medication BL9")
    )
    run = lab_run_execute(run_id=LabRun.objects.get().pk)
    assert run is not None and run.status == LabRun.Status.DONE
    assert run.outputs["added_hours"] == 8.0  # the senior-carer shift nobody could take
    page = client.get(reverse("lab:run", args=[run.pk]))
    assert b"8.0 hours" in page.content
    assert lab_run_execute(run_id=run.pk) is None  # a finished run is not run again


def test_ranked_recruitment_moves_export_as_csv(client, coordinator, history):
    client.force_login(coordinator)
    client.post(reverse("lab:index"), form("recruit", history, moves="2"))
    run = lab_run_execute(run_id=LabRun.objects.get().pk)
    response = client.get(reverse("lab:run_csv", args=[run.pk]))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["role"] == "senior-carer" and rows[0]["district"] == "BL9"
    assert float(rows[0]["added_hours"]) == 8.0


def test_a_runs_progress_is_shown_while_it_runs(client, coordinator, pool, history):
    run = LabRun.objects.create(
        pool=pool, kind="recruit", inputs={"from": "2026-01-01", "to": "2026-01-02"},
        status=LabRun.Status.RUNNING,
    )  # fmt: skip
    cache.set(f"lab:run:{run.pk}:progress", 0.42)
    client.force_login(coordinator)
    page = client.get(reverse("lab:run", args=[run.pk]), headers={"HX-Request": "true"})
    assert b'value="42"' in page.content and b'hx-trigger="every 2s"' in page.content


def test_another_pools_coordinator_gets_404_for_our_runs(client, other_coordinator, pool):
    run = LabRun.objects.create(
        pool=pool, kind="recruit", inputs={"from": "2026-01-01", "to": "2026-01-02"},
        status=LabRun.Status.DONE, outputs={"moves": []},
    )  # fmt: skip
    client.force_login(other_coordinator)
    assert client.get(reverse("lab:run", args=[run.pk])).status_code == 404
    assert client.get(reverse("lab:run_csv", args=[run.pk])).status_code == 404


def test_the_progress_bars_last_poll_reloads_the_page_with_the_figures(client, coordinator, pool):
    run = LabRun.objects.create(
        pool=pool, kind="recruit", inputs={"from": "2026-01-01", "to": "2026-01-02"},
        status=LabRun.Status.RUNNING,
    )  # fmt: skip
    client.force_login(coordinator)
    poll = client.get(reverse("lab:run", args=[run.pk]), headers={"HX-Request": "true"})
    assert "HX-Refresh" not in poll
    LabRun.objects.filter(pk=run.pk).update(status=LabRun.Status.DONE, outputs={"moves": []})
    poll = client.get(reverse("lab:run", args=[run.pk]), headers={"HX-Request": "true"})
    assert poll["HX-Refresh"] == "true"
