"""What a provider member may read: their own requests, how each is filling, the booked
workers' details the shift needs, and the provider's results by month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, F, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from pools.models import DocumentType, RoleRate
from providers.models import Favourite, Provider, ProviderBlock, ProviderMember
from shifts.models import Booking, Offer, ShiftRequest, Timesheet
from workers.models import Document

ZERO = Decimal("0")


def member_for_user(*, user: User) -> ProviderMember | None:
    if not user.is_authenticated:
        return None
    return ProviderMember.objects.select_related("provider__pool").filter(user=user).first()


def provider_shifts(*, provider: Provider) -> QuerySet[ShiftRequest]:
    return (
        ShiftRequest.objects.filter(provider=provider)
        .select_related("site", "role")
        .order_by("-start", "-id")
    )


def provider_shift_recent(*, provider: Provider, limit: int = 5) -> list[ShiftRequest]:
    """The latest requests, to start a new one from ("repeat" / "same time next week")."""
    return list(
        ShiftRequest.objects.filter(provider=provider)
        .select_related("site", "role")
        .order_by("-posted_at", "-id")[:limit]
    )


def provider_benchmark_rates(*, provider: Provider) -> dict[int, Decimal]:
    """Role id to the pool's benchmark agency rate, to pre-fill the posting form."""
    return dict(
        RoleRate.objects.filter(pool_id=provider.pool_id).values_list(
            "role_id", "benchmark_agency_rate"
        )
    )


def provider_reviews_due(*, provider: Provider, now: datetime | None = None) -> list[Booking]:
    """Bookings that ended and wait for the provider: attendance not yet confirmed, or a
    timesheet not yet approved (unreviewed timesheets are approved automatically after 7
    days, so they come first, oldest first)."""
    now = now or timezone.now()
    return list(
        Booking.objects.filter(shift__provider=provider, end__lte=now)
        .filter(
            Q(status=Booking.Status.BOOKED)
            | Q(timesheet__status__in=[Timesheet.Status.SUBMITTED, Timesheet.Status.OPEN])
        )
        .select_related("worker", "shift__site", "shift__role", "timesheet")
        .order_by("end", "id")[:50]
    )


# --- Live status of one request ------------------------------------------------------------


@dataclass(frozen=True)
class WaveSummary:
    wave: int
    sent_at: datetime
    sent: int
    viewed: int
    accepted: int
    declined: int
    pending: int
    expired_or_withdrawn: int


@dataclass(frozen=True)
class WorkerRecord:
    """How a worker has done at this provider before (not elsewhere: that is not theirs)."""

    shifts_attended: int
    no_shows: int
    average_rating: Decimal | None


@dataclass(frozen=True)
class BookedWorker:
    booking: Booking
    name: str
    relevant_skills: list[str]
    documents_valid: bool
    missing_documents: list[str]
    record: WorkerRecord
    is_favourite: bool
    is_blocked: bool
    has_rating: bool


@dataclass(frozen=True)
class ShiftStatus:
    shift: ShiftRequest
    waves: list[WaveSummary]
    offers_sent: int
    offers_viewed: int
    offers_accepted: int
    booked: list[BookedWorker]
    past_bookings: list[Booking]
    escalate_at: datetime | None
    time_to_escalation: timedelta | None
    is_escalated: bool
    has_started: bool
    can_change: bool
    needs_outcome: bool
    has_ended: bool
    refreshed_at: datetime = field(default_factory=timezone.now)


def _required_document_types(shift: ShiftRequest) -> list[DocumentType]:
    return list(
        DocumentType.objects.needed_for(
            role_ids=[shift.role_id], skill_ids=[s.pk for s in shift.skills.all()]
        )
    )


def worker_records_at_provider(
    *, provider: Provider, worker_ids: list[int]
) -> dict[int, WorkerRecord]:
    rows = (
        Booking.objects.filter(shift__provider=provider, worker_id__in=worker_ids)
        .values("worker_id")
        .annotate(
            attended=Count("id", filter=Q(status=Booking.Status.ATTENDED)),
            no_shows=Count("id", filter=Q(status=Booking.Status.NO_SHOW)),
            avg_rating=Avg(
                (F("rating__punctuality") + F("rating__care") + F("rating__skills_as_listed")) / 3.0
            ),
        )
    )
    records = {
        row["worker_id"]: WorkerRecord(
            shifts_attended=row["attended"],
            no_shows=row["no_shows"],
            average_rating=(
                Decimal(str(row["avg_rating"])).quantize(Decimal("0.1"))
                if row["avg_rating"] is not None
                else None
            ),
        )
        for row in rows
    }
    empty = WorkerRecord(shifts_attended=0, no_shows=0, average_rating=None)
    return {wid: records.get(wid, empty) for wid in worker_ids}


