"""What coordinators read: the vetting pipeline, compliance, the live board, the audit log
and pool health. Every function takes the pool(s) it may look at; nothing here crosses
into another pool."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from pools.models import AuditEntry, Coordinator, DocumentType, Pool
from shifts.models import MatchRun, Offer, ShiftRequest
from workers.models import Document, Worker

PIPELINE = [
    Worker.Status.APPLIED,
    Worker.Status.DOCUMENTS_SUBMITTED,
    Worker.Status.CHECKS,
    Worker.Status.APPROVED,
    Worker.Status.SUSPENDED,
    Worker.Status.LEFT,
]
APPLICANT_STATUSES = (
    Worker.Status.APPLIED,
    Worker.Status.DOCUMENTS_SUBMITTED,
    Worker.Status.CHECKS,
)


def coordinator_of(user: object) -> Coordinator | None:
    coordinator = getattr(user, "coordinator", None)
    return coordinator if isinstance(coordinator, Coordinator) else None


def pools_visible(*, coordinator: Coordinator) -> QuerySet[Pool]:
    """A coordinator's own pool; a regional coordinator sees every pool in the region."""
    if coordinator.is_regional:
        return Pool.objects.all()
    return Pool.objects.filter(pk=coordinator.pool_id)


# --- Vetting --------------------------------------------------------------------------------


