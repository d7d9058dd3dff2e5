from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from pools.admin import AuditEntryAdmin
from pools.models import AuditEntry
from pools.services import audit_record


def test_the_audit_page_lists_entries_and_offers_no_way_to_change_them(
    client, coordinator, pool, worker
):
    audit_record(pool=pool, actor=coordinator, action="worker.approve", target=worker, reason="ok")
    client.force_login(coordinator)
    page = client.get(reverse("pools:audit")).content.decode()
    assert "worker.approve" in page and "Wendy Walker" in page
    assert "<form" not in page.split('id="main-content"')[1].split("</main>")[0]


def test_the_admin_cannot_add_change_or_delete_audit_entries(rf, admin_user):
    admin = AuditEntryAdmin(AuditEntry, None)
    request = rf.get("/")
    request.user = admin_user
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)


@pytest.mark.postgres
def test_postgres_refuses_to_edit_or_delete_an_audit_entry(pool, coordinator, worker):
    entry = audit_record(pool=pool, actor=coordinator, action="worker.approve", target=worker)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""
