from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from pools.models import AuditEntry
from shifts.models import Offer
from tests import factories as f
from workers.models import Document, Worker


@pytest.fixture
def applicant(pool):
    user = f.UserFactory(email="amy@applicant.test", first_name="Amy", last_name="Applicant")
    worker = f.WorkerFactory(
        user=user,
        pool=pool,
        status=Worker.Status.DOCUMENTS_SUBMITTED,
        approved_at=None,
        documents=False,
    )
    from pools.models import DocumentType

    Document.objects.create(
        worker=worker,
        doc_type=DocumentType.objects.get(slug="dbs-enhanced"),
        issued_on=timezone.localdate() - timedelta(days=10),
        expires_on=timezone.localdate() + timedelta(days=1000),
    )
    return worker


def test_the_pipeline_lists_applicants_by_stage(client, coordinator, applicant, worker):
    client.force_login(coordinator)
    page = client.get(reverse("pools:workers"), {"status": "documents_submitted"})
    assert "Amy Applicant" in page.content.decode()
    assert "Wendy Walker" not in page.content.decode()
    page = client.get(reverse("pools:workers"), {"status": "approved"})
    assert "Wendy Walker" in page.content.decode()


def test_an_unknown_stage_is_404(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("pools:workers"), {"status": "nonsense"}).status_code == 404


def test_a_coordinator_approves_a_document_and_it_is_audited(client, coordinator, applicant):
    doc = applicant.documents.get()
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:document_review", kwargs={"pk": applicant.pk, "doc_pk": doc.pk}),
        {"decision": "approve"},
    )
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.status == Document.Status.APPROVED
    assert doc.reviewed_by == coordinator and doc.reviewed_at is not None
    entry = AuditEntry.objects.get(action="document.approve")
    assert entry.actor == coordinator and entry.target_id == doc.pk


def test_rejecting_a_document_needs_a_reason_which_the_worker_is_told(
    client, coordinator, applicant, django_capture_on_commit_callbacks
):
    doc = applicant.documents.get()
    url = reverse("pools:document_review", kwargs={"pk": applicant.pk, "doc_pk": doc.pk})
    client.force_login(coordinator)
    response = client.post(url, {"decision": "reject", "reason": ""})
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    doc.refresh_from_db()
    assert doc.status == Document.Status.PENDING

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url, {"decision": "reject", "reason": "The photo is too blurred to read."})
    doc.refresh_from_db()
    assert doc.status == Document.Status.REJECTED
    assert doc.rejection_reason == "The photo is too blurred to read."
    note = Notification.objects.get(user=applicant.user, kind="document_rejected")
    assert "too blurred" in note.body
    assert callbacks  # delivery queued after commit
    assert AuditEntry.objects.get(action="document.reject").reason == doc.rejection_reason


def test_a_coordinator_approves_a_worker(client, coordinator, applicant):
    # Every document the pool requires is approved (tests/pools/test_document_review.py
    # shows the refusal while one is not).
    from pools.models import DocumentType

    applicant.documents.all().delete()
    for doc_type in DocumentType.objects.needed_for(
        role_ids=applicant.roles.values_list("pk", flat=True), skill_ids=[]
    ):
        Document.objects.create(
            worker=applicant,
            doc_type=doc_type,
            status=Document.Status.APPROVED,
            issued_on=timezone.localdate() - timedelta(days=10),
            expires_on=timezone.localdate() + timedelta(days=300),
        )
    client.force_login(coordinator)
    client.post(reverse("pools:worker_approve", kwargs={"pk": applicant.pk}), {"reason": ""})
    applicant.refresh_from_db()
    assert applicant.status == Worker.Status.APPROVED and applicant.approved_at is not None
    assert AuditEntry.objects.filter(action="worker.approve", target_id=applicant.pk).exists()


def test_suspending_a_worker_withdraws_their_pending_offers(client, coordinator, worker, site):
    shift = f.ShiftFactory(site=site)
    now = timezone.now()
    offer = Offer.objects.create(
        shift=shift,
        worker=worker,
        wave=1,
        rank=1,
        distance_km=1,
        sent_at=now,
        expires_at=now + timedelta(hours=1),
    )
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:worker_suspend", kwargs={"pk": worker.pk}), {"reason": "Complaint"}
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    offer.refresh_from_db()
    assert worker.status == Worker.Status.SUSPENDED
    assert offer.status == Offer.Status.WITHDRAWN
    entry = AuditEntry.objects.get(action="worker.suspend")
    assert entry.reason.startswith("Complaint") and "1 pending offer" in entry.reason


def test_suspending_without_a_reason_is_refused(client, coordinator, worker):
    client.force_login(coordinator)
    response = client.post(reverse("pools:worker_suspend", kwargs={"pk": worker.pk}), {})
    assert response.status_code == 400
    worker.refresh_from_db()
    assert worker.status == Worker.Status.APPROVED


def test_a_document_of_another_worker_cannot_be_reviewed_through_this_one(
    client, coordinator, applicant, worker
):
    doc = worker.documents.first()
    client.force_login(coordinator)
    url = reverse("pools:document_review", kwargs={"pk": applicant.pk, "doc_pk": doc.pk})
    assert client.post(url, {"decision": "approve"}).status_code == 404


def test_moving_an_applicant_to_checks_in_progress(client, coordinator, applicant):
    client.force_login(coordinator)
    client.post(reverse("pools:worker_stage", kwargs={"pk": applicant.pk}), {"status": "checks"})
    applicant.refresh_from_db()
    assert applicant.status == Worker.Status.CHECKS
    assert AuditEntry.objects.filter(action="worker.stage.checks").exists()


def test_a_coordinator_finds_workers_by_name_or_email_across_stages(
    client, coordinator, applicant, worker
):
    client.force_login(coordinator)
    by_name = client.get(reverse("pools:workers"), {"q": "wendy"}).content.decode()
    assert "Wendy Walker" in by_name and "Amy Applicant" not in by_name
    by_email = client.get(
        reverse("pools:workers"), {"q": applicant.user.email[:6].upper()}
    ).content.decode()
    assert "Amy Applicant" in by_email
    within = client.get(reverse("pools:workers"), {"q": "wendy", "status": "documents_submitted"})
    assert "Wendy Walker" not in within.content.decode()
    none = client.get(reverse("pools:workers"), {"q": "zzz\x00"})
    assert none.status_code == 200 and "contains" in none.content.decode()


def test_the_search_never_shows_another_pools_workers(client, coordinator, reference):
    other = f.WorkerFactory(pool=f.PoolFactory(name="Bolton", slug="bolton"))
    client.force_login(coordinator)
    page = client.get(reverse("pools:workers"), {"q": other.display_name[:4]}).content.decode()
    assert other.display_name not in page