def shift_status(*, shift: ShiftRequest, now: datetime | None = None) -> ShiftStatus:
    """Everything the live status page shows, in a handful of queries."""
    now = now or timezone.now()
    counts = (
        Offer.objects.filter(shift=shift)
        .values("wave")
        .annotate(
            sent=Count("id"),
            first_sent=Min("sent_at"),
            viewed=Count("id", filter=Q(viewed_at__isnull=False)),
            accepted=Count("id", filter=Q(status=Offer.Status.ACCEPTED)),
            declined=Count("id", filter=Q(status=Offer.Status.DECLINED)),
            pending=Count("id", filter=Q(status=Offer.Status.PENDING)),
            gone=Count("id", filter=Q(status__in=[Offer.Status.EXPIRED, Offer.Status.WITHDRAWN])),
        )
        .order_by("wave")
    )
    waves = [
        WaveSummary(
            wave=row["wave"],
            sent_at=row["first_sent"],
            sent=row["sent"],
            viewed=row["viewed"],
            accepted=row["accepted"],
            declined=row["declined"],
            pending=row["pending"],
            expired_or_withdrawn=row["gone"],
        )
        for row in counts
    ]
    bookings = list(
        Booking.objects.filter(shift=shift)
        .select_related("worker", "timesheet", "rating")
        .prefetch_related("worker__skills")
        .order_by("booked_at", "id")
    )
    live = [b for b in bookings if b.status in Booking.LIVE_STATUSES]
    past = [b for b in bookings if b.status not in Booking.LIVE_STATUSES]
    worker_ids = [b.worker_id for b in live]
    required = _required_document_types(shift)
    first_day: date = timezone.localtime(shift.start).date()
    last_day: date = timezone.localtime(shift.end).date()
    valid_types: dict[int, set[int]] = defaultdict(set)
    for worker_id, doc_type_id in (
        Document.objects.valid_between(first_day, last_day)
        .filter(worker_id__in=worker_ids, doc_type__in=required)
        .values_list("worker_id", "doc_type_id")
    ):
        valid_types[worker_id].add(doc_type_id)
    records = worker_records_at_provider(provider=shift.provider, worker_ids=worker_ids)
    favourites = set(
        Favourite.objects.filter(
            provider_id=shift.provider_id, worker_id__in=worker_ids
        ).values_list("worker_id", flat=True)
    )
    blocked = set(
        ProviderBlock.objects.filter(
            provider_id=shift.provider_id, worker_id__in=worker_ids
        ).values_list("worker_id", flat=True)
    )
    wanted_skills = {s.pk for s in shift.skills.all()}
    booked = []
    for b in live:
        missing = [d.name for d in required if d.pk not in valid_types[b.worker_id]]
        booked.append(
            BookedWorker(
                booking=b,
                name=b.worker.display_name,
                relevant_skills=[s.name for s in b.worker.skills.all() if s.pk in wanted_skills],
                documents_valid=not missing,
                missing_documents=missing,
                record=records[b.worker_id],
                is_favourite=b.worker_id in favourites,
                is_blocked=b.worker_id in blocked,
                has_rating=hasattr(b, "rating"),
            )
        )
    with_coordinators = shift.is_with_coordinators(now)
    # Only a time still ahead is promised; once it passes the shift is with the coordinators.
    escalate_at = shift.escalate_at if shift.is_open and not with_coordinators else None
    time_left = escalate_at - now if escalate_at is not None else None
    return ShiftStatus(
        shift=shift,
        waves=waves,
        offers_sent=sum(w.sent for w in waves),
        offers_viewed=sum(w.viewed for w in waves),
        offers_accepted=sum(w.accepted for w in waves),
        booked=booked,
        past_bookings=past,
        escalate_at=escalate_at,
        time_to_escalation=time_left,
        is_escalated=with_coordinators,
        has_started=shift.start <= now,
        can_change=shift.can_change(now),
        needs_outcome=shift.needs_outcome(now),
        has_ended=shift.end <= now,
        refreshed_at=now,
    )