def pipeline_counts(*, pool: Pool) -> dict[str, int]:
    counts = Counter(
        dict(
            Worker.objects.filter(pool=pool)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
    )
    return {status: counts.get(status, 0) for status in PIPELINE}


def pool_workers(*, pool: Pool, status: str | None = None, query: str = "") -> QuerySet[Worker]:
    """The pool's workers at a stage (or all), optionally those whose name or e-mail
    address contains ``query``."""
    pending = Document.objects.filter(worker=OuterRef("pk"), status=Document.Status.PENDING)
    qs = Worker.objects.filter(pool=pool).annotate(
        pending_documents=Count("documents", filter=Q(documents__status=Document.Status.PENDING)),
        has_pending=Exists(pending),
    )
    if status:
        qs = qs.filter(status=status)
    query = query.strip()
    if query:
        qs = qs.filter(Q(display_name__icontains=query) | Q(user__email__icontains=query))
    return qs.select_related("user").order_by("created_at", "id")


def worker_documents(*, worker: Worker) -> QuerySet[Document]:
    return worker.documents.select_related("doc_type", "reviewed_by").order_by(
        "doc_type__name", "-issued_on"
    )


def worker_missing_documents(*, worker: Worker, today: date) -> list[DocumentType]:
    """Documents every worker must hold (and those the worker's roles and skills need) with
    no valid approved copy today."""
    needed = DocumentType.objects.needed_for(
        role_ids=worker.roles.values_list("pk", flat=True),
        skill_ids=worker.skills.values_list("pk", flat=True),
    )
    valid = set(worker.documents.valid_between(today, today).values_list("doc_type_id", flat=True))
    return sorted((t for t in needed if t.pk not in valid), key=lambda t: t.name)


def worker_documents_outstanding(*, worker: Worker, today: date) -> list[tuple[DocumentType, str]]:
    """Each document the pool requires for the worker's roles and skills that stops them
    being approved today, with why: missing, pending review, rejected or expired (the
    newest copy of each type decides)."""
    missing = worker_missing_documents(worker=worker, today=today)
    latest: dict[int, Document] = {}
    for document in worker.documents.filter(doc_type__in=missing).order_by("-uploaded_at", "-id"):
        latest.setdefault(document.doc_type_id, document)
    outstanding = []
    for doc_type in missing:
        newest = latest.get(doc_type.pk)
        if newest is None:
            state = "missing"
        elif newest.status == Document.Status.PENDING:
            state = "pending review"
        elif newest.status == Document.Status.REJECTED:
            state = "rejected"
        else:
            state = "expired"
        outstanding.append((doc_type, state))
    return outstanding


def worker_document_views(*, worker: Worker) -> QuerySet[AuditEntry]:
    """Every time staff opened one of the worker's document files: who, which, when."""
    return AuditEntry.objects.filter(
        pool=worker.pool,
        action="document.view",
        target_type="workers.document",
        target_id__in=list(worker.documents.values_list("pk", flat=True)),
    ).select_related("actor")


def audit_entries(*, pool: Pool) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(pool=pool).select_related("actor")


# --- Compliance ------------------------------------------------------------------------------


def documents_expiring(*, pool: Pool, today: date, within_days: int) -> QuerySet[Document]:
    """Approved documents of current workers that expire within ``within_days`` of today."""
    return (
        Document.objects.filter(
            worker__pool=pool,
            status=Document.Status.APPROVED,
            expires_on__gte=today,
            expires_on__lte=today + timedelta(days=within_days),
        )
        .exclude(worker__status=Worker.Status.LEFT)
        .select_related("worker", "doc_type")
        .order_by("expires_on", "worker__display_name")
    )


def documents_lapsed(*, pool: Pool, today: date) -> QuerySet[Document]:
    """Approved documents already expired, of workers still approved (they get no offers
    for shifts that need them)."""
    return (
        Document.objects.filter(
            worker__pool=pool,
            worker__status=Worker.Status.APPROVED,
            status=Document.Status.APPROVED,
            expires_on__lte=today,
            expires_on__gte=today - timedelta(days=90),
        )
        .select_related("worker", "doc_type")
        .order_by("-expires_on")
    )


# --- Live board -----------------------------------------------------------------------------


@dataclass
class BoardRow:
    shift: ShiftRequest
    offers: dict[str, int] = field(default_factory=dict)
    last_run: MatchRun | None = None

    @property
    def escalated(self) -> bool:
        return self.shift.escalated_at is not None


def board_rows(*, pool: Pool, now: datetime | None = None, limit: int = 200) -> list[BoardRow]:
    """Open requests that have not started, soonest first, with what matching did on each."""
    now = now or timezone.now()
    shifts = list(
        ShiftRequest.objects.filter(pool=pool, status=ShiftRequest.Status.OPEN, start__gt=now)
        .select_related("provider", "site", "role")
        .order_by("start", "id")[:limit]
    )
    ids = [s.pk for s in shifts]
    offers: dict[int, dict[str, int]] = {}
    for shift_id, status, n in (
        Offer.objects.filter(shift_id__in=ids)
        .values_list("shift_id", "status")
        .annotate(n=Count("id"))
        .values_list("shift_id", "status", "n")
    ):
        offers.setdefault(shift_id, {})[status] = n
    runs: dict[int, MatchRun] = {}
    for run in MatchRun.objects.filter(shift_id__in=ids).order_by("shift_id", "-ran_at", "-id"):
        runs.setdefault(run.shift_id, run)
    return [BoardRow(s, offers.get(s.pk, {}), runs.get(s.pk)) for s in shifts]


def shift_for_pool(*, pool: Pool, shift_id: int) -> ShiftRequest:
    return ShiftRequest.objects.select_related("provider", "site", "role", "pool").get(
        pool=pool, pk=shift_id
    )


def shift_offers(*, shift: ShiftRequest) -> QuerySet[Offer]:
    return shift.offers.select_related("worker").order_by("status", "rank", "id")


@dataclass
class Candidate:
    worker: Worker
    distance_km: float | None
    reasons: list[str]


def shift_candidates(*, shift: ShiftRequest, limit: int = 15) -> list[Candidate]:
    """Ranked eligible workers not yet offered this shift (matching's own ranking)."""
    from shifts.matching import shift_eligible_workers

    offered = set(shift.offers.values_list("worker_id", flat=True))
    ranked = [c for c in shift_eligible_workers(shift=shift) if c.worker_id not in offered]
    ranked = ranked[:limit]
    workers = Worker.objects.in_bulk([c.worker_id for c in ranked])
    return [
        Candidate(workers[c.worker_id], getattr(c, "distance_km", None), list(c.reasons))
        for c in ranked
        if c.worker_id in workers
    ]


def shift_exclusions(
    *, shift: ShiftRequest, workers: QuerySet[Worker]
) -> list[tuple[Worker, list[str]]]:
    """Why each of ``workers`` cannot take the shift now (matching's own rules)."""
    from shifts.matching import matching_explain

    out = []
    for worker in workers:
        reasons = matching_explain(shift=shift, worker=worker)
        if len(reasons) > 3:
            reasons = [*reasons[:3], f"and {len(reasons) - 3} more"]
        if reasons:
            out.append((worker, reasons))
    return out
