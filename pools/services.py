from __future__ import annotations

from django.db import models

from accounts.models import User
from pools.models import AuditEntry, Pool


def audit_record(
    *, pool: Pool, actor: User | None, action: str, target: models.Model, reason: str = ""
) -> AuditEntry:
    """Append one line to the pool's audit log. There is no update or delete path."""
    return AuditEntry.objects.create(
        pool=pool,
        actor=actor,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_label=str(target)[:200],
        reason=reason,
    )
