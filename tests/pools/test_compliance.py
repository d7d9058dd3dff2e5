from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from notifications.models import Notification
from pools.models import DocumentReminder
from pools.services import documents_send_expiry_reminders
from pools.tasks import documents_send_expiry_reminders as reminder_task

TODAY = date(2026, 5, 1)


@pytest.fixture
def dbs(worker):
    doc = worker.documents.get(doc_type__slug="dbs-enhanced")
    doc.expires_on = TODAY + timedelta(days=75)
    doc.save()
    return doc


def test_a_reminder_goes_once_per_threshold_however_often_the_task_runs(worker, dbs):
    assert documents_send_expiry_reminders(today=TODAY) == 1  # 75 days: the 90-day reminder
    assert documents_send_expiry_reminders(today=TODAY) == 0
    assert documents_send_expiry_reminders(today=TODAY + timedelta(days=1)) == 0
    assert documents_send_expiry_reminders(today=TODAY + timedelta(days=15)) == 1  # 60 days
    assert documents_send_expiry_reminders(today=TODAY + timedelta(days=50)) == 1  # 25 days
    assert documents_send_expiry_reminders(today=TODAY + timedelta(days=51)) == 0
    notes = Notification.objects.filter(user=worker.user, kind="document_expiring")
    assert notes.count() == 3
    assert sorted(DocumentReminder.objects.values_list("days_before", flat=True)) == [30, 60, 90]


def test_a_renewed_document_is_reminded_afresh(worker, dbs):
    documents_send_expiry_reminders(today=TODAY)
    dbs.expires_on = TODAY + timedelta(days=80)
    dbs.save()
    assert documents_send_expiry_reminders(today=TODAY) == 1


def test_documents_far_from_expiry_or_not_approved_get_no_reminder(worker, dbs):
    dbs.status = "rejected"
    dbs.save()
    assert documents_send_expiry_reminders(today=TODAY) == 0


def test_the_beat_task_sends_the_reminders(worker, dbs):
    with time_machine.travel(TODAY, tick=False):
        assert reminder_task() == 1


def test_the_compliance_page_lists_documents_expiring_and_exports_csv(client, coordinator, dbs):
    client.force_login(coordinator)
    with time_machine.travel(TODAY, tick=False):
        page = client.get(reverse("pools:compliance"), {"within": "90"})
        assert "Wendy Walker" in page.content.decode()
        assert "Wendy Walker" not in client.get(reverse("pools:compliance")).content.decode()
        csv = client.get(reverse("pools:compliance"), {"within": "90", "export": "expiring"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "Worker,Document,Expires on,Days left"
    assert lines[1].startswith("Wendy Walker,Enhanced DBS") and lines[1].endswith(",75")
