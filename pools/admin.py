"""The audit log in the admin is for reading only: nobody, superusers included, may add,
change or delete an entry there."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pools.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "pool", "actor", "action", "target_label", "reason"]
    list_filter = ["pool", "action"]
    search_fields = ["target_label", "reason", "actor__email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
