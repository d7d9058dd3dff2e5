"""Posting and changing shift requests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.services import notification_send
from outbox.services import outbox_put
from pools.models import Role, RoleRate, Skill
from providers.models import Provider, Site
from shifts.models import Booking, Offer, ShiftRequest
from shifts.services.lifecycle import offers_withdraw
from workers.models import Worker

MIN_SHIFT = timedelta(hours=1)
MAX_SHIFT = timedelta(hours=14)
MAX_AHEAD = timedelta(days=180)
MAX_HEADCOUNT = 50


def _queue_matching(shift_id: int) -> None:
    """Matching is an outbox row in the caller's transaction: it happens even if the broker
    is down now or the worker dies, and the request that posted the shift never waits."""
    outbox_put(handler="shifts.tasks.shift_match_due", payload={"shift_id": shift_id})


def _validate_times(errors: dict[str, list[str]], start: datetime, end: datetime) -> None:
    if timezone.is_naive(start):
        errors.setdefault("start", []).append("Give the start with its time zone.")
        return
    if timezone.is_naive(end):
        errors.setdefault("end", []).append("Give the end with its time zone.")
        return
    now = timezone.now()
    if start <= now:
        errors.setdefault("start", []).append("The start must be in the future.")
    elif start > now + MAX_AHEAD:
        errors.setdefault("start", []).append("Shifts can be posted up to 180 days ahead.")
    if end <= start:
        errors.setdefault("end", []).append("The end must be after the start.")
    elif end - start < MIN_SHIFT:
        errors.setdefault("end", []).append("A shift must last at least 1 hour.")
    elif end - start > MAX_SHIFT:
        errors.setdefault("end", []).append("A shift can last at most 14 hours.")


def _validate_headcount(errors: dict[str, list[str]], headcount: int) -> None:
    if not 1 <= headcount <= MAX_HEADCOUNT:
        errors.setdefault("headcount", []).append(f"Ask for between 1 and {MAX_HEADCOUNT} workers.")


def _benchmark_rate(provider: Provider, role: Role) -> Decimal | None:
    rate = RoleRate.objects.filter(pool_id=provider.pool_id, role=role).first()
    return rate.benchmark_agency_rate if rate else None


def shift_post(
    *,
    provider: Provider,
    site: Site,
    role: Role,
    skills: Iterable[Skill],
    start: datetime,
    end: datetime,
    headcount: int,
    agency_hourly_rate: Decimal | None = None,
    notes: str = "",
    created_by: User | None = None,
    direct_worker: Worker | None = None,
    is_critical: bool = False,
    critical_reason: str = "",
) -> ShiftRequest:
    """Create an open shift request and queue matching once it is committed.

    Raises ``ValidationError({field: [messages]})`` on bad input; nothing is written then.
    """
    skills = list(skills)
    errors: dict[str, list[str]] = {}
    if not provider.is_active:
        errors["provider"] = ["This provider is not active."]
    if site.provider_id != provider.pk:
        errors["site"] = ["Choose one of your own sites."]
    _validate_times(errors, start, end)
    _validate_headcount(errors, headcount)
    if agency_hourly_rate is None:
        agency_hourly_rate = _benchmark_rate(provider, role)
        if agency_hourly_rate is None:
            errors["agency_hourly_rate"] = ["Give the agency hourly rate you would otherwise pay."]
    elif agency_hourly_rate < 0:
        errors["agency_hourly_rate"] = ["The agency hourly rate cannot be negative."]
    elif agency_hourly_rate >= Decimal("1000000"):
        errors["agency_hourly_rate"] = ["That agency hourly rate is too high."]
    if is_critical and not critical_reason.strip():
        errors["critical_reason"] = ["Say why this shift is critical."]
    if errors:
        raise ValidationError(errors)
    assert agency_hourly_rate is not None

    with transaction.atomic():
        shift = ShiftRequest.objects.create(
            pool_id=provider.pool_id,
            provider=provider,
            site=site,
            role=role,
            start=start,
            end=end,
            headcount=headcount,
            agency_hourly_rate=agency_hourly_rate,
            notes=notes,
            created_by=created_by,
            direct_worker=direct_worker,
            is_critical=is_critical,
            critical_reason=critical_reason.strip(),
            posted_at=timezone.now(),
        )
        if skills:
            shift.skills.set(skills)
        if direct_worker is not None:
            from shifts.matching import matching_explain

            reasons = matching_explain(shift=shift, worker=direct_worker)
            if reasons:
                transaction.set_rollback(True)
                raise ValidationError(
                    {"direct_worker": [f"{direct_worker} cannot take this shift: {reasons[0]}."]}
                )
        _queue_matching(shift.pk)
    return shift


def _lock(shift: ShiftRequest) -> ShiftRequest:
    return (
        ShiftRequest.objects.select_for_update(of=("self",))
        .select_related("pool", "site")
        .get(pk=shift.pk)
    )


def shift_update(
    *,
    shift: ShiftRequest,
    by: User | None,
    start: datetime | None = None,
    end: datetime | None = None,
    role: Role | None = None,
    skills: Iterable[Skill] | None = None,
    headcount: int | None = None,
    notes: str | None = None,
    agency_hourly_rate: Decimal | None = None,
) -> ShiftRequest:
    """Change an open or filled shift. A change of time, role or skills withdraws pending
    offers, cancels bookings (telling the workers) and re-runs matching from the start."""
    with transaction.atomic():
        locked = _lock(shift)
        if locked.status not in (ShiftRequest.Status.OPEN, ShiftRequest.Status.FILLED):
            raise ValidationError({"status": ["Only an open or filled shift can be changed."]})
        errors: dict[str, list[str]] = {}
        new_start = start or locked.start
        new_end = end or locked.end
        if start is not None or end is not None:
            _validate_times(errors, new_start, new_end)
        if headcount is not None:
            _validate_headcount(errors, headcount)
            if headcount < locked.booked_count:
                errors.setdefault("headcount", []).append(
                    f"{locked.booked_count} workers are already booked; cancel a booking first."
                )
        if agency_hourly_rate is not None and agency_hourly_rate < 0:
            errors["agency_hourly_rate"] = ["The agency hourly rate cannot be negative."]
        if errors:
            raise ValidationError(errors)
        new_skills = list(skills) if skills is not None else None
        changed_terms = (
            new_start != locked.start
            or new_end != locked.end
            or (role is not None and role.pk != locked.role_id)
            or (
                new_skills is not None
                and {s.pk for s in new_skills} != set(locked.skills.values_list("pk", flat=True))
            )
        )
        locked.start, locked.end = new_start, new_end
        if role is not None:
            locked.role = role
        if headcount is not None:
            locked.headcount = headcount
        if notes is not None:
            locked.notes = notes
        if agency_hourly_rate is not None:
            locked.agency_hourly_rate = agency_hourly_rate
        if new_skills is not None:
            locked.skills.set(new_skills)
        now = timezone.now()
        if changed_terms:
            offers_withdraw(shift=locked, tell=True, why="The shift's details changed.")
            booked = list(
                Booking.objects.select_for_update(of=("self",))
                .filter(shift=locked, status=Booking.Status.BOOKED)
                .select_related("worker__user")
            )
            for booking in booked:
                booking.status = Booking.Status.CANCELLED
                booking.cancelled_at = now
                booking.cancelled_by = Booking.CancelledBy.PROVIDER
                booking.cancel_reason = "The shift's time, role or skills changed."
                booking.save()
                if booking.worker.user is not None:
                    notification_send(
                        user=booking.worker.user,
                        kind="booking_cancelled",
                        subject=f"Shift changed: {locked}",
                        body="The provider changed this shift, so your booking was cancelled.",
                    )
            locked.booked_count = 0
            # Anyone declined or withdrawn may be offered the new terms afresh.
            Offer.objects.filter(shift=locked).exclude(status=Offer.Status.ACCEPTED).delete()
            locked.wave = 0
            locked.matched_at = None
        if locked.booked_count < locked.headcount:
            locked.status = ShiftRequest.Status.OPEN
            locked.filled_at = None
            locked.next_wave_at = now
        else:
            locked.status = ShiftRequest.Status.FILLED
        locked.save()
        if locked.status == ShiftRequest.Status.OPEN:
            _queue_matching(locked.pk)
    return locked


def shift_mark_outcome(
    *, shift: ShiftRequest, outcome: ShiftRequest.Outcome, by: User | None
) -> ShiftRequest:
    """Record what became of places the pool did not fill."""
    if outcome not in ShiftRequest.Outcome.values:
        raise ValidationError({"outcome": ["Choose a recorded outcome."]})
    if not shift.needs_outcome(timezone.now()):
        raise ValidationError(
            {"outcome": ["Record what happened once the shift has started with places unfilled."]}
        )
    ShiftRequest.objects.filter(pk=shift.pk).update(outcome=outcome)
    shift.outcome = outcome
    return shift


def shift_mark_critical(*, shift: ShiftRequest, reason: str, by: User | None) -> ShiftRequest:
    """Mark an open shift critical: it then goes to every eligible worker at once."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why this shift is critical."]})
    with transaction.atomic():
        locked = _lock(shift)
        if not locked.is_open:
            raise ValidationError({"status": ["Only an open shift can be marked critical."]})
        locked.is_critical = True
        locked.critical_reason = reason.strip()[:200]
        locked.next_wave_at = timezone.now()
        locked.save(update_fields=["is_critical", "critical_reason", "next_wave_at"])
        _queue_matching(locked.pk)
    return locked


def shift_widen_radius(*, shift: ShiftRequest, extra_km: Decimal, by: User | None) -> ShiftRequest:
    """Search further afield than workers' own radius for this shift, and match again now."""
    if extra_km <= 0 or extra_km > Decimal("50"):
        raise ValidationError({"extra_km": ["Widen by between 0.1 and 50 km."]})
    with transaction.atomic():
        locked = _lock(shift)
        if not locked.is_open:
            raise ValidationError({"status": ["Only an open shift can be widened."]})
        locked.radius_bonus_km = locked.radius_bonus_km + extra_km
        locked.next_wave_at = timezone.now()
        locked.save(update_fields=["radius_bonus_km", "next_wave_at"])
        _queue_matching(locked.pk)
    return locked
