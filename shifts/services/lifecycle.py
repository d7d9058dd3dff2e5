"""A shift's lifecycle and its bookings', in one module: fill, re-open a place, cancel (a
booking, by the worker, the provider or the pool; or the whole shift), withdraw offers,
record a no-show, escalate to coordinators, close. Every transition locks the shift first
(then offers, then bookings), and tells the people it affects."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from notifications.services import Message, notification_send, notifications_send_many
from pools.models import Coordinator
from providers.models import ProviderMember
from shifts.models import Booking, Offer, ShiftRequest, WorkerRecord
from workers.models import Worker

LONDON = ZoneInfo("Europe/London")

# Only the control test in tests/shifts/test_expiry_locks.py turns this off, to show the
# deadlock that expiring offers in one plain UPDATE runs into.
EXPIRY_SKIPS_LOCKED = True


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


def shift_reopen_place(*, shift: ShiftRequest, now: datetime) -> None:
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
        locked.late_cancellation = shift.is_late_cancellation(now)
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancel_reason",
                "late_cancellation",
            ]
        )
        shift_reopen_place(shift=shift, now=now)
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
        shift_reopen_place(shift=shift, now=now)
    return locked


def shift_fill(*, shift: ShiftRequest, now: datetime) -> None:
    """The last place went (caller holds the shift lock): the shift is filled, and the
    pending offers are withdrawn with a message to each worker."""
    shift.status = ShiftRequest.Status.FILLED
    shift.filled_at = now
    shift.next_wave_at = None
    shift.save(update_fields=["status", "filled_at", "next_wave_at"])
    pending = list(
        Offer.objects.select_for_update(of=("self",))
        .filter(shift=shift, status=Offer.Status.PENDING)
        .select_related("worker__user")
        .order_by("pk")
    )
    if not pending:
        return
    Offer.objects.filter(pk__in=[o.pk for o in pending]).update(
        status=Offer.Status.WITHDRAWN, responded_at=now
    )
    # The messages and their delivery (an outbox row) commit with the withdrawal.
    notifications_send_many(
        messages=[
            Message(
                user_id=o.worker.user_id,
                kind="offer_withdrawn",
                subject=f"Shift filled: {shift}",
                body="Thank you for your interest: this shift has now been filled.",
            )
            for o in pending
            if o.worker.user_id is not None
        ]
    )


def offers_withdraw(*, shift: ShiftRequest, tell: bool, why: str) -> int:
    """Withdraw the shift's pending offers; optionally tell each worker. Caller holds the
    shift lock."""
    pending = list(
        Offer.objects.filter(shift=shift, status=Offer.Status.PENDING).select_related(
            "worker__user"
        )
    )
    if not pending:
        return 0
    Offer.objects.filter(pk__in=[o.pk for o in pending]).update(
        status=Offer.Status.WITHDRAWN, responded_at=timezone.now()
    )
    if tell:
        for offer in pending:
            if offer.worker.user is not None:
                notification_send(
                    user=offer.worker.user,
                    kind="offer_withdrawn",
                    subject=f"Shift no longer available: {shift}",
                    body=why,
                )
    return len(pending)


def offers_expire_pending(offers: QuerySet[Offer]) -> int:
    """Expire the pending offers among ``offers`` in bulk (the offer sweep; a past shift
    closing). Returns how many expired.

    A plain bulk UPDATE locks each pending offer as it meets it, waiting for any held, and
    at its end the record trigger locks each worker's ``WorkerRecord``. An accept that
    takes a shift's last place holds the worker, the shift, the offer and then the worker's
    record, and then wants the shift's other pending offers, to withdraw them: an UPDATE
    holding one of those and waiting for the accepted offer (its expiry falls between the
    accept's clock and the sweep's) or for the record is a deadlock, and PostgreSQL aborts
    one of the two, perhaps the booking. So on
    PostgreSQL this never waits once it holds a lock: the missing records are made first
    (in worker order, on their own when no transaction is open around it), then the offers
    and their workers' records are locked with SKIP LOCKED, and only the offers whose offer
    and record it holds are expired. One skipped is in use right now (its worker answering
    it, or accepting another); the next sweep expires it if it is still pending (an offer
    never outlives its shift's start). ``tests/shifts/test_expiry_locks.py`` forces the
    deadlock a plain UPDATE runs into."""
    pending = offers.filter(status=Offer.Status.PENDING)
    if connection.vendor != "postgresql" or not EXPIRY_SKIPS_LOCKED:
        return pending.update(status=Offer.Status.EXPIRED)
    worker_ids = sorted(set(pending.values_list("worker_id", flat=True)))
    if not worker_ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        # A record's foreign key takes a share lock on its worker's row, which an accept
        # holds for update: those workers are skipped here (and so below) too.
        cursor.execute(
            f"INSERT INTO {WorkerRecord._meta.db_table} (worker_id) "
            f"SELECT w.id FROM {Worker._meta.db_table} w WHERE w.id = ANY(%s) AND NOT EXISTS "
            f"(SELECT 1 FROM {WorkerRecord._meta.db_table} r WHERE r.worker_id = w.id) "
            "ORDER BY w.id FOR KEY SHARE OF w SKIP LOCKED ON CONFLICT DO NOTHING",
            [worker_ids],
        )
    with transaction.atomic():
        held = list(
            pending.select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", "worker_id")
        )
        records = set(
            WorkerRecord.objects.select_for_update(skip_locked=True)
            .filter(worker_id__in=sorted({w for _pk, w in held}))
            .order_by("worker_id")
            .values_list("worker_id", flat=True)
        )
        ids = [pk for pk, worker_id in held if worker_id in records]
        if not ids:
            return 0
        return Offer.objects.filter(pk__in=ids).update(status=Offer.Status.EXPIRED)


def offers_withdraw_for_worker(*, worker: Worker, reason: str) -> int:
    """Withdraw all of a worker's pending offers (they were suspended or left)."""
    return Offer.objects.filter(worker=worker, status=Offer.Status.PENDING).update(
        status=Offer.Status.WITHDRAWN, responded_at=timezone.now(), decline_reason=reason[:200]
    )


def _lock_shift(shift: ShiftRequest) -> ShiftRequest:
    return (
        ShiftRequest.objects.select_for_update(of=("self",))
        .select_related("pool", "site")
        .get(pk=shift.pk)
    )


def shift_cancel(*, shift: ShiftRequest, by: User | None, reason: str = "") -> ShiftRequest:
    """Cancel an open or filled shift: withdraw its offers and tell booked workers."""
    with transaction.atomic():
        locked = _lock_shift(shift)
        if locked.status not in (ShiftRequest.Status.OPEN, ShiftRequest.Status.FILLED):
            raise ValidationError({"status": ["Only an open or filled shift can be cancelled."]})
        now = timezone.now()
        if locked.end <= now:
            raise ValidationError({"status": ["This shift has already ended."]})
        offers_withdraw(shift=locked, tell=True, why="The provider cancelled this shift.")
        booked = list(
            Booking.objects.select_for_update(of=("self",))
            .filter(shift=locked, status=Booking.Status.BOOKED)
            .select_related("worker__user")
        )
        cancelled_by = (
            Booking.CancelledBy.POOL
            if by is not None and getattr(by, "is_coordinator", False)
            else Booking.CancelledBy.PROVIDER
        )
        for booking in booked:
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = now
            booking.cancelled_by = cancelled_by
            booking.cancel_reason = (reason or "Shift cancelled")[:200]
            # Counted as a single cancel is: the provider (or pool) let this worker go late.
            booking.late_cancellation = locked.is_late_cancellation(now)
            booking.save(
                update_fields=[
                    "status",
                    "cancelled_at",
                    "cancelled_by",
                    "cancel_reason",
                    "late_cancellation",
                ]
            )
            if booking.worker.user is not None:
                notification_send(
                    user=booking.worker.user,
                    kind="booking_cancelled",
                    subject=f"Shift cancelled: {locked}",
                    body=reason or "The provider cancelled this shift. You are no longer booked.",
                )
        locked.status = ShiftRequest.Status.CANCELLED
        locked.cancelled_at = now
        locked.booked_count = 0
        locked.next_wave_at = None
        locked.save(update_fields=["status", "cancelled_at", "booked_count", "next_wave_at"])
    return locked


def shifts_escalate(*, now: datetime | None = None) -> int:
    """Escalate open shifts close to their start to the pool's coordinators, once each."""
    now = now or timezone.now()
    escalated = 0
    horizon = now + timedelta(hours=168)
    candidates = ShiftRequest.objects.filter(
        status=ShiftRequest.Status.OPEN,
        escalated_at__isnull=True,
        start__gt=now,
        start__lte=horizon,
    ).select_related("pool", "site", "role")
    for shift in candidates:
        if shift.escalate_at > now:
            continue
        with transaction.atomic():
            claimed = ShiftRequest.objects.filter(
                pk=shift.pk, escalated_at__isnull=True, status=ShiftRequest.Status.OPEN
            ).update(escalated_at=now)
            if not claimed:
                continue
            escalated += 1
            places = shift.headcount - shift.booked_count
            for coordinator in Coordinator.objects.filter(pool_id=shift.pool_id).select_related(
                "user"
            ):
                notification_send(
                    user=coordinator.user,
                    kind="shift_escalated",
                    subject=f"Unfilled shift needs help: {shift}",
                    body=(
                        f"{places} of {shift.headcount} places still open, starting "
                        f"{shift.start.astimezone(LONDON):%a %d %b %H:%M}."
                    ),
                )
    return escalated


def shifts_close_past(*, now: datetime | None = None) -> int:
    """Open shifts whose start has passed with places unfilled become expired; their
    pending offers expire with them."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            ShiftRequest.objects.select_for_update(skip_locked=True)
            .filter(status=ShiftRequest.Status.OPEN, start__lte=now)
            .exclude(bookings__status=Booking.Status.NO_SHOW, end__gt=now)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        offers_expire_pending(Offer.objects.filter(shift_id__in=ids))
        return ShiftRequest.objects.filter(pk__in=ids, status=ShiftRequest.Status.OPEN).update(
            status=ShiftRequest.Status.EXPIRED, next_wave_at=None
        )
