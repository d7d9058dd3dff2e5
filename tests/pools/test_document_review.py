"""Coordinators review a worker's documents from the worker's page: each file opens in the
browser, each opening by staff is recorded and listed, and a worker is approved only once
every document the pool requires for their roles is approved."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from pools.models import AuditEntry, DocumentType
from pools.services import worker_approve
from tests import factories as f
from workers.models import Document, Worker

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


@pytest.fixture
def applicant(pool):
    user = f.UserFactory(email="amy@applicant.test", first_name="Amy", last_name="Applicant")
    return f.WorkerFactory(
        user=user,
        pool=pool,
        status=Worker.Status.DOCUMENTS_SUBMITTED,
        approved_at=None,
        documents=False,
    )


def _document(worker, slug, content=PDF, name="file.pdf", **extra) -> Document:
    today = timezone.localdate()
    values = {
        "status": Document.Status.PENDING,
        "issued_on": today - timedelta(days=10),
        "expires_on": today + timedelta(days=300),
    }
    values.update(extra)
    return Document.objects.create(
        worker=worker,
        doc_type=DocumentType.objects.get(slug=slug),
        file=ContentFile(content, name=name),
        **values,
    )


def _required(worker) -> list[DocumentType]:
    return list(
        DocumentType.objects.needed_for(
            role_ids=worker.roles.values_list("pk", flat=True),
            skill_ids=worker.skills.values_list("pk", flat=True),
        )
    )


def test_the_workers_page_links_each_file_and_it_opens_in_the_browser(
    client, coordinator, applicant
):
    pdf = _document(applicant, "dbs-enhanced")
    png = _document(applicant, "right-to-work", content=PNG, name="passport.png")
    client.force_login(coordinator)
    page = client.get(reverse("pools:worker", args=[applicant.pk])).content.decode()
    for document, content_type, body in ((pdf, "application/pdf", PDF), (png, "image/png", PNG)):
        url = reverse("workers:document_file", args=[document.pk])
        assert f'href="{url}"' in page
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("inline")
        assert b"".join(response.streaming_content) == body


def test_each_staff_view_is_recorded_and_shown_to_coordinators(client, coordinator, applicant):
    document = _document(applicant, "dbs-enhanced")
    url = reverse("workers:document_file", args=[document.pk])
    client.force_login(applicant.user)
    assert client.get(url).status_code == 200  # the worker's own look is not a staff view
    assert not AuditEntry.objects.filter(action="document.view").exists()
    client.force_login(coordinator)
    client.get(url)
    client.get(url)
    views = AuditEntry.objects.filter(action="document.view")
    assert views.count() == 2
    entry = views.first()
    assert entry.actor == coordinator
    assert entry.target_type == "workers.document" and entry.target_id == document.pk
    assert "DBS" in entry.target_label and "Amy Applicant" in entry.target_label
    page = html.unescape(client.get(reverse("pools:worker", args=[applicant.pk])).content.decode())
    assert "Who has opened these documents" in page
    assert page.count(entry.target_label) >= 2
    assert str(coordinator) in page


def test_approving_is_refused_with_the_list_of_what_is_outstanding(client, coordinator, applicant):
    required = _required(applicant)
    assert len(required) >= 4
    pending, rejected, *rest = sorted(required, key=lambda t: t.name)
    _document(applicant, pending.slug)
    _document(applicant, rejected.slug, status=Document.Status.REJECTED)
    client.force_login(coordinator)
    page = html.unescape(client.get(reverse("pools:worker", args=[applicant.pk])).content.decode())
    assert "Approve worker</button>" not in page
    assert f"{pending.name} (pending review)" in page
    response = client.post(reverse("pools:worker_approve", args=[applicant.pk]), follow=True)
    text = html.unescape(response.content.decode())
    assert f"{pending.name} (pending review)" in text
    assert f"{rejected.name} (rejected)" in text
    assert f"{rest[0].name} (missing)" in text
    applicant.refresh_from_db()
    assert applicant.status == Worker.Status.DOCUMENTS_SUBMITTED
    assert not AuditEntry.objects.filter(action="worker.approve").exists()


def test_an_expired_document_also_stops_approval(coordinator, applicant):
    required = _required(applicant)
    today = timezone.localdate()
    for doc_type in required:
        _document(applicant, doc_type.slug, status=Document.Status.APPROVED)
    lapsed = next(t for t in required if t.expires)
    Document.objects.filter(worker=applicant, doc_type=lapsed).update(
        expires_on=today - timedelta(days=1)
    )
    with pytest.raises(Exception) as refused:
        worker_approve(worker=applicant, by=coordinator)
    assert f"{lapsed.name} (expired)" in str(refused.value)


def test_once_every_required_document_is_approved_the_worker_is_approved(
    client, coordinator, applicant
):
    for doc_type in _required(applicant):
        _document(applicant, doc_type.slug, status=Document.Status.APPROVED)
    client.force_login(coordinator)
    client.post(reverse("pools:worker_approve", args=[applicant.pk]))
    applicant.refresh_from_db()
    assert applicant.status == Worker.Status.APPROVED
