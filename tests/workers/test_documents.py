from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from pools.models import DocumentType
from tests import factories as f
from tests.pools.conftest import give_totp
from workers.models import Document, Worker

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


def upload(client, doc_type, content, name="dbs.pdf", **fields):
    today = timezone.localdate()
    data = {
        "reference": "001234567890",
        "issued_on": (today - timedelta(days=10)).isoformat(),
        "expires_on": (today + timedelta(days=1000)).isoformat(),
        "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
    }
    data.update(fields)
    # One row of the documents page's single form: fields prefixed by the document type.
    return client.post(
        reverse("workers:documents"), {f"d{doc_type.pk}-{k}": v for k, v in data.items()}
    )


@pytest.fixture
def applicant(pool):
    return f.WorkerFactory(pool=pool, status=Worker.Status.APPLIED, documents=False)


@pytest.fixture
def dbs(reference):
    return DocumentType.objects.get(slug="dbs-enhanced")


def test_an_applicant_uploads_a_pdf_and_it_waits_for_review(client, applicant, dbs, tmp_path):
    client.force_login(applicant.user)
    response = upload(client, dbs, PDF)
    assert response.status_code == 302
    document = Document.objects.get(worker=applicant)
    assert document.status == Document.Status.PENDING
    assert document.file.name.endswith(".pdf")
    assert "dbs" not in document.file.name  # the worker's own file name is not kept
    assert (tmp_path / "private" / document.file.name).read_bytes() == PDF
    applicant.refresh_from_db()
    assert applicant.status == Worker.Status.DOCUMENTS_SUBMITTED
    page = client.get(reverse("workers:documents")).content.decode()
    assert "Pending review" in page
    assert "Missing" in page  # the other required documents


def test_a_file_whose_bytes_are_not_pdf_jpeg_or_png_is_refused(client, applicant, dbs):
    client.force_login(applicant.user)
    response = upload(client, dbs, b"MZ\x90\x00 this is a program", name="dbs.pdf")
    assert response.status_code == 200
    assert "must be a PDF, JPG or PNG" in response.content.decode()
    assert not Document.objects.exists()


def test_a_file_over_5_mb_is_refused(client, applicant, dbs):
    client.force_login(applicant.user)
    response = upload(client, dbs, PDF + b"0" * (5 * 1024 * 1024))
    assert "smaller than 5 MB" in response.content.decode()
    assert not Document.objects.exists()


def test_an_expiring_document_needs_an_expiry_date_after_its_issue(client, applicant, dbs):
    client.force_login(applicant.user)
    response = upload(client, dbs, PNG, name="x.png", expires_on="")
    assert "Enter the expiry date" in response.content.decode()
    today = timezone.localdate()
    response = upload(client, dbs, PNG, name="x.png", expires_on=(today - timedelta(days=30)))
    assert "must be after the issue date" in response.content.decode()
    assert not Document.objects.exists()


def test_the_status_list_shows_approved_expiring_and_rejected(client, applicant, reference):
    today = timezone.localdate()
    Document.objects.create(
        worker=applicant,
        doc_type=DocumentType.objects.get(slug="right-to-work"),
        status=Document.Status.APPROVED,
        issued_on=today - timedelta(days=300),
        expires_on=today + timedelta(days=10),
    )
    Document.objects.create(
        worker=applicant,
        doc_type=DocumentType.objects.get(slug="identity"),
        status=Document.Status.REJECTED,
        rejection_reason="The photo is blurred.",
        issued_on=today - timedelta(days=300),
    )
    Document.objects.create(
        worker=applicant,
        doc_type=DocumentType.objects.get(slug="references"),
        status=Document.Status.APPROVED,
        issued_on=today - timedelta(days=300),
    )
    client.force_login(applicant.user)
    page = client.get(reverse("workers:documents")).content.decode()
    assert "Expiring soon" in page
    assert "Rejected" in page and "The photo is blurred." in page
    assert "Approved" in page


def test_the_file_is_served_to_its_worker_and_the_pools_coordinator_only(
    client, applicant, dbs, coordinator, other_worker, manager
):
    client.force_login(applicant.user)
    upload(client, dbs, PDF)
    document = Document.objects.get(worker=applicant)
    url = reverse("workers:document_file", args=[document.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == PDF
    for outsider in (other_worker.user, manager):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(coordinator)
    assert client.get(url)["Location"] == reverse("mfa_activate_totp")  # no second factor yet
    give_totp(coordinator)
    assert client.get(url).status_code == 200
    other_coordinator = f.UserFactory()
    f.CoordinatorFactory(user=other_coordinator, pool=f.PoolFactory(slug="bolton"))
    give_totp(other_coordinator)
    client.force_login(other_coordinator)
    assert client.get(url).status_code == 404


def test_signed_out_people_are_sent_to_sign_in_for_a_file(client, applicant, dbs):
    client.force_login(applicant.user)
    upload(client, dbs, PDF)
    client.logout()
    url = reverse("workers:document_file", args=[Document.objects.get().pk])
    assert client.get(url).status_code == 302


def test_several_documents_are_sent_at_once_in_one_submit(client, applicant, reference):
    client.force_login(applicant.user)
    today = timezone.localdate()
    types = list(DocumentType.objects.filter(slug__in=["dbs-enhanced", "identity", "references"]))
    data = {}
    for t in types:
        data[f"d{t.pk}-file"] = SimpleUploadedFile(f"{t.slug}.pdf", PDF)
        data[f"d{t.pk}-issued_on"] = (today - timedelta(days=5)).isoformat()
        data[f"d{t.pk}-expires_on"] = (today + timedelta(days=500)).isoformat()
    response = client.post(reverse("workers:documents"), data)
    assert response.status_code == 302
    assert Document.objects.filter(worker=applicant).count() == 3
    page = client.get(reverse("workers:documents")).content.decode()
    assert "3 of " in page and "Pending review" in page


def test_one_bad_file_among_several_saves_none_and_says_which(client, applicant, reference):
    client.force_login(applicant.user)
    today = timezone.localdate()
    good, bad = DocumentType.objects.filter(slug__in=["identity", "references"]).order_by("slug")
    data = {
        f"d{good.pk}-file": SimpleUploadedFile("a.pdf", PDF),
        f"d{good.pk}-issued_on": (today - timedelta(days=5)).isoformat(),
        f"d{bad.pk}-file": SimpleUploadedFile("b.pdf", b"MZ not a pdf"),
        f"d{bad.pk}-issued_on": (today - timedelta(days=5)).isoformat(),
    }
    response = client.post(reverse("workers:documents"), data)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{bad.name}: " in text and "must be a PDF, JPG or PNG" in text
    assert not Document.objects.exists()


def test_sending_the_form_with_no_file_says_so(client, applicant, reference):
    client.force_login(applicant.user)
    response = client.post(reverse("workers:documents"), {})
    assert "Choose a file for at least one document." in response.content.decode()
