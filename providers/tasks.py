from __future__ import annotations

from celery import shared_task

from outbox.services import outbox_handler
from providers import services
from shifts.services.timesheets import timesheets_auto_approve as auto_approve


@shared_task(name="providers.tasks.timesheets_auto_approve")
def timesheets_auto_approve() -> dict[str, int]:
    """Beat, hourly: remind providers of unreviewed timesheets, then approve them."""
    result = auto_approve()
    return {"reminded": result.reminded, "approved": result.approved}


@outbox_handler(atomic=False)
def member_invite_send(*, member_id: int, inviter: str) -> None:
    """The outbox's invitation intent, written when a colleague is added."""
    services.member_invite_send(member_id=member_id, inviter=inviter)
