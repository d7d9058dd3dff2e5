"""Bookings after acceptance: cancelling one, recording a no-show. Both give the place
back to the shift and let matching resume."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.services import notification_send
from providers.models import ProviderMember
from shifts.models import Booking, ShiftRequest


def _cancelled_by(booking: Booking, shift: ShiftRequest, by: User) -> str:
    worker = getattr(by, "worker", None)
    if worker is not None and worker.pk == booking.worker_id:
        return Booking.CancelledBy.WORKER
    membership = getattr(by, "provider_membership", None)
    if membership is not None and membership.provider_id == shift.provider_id:
        return Booking.CancelledBy.PROVIDER
    coordinator = getattr(by, "coordinator", None)
    if coordinator is not None and coordinator.pool_id == shift.pool_id:
        return Booking.CancelledBy.POOL
    raise PermissionDenied("Only the worker, the provider or the pool may cancel this booking.")


def _reopen(shift: ShiftRequest, now: datetime) -> None:
    """Give one place back (caller holds the shift lock) and let matching resume."""
    from outbox.services import outbox_put

    shift.booked_count = max(shift.booked_count - 1, 0)
    fields = ["booked_count"]
    if shift.status in (ShiftRequest.Status.OPEN, ShiftRequest.Status.FILLED) and shift.end > now:
        shift.status = ShiftRequest.Status.OPEN
        shift.filled_at = None
        shift.next_wave_at = now
        fields += ["status", "filled_at", "next_wave_at"]
        outbox_put(handler="shifts.tasks.shift_match_due", payload={"shift_id": shift.pk})
    shift.save(update_fields=fields)


def booking_cancel(*, booking: Booking, by: User, reason: str) -> Booking:
    """Cancel a live booking. Who cancelled follows from ``by``; it is late if within the
    pool's late-cancellation window of the start. The place re-opens and matching resumes."""
    now = timezone.now()
    with transaction.atomic():
        shift = (
            ShiftRequest.objects.select_for_update(of=("self",))
            .select_related("pool", "site", "provider")
            .get(pk=booking.shift_id)
        )
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("worker__user")
            .get(pk=booking.pk)
        )
        cancelled_by = _cancelled_by(locked, shift, by)
        if locked.status != Booking.Status.BOOKED:
            raise ValidationError({"booking": ["Only a booked shift can be cancelled."]})
        if locked.start <= now:
            raise ValidationError({"booking": ["This shift has already started."]})
        locked.status = Booking.Status.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = cancelled_by
        locked.cancel_reason = reason.strip()[:200]
        locked.late_cancellation = locked.start - now < timedelta(
            hours=shift.pool.late_cancellation_hours
        )
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancel_reason",
                "late_cancellation",
            ]
        )
        _reopen(shift, now)
        why = reason.strip() or "No reason given."
        if cancelled_by == Booking.CancelledBy.WORKER:
            members = ProviderMember.objects.filter(provider_id=shift.provider_id).select_related(
                "user"
            )
            for member in members:
                notification_send(
                    user=member.user,
                    kind="booking_cancelled",
                    subject=f"{locked.worker} cancelled: {shift}",
                    body=f"{locked.worker} can no longer work this shift ({why}). "
                    "We are offering the place to other workers.",
                )
        elif locked.worker.user is not None:
            notification_send(
                user=locked.worker.user,
                kind="booking_cancelled",
                subject=f"Booking cancelled: {shift}",
                body=f"Your booking was cancelled ({why}).",
            )
    return locked


def booking_record_no_show(*, booking: Booking, by: User) -> Booking:
    """Mark the worker as not having turned up; the place re-opens and goes to everyone."""
    now = timezone.now()
    with transaction.atomic():
        shift = (
            ShiftRequest.objects.select_for_update(of=("self",))
            .select_related("pool")
            .get(pk=booking.shift_id)
        )
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if _cancelled_by(locked, shift, by) == Booking.CancelledBy.WORKER:
            raise PermissionDenied("A worker cannot record their own no-show.")
        if locked.status != Booking.Status.BOOKED:
            raise ValidationError({"booking": ["Only a booked shift can be marked a no-show."]})
        if locked.start > now:
            raise ValidationError({"booking": ["The shift has not started yet."]})
        locked.status = Booking.Status.NO_SHOW
        locked.save(update_fields=["status"])
        shift.is_critical = True
        if not shift.critical_reason:
            shift.critical_reason = "No-show"
        shift.save(update_fields=["is_critical", "critical_reason"])
        _reopen(shift, now)
    return locked
