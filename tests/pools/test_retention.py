"""Leavers: a coordinator marks a worker left; the pool keeps their documents and personal
details for its retention period, then the daily task erases them and says so in the audit
log. Wendy leaves Bury; Olive stays; Rita's Rochdale pool has its own period."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from pools.models import AuditEntry, Pool
from pools.services import worker_mark_left, workers_erase_after_retention
from pools.tasks import workers_erase_after_retention as erase_task
from shifts.models import Offer
from tests import factories as f
from tests.pools.conftest import give_totp
from tests.workers.conftest import make_booking, make_offer, shift_at
from workers.models import Document, Worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def _with_file(worker: Worker, files) -> object:
    document = Document.objects.filter(worker=worker).first()
    document.file.save("dbs.pdf", ContentFile(b"%PDF-1.4 Wendy's DBS certificate"))
    return files / document.file.name


def test_a_coordinator_marks_a_worker_left_from_their_page_and_their_offers_go(
    client, coordinator, worker, site
):
    offer = make_offer(shift_at(site, timezone.now() + timedelta(days=3)), worker)
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:worker_left", args=[worker.pk]), {"reason": "Moved to Leeds"}
    )
    assert response["Location"] == reverse("pools:worker", args=[worker.pk])
    worker.refresh_from_db()
    assert worker.status == Worker.Status.LEFT
    assert worker.left_at is not None and worker.erased_at is None
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.WITHDRAWN
    entry = AuditEntry.objects.get(action="worker.left")
    assert entry.actor == coordinator and "Moved to Leeds" in entry.reason
    page = client.get(reverse("pools:worker", args=[worker.pk])).content.decode()
    erase_on = (worker.left_at + timedelta(days=183)).date()
    assert f"will be deleted on {erase_on.day} {erase_on:%b %Y}" in page
    # Until then the pool still has what it may need (a safeguarding question, say).
    assert worker.display_name == "Wendy Walker" and Document.objects.filter(worker=worker)


def test_marking_left_needs_a_reason_and_refuses_a_worker_with_a_booking_to_come(
    client, coordinator, worker, site
):
    client.force_login(coordinator)
    url = reverse("pools:worker_left", args=[worker.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Give a reason." in response.content.decode()

    make_booking(shift_at(site, timezone.now() + timedelta(days=2)), worker)
    response = client.post(url, {"reason": "Moved away"})
    assert response.status_code == 400
    assert "Cancel the worker&#x27;s upcoming shifts" in response.content.decode()
    worker.refresh_from_db()
    assert worker.status == Worker.Status.APPROVED and worker.left_at is None
    assert not AuditEntry.objects.filter(action="worker.left").exists()


def test_a_coordinator_of_another_pool_cannot_mark_a_bury_worker_left(
    client, other_coordinator, worker
):
    client.force_login(other_coordinator)
    response = client.post(reverse("pools:worker_left", args=[worker.pk]), {"reason": "x"})
    assert response.status_code == 404
    worker.refresh_from_db()
    assert worker.status == Worker.Status.APPROVED


def test_a_leavers_data_is_kept_through_the_retention_period_and_erased_after_it(
    coordinator, worker, other_worker, files
):
    path = _with_file(worker, files)
    give_totp(worker.user)  # a second factor and a push subscription: both must go
    worker.user.push_subscriptions.create(endpoint="https://push.test/wendy", p256dh="k", auth="a")
    user_pk = worker.user.pk
    left = timezone.now() - timedelta(days=200)
    with time_machine.travel(left):
        worker_mark_left(worker=worker, by=coordinator, reason="Retired")

    # Day 182 after leaving: still kept.
    assert workers_erase_after_retention(now=left + timedelta(days=182)) == 0
    assert path.exists() and Worker.objects.get(pk=worker.pk).display_name == "Wendy Walker"

    # Day 184: erased, and the erasure is in the pool's audit log.
    assert workers_erase_after_retention(now=left + timedelta(days=184)) == 1
    worker = Worker.objects.get(pk=worker.pk)
    assert worker.erased_at is not None and worker.user is None
    assert "Wendy" not in worker.display_name
    assert (worker.phone, worker.postcode, worker.latitude) == ("", "", None)
    assert not Document.objects.filter(worker=worker).exists()
    assert not path.exists()
    user = User.objects.get(pk=user_pk)
    assert not user.is_active and "wendy" not in user.email
    assert not Authenticator.objects.filter(user=user).exists()
    assert not user.push_subscriptions.exists()
    entry = AuditEntry.objects.get(action="worker.erase")
    assert entry.actor is None and entry.target_id == worker.pk
    assert "Wendy" not in entry.target_label
    assert "keeps a leaver's data 183 days" in entry.reason and "document(s)" in entry.reason

    # Olive never left: untouched. A second run erases and audits nothing more.
    other_worker.refresh_from_db()
    assert other_worker.display_name == "Olive Other" and other_worker.erased_at is None
    assert workers_erase_after_retention(now=left + timedelta(days=400)) == 0
    assert AuditEntry.objects.filter(action="worker.erase").count() == 1


def test_each_pool_keeps_leavers_for_its_own_period(coordinator, worker, other_pool):
    Pool.objects.filter(pk=other_pool.pk).update(leaver_retention_days=30)
    rochdale_user = f.UserFactory(email="rae@worker.test", first_name="Rae", last_name="R")
    rochdale = f.WorkerFactory(user=rochdale_user, pool=other_pool)
    left = timezone.now() - timedelta(days=60)
    Worker.objects.filter(pk__in=[worker.pk, rochdale.pk]).update(
        status=Worker.Status.LEFT, left_at=left
    )
    assert workers_erase_after_retention() == 1
    assert Worker.objects.get(pk=rochdale.pk).erased_at is not None
    assert Worker.objects.get(pk=worker.pk).erased_at is None  # Bury keeps 183 days
    assert AuditEntry.objects.get(action="worker.erase").pool == other_pool


def test_the_erasure_runs_daily_from_beat_as_a_celery_task(worker):
    schedule = django_settings.CELERY_BEAT_SCHEDULE["workers-erase-after-retention"]
    assert schedule["task"] == erase_task.name
    Worker.objects.filter(pk=worker.pk).update(
        status=Worker.Status.LEFT, left_at=timezone.now() - timedelta(days=400)
    )
    assert erase_task.apply().get() == 1
    assert Worker.objects.get(pk=worker.pk).erased_at is not None


def test_a_worker_who_closes_their_account_is_erased_at_once_and_never_again(worker):
    from workers.services import worker_close_account

    worker_close_account(worker=worker)
    worker.refresh_from_db()
    assert worker.status == Worker.Status.LEFT
    assert worker.erased_at is not None and worker.left_at == worker.erased_at
    assert workers_erase_after_retention(now=timezone.now() + timedelta(days=400)) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_erase_a_leaver_once_and_audit_it_once(
    worker, other_worker, is_postgres
):
    import threading

    from django.db import connection

    if not is_postgres:
        pytest.skip("row locks need PostgreSQL")
    left = timezone.now() - timedelta(days=400)
    Worker.objects.filter(pk__in=[worker.pk, other_worker.pk]).update(
        status=Worker.Status.LEFT, left_at=left
    )
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            counts.append(workers_erase_after_retention())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 2
    assert AuditEntry.objects.filter(action="worker.erase").count() == 2
    assert sorted(
        AuditEntry.objects.filter(action="worker.erase").values_list("target_id", flat=True)
    ) == sorted([worker.pk, other_worker.pk])
