"""Applying without 70 clicks, on a 360 px phone in real Chromium: every outstanding
document on one page, several files sent in one go (with upload progress), and the weekly
pattern set with one preset."""

from __future__ import annotations

import pytest

from pools.models import DocumentType
from tests import factories as f
from tests.browser import axe_check, sign_in
from workers.models import AvailabilityRule, Document, Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


def test_an_applicant_sends_two_documents_at_once_and_sets_nights(live_server, phone, pool):
    applicant = f.WorkerFactory(
        pool=pool, status=Worker.Status.APPLIED, documents=False, availability=False
    )
    page = sign_in(phone, live_server, applicant.user)
    page.goto(live_server.url + "/worker/documents/")
    axe_check(page, "documents-all")
    types = {t.slug: t for t in DocumentType.objects.filter(slug__in=["identity", "references"])}
    for slug, t in types.items():
        row = page.locator(f"#d{t.pk}")
        row.get_by_label("File").set_input_files(
            {"name": f"{slug}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        row.get_by_label("Date issued").fill("2025-06-01")
    page.get_by_role("button", name="Send documents").click()
    page.get_by_text("We will review them.").wait_for()
    assert Document.objects.filter(worker=applicant).count() == 2
    assert page.get_by_text("2 of").first.is_visible()

    page.goto(live_server.url + "/worker/availability/")
    page.get_by_label("Nights (20:00 to 08:00), every day").check()
    page.get_by_role("button", name="Set my weekly pattern").click()
    page.get_by_text("Your weekly pattern is set.").wait_for()
    assert AvailabilityRule.objects.filter(worker=applicant).count() == 14
    axe_check(page, "availability-presets")
