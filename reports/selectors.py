"""What the pool-health dashboard reads: workers by stage, compliance today and how evenly
the range's hours were spread. Every function takes the pools it may look at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from pools.models import DocumentType
from pools.selectors import APPLICANT_STATUSES, PIPELINE
from providers.models import Provider
from reports.metrics import Figures, Scope, Spread, figures_grouped, figures_summary
from reports.rollups import hours_spread
from workers.models import Document, Worker


@dataclass
class Health:
    by_status: dict[str, int]
    vetted: int
    compliant: int
    applicants: int
    active: int
    expiring_30: int
    spread: Spread

    @property
    def utilisation(self) -> float | None:
        return self.active / self.vetted if self.vetted else None


@dataclass
class WorkerCounts:
    """The live half of pool health: read from the worker and document tables."""

    by_status: dict[str, int]
    compliant: int
    expiring_30: int
    approved: frozenset[int]
    counted_at: datetime


def pool_worker_counts(*, pool_ids: tuple[int, ...], today: date) -> WorkerCounts:
    """Workers by stage, the vetted ones holding a valid approved copy of every document
    all workers need today, and approved documents expiring in the next 30 days."""
    workers = Worker.objects.filter(pool_id__in=pool_ids)
    by_status = dict(
        workers.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    required = DocumentType.objects.filter(required_for_all=True).count()
    valid_today = (
        Q(documents__status=Document.Status.APPROVED)
        & Q(documents__doc_type__required_for_all=True)
        & Q(documents__issued_on__lte=today)
        & (Q(documents__expires_on__isnull=True) | Q(documents__expires_on__gt=today))
    )
    compliant = (
        workers.filter(status=Worker.Status.APPROVED)
        .annotate(ok=Count("documents__doc_type", filter=valid_today, distinct=True))
        .filter(ok__gte=required)
        .count()
    )
    expiring = Document.objects.filter(
        worker__pool_id__in=pool_ids,
        status=Document.Status.APPROVED,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=30),
    ).exclude(worker__status=Worker.Status.LEFT)
    approved = frozenset(workers.filter(status=Worker.Status.APPROVED).values_list("pk", flat=True))
    return WorkerCounts(
        by_status={s: by_status.get(s, 0) for s in PIPELINE},
        compliant=compliant,
        expiring_30=expiring.count(),
        approved=approved,
        counted_at=timezone.now(),
    )


def pool_health(
    *,
    scope: Scope,
    today: date,
    spread: Spread | None = None,
    counts: WorkerCounts | None = None,
) -> Health:
    """Active = vetted workers with a live booking on a shift in the range; vetted =
    approved now; compliant = vetted and holding a valid approved copy of every document
    all workers need, today; utilisation = active ÷ vetted."""
    counts = counts or pool_worker_counts(pool_ids=scope.pool_ids, today=today)
    spread = spread if spread is not None else hours_spread(scope)
    by_status = counts.by_status
    return Health(
        by_status=by_status,
        vetted=by_status.get(Worker.Status.APPROVED, 0),
        compliant=counts.compliant,
        applicants=sum(by_status.get(s, 0) for s in APPLICANT_STATUSES),
        active=len(counts.approved & spread.minutes_by_worker.keys()),
        expiring_30=counts.expiring_30,
        spread=spread,
    )


# --- A provider's own results ------------------------------------------------------------


@dataclass
class MonthFigures:
    month: date
    figures: Figures


def provider_results(
    *, provider: Provider, months: int = 12, today: date | None = None
) -> list[MonthFigures]:
    """The provider's own figures by calendar month (UK time) of the shifts' start, newest
    first, over the last ``months`` months: the same definitions as the dashboards
    (reports.metrics), so a provider and the council read the same fill rate and savings."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    scope = Scope(pool_ids=(provider.pool_id,), start=first, end=today, provider_id=provider.pk)
    by_month = figures_grouped(scope, "month")
    return [MonthFigures(month, by_month[month]) for month in sorted(by_month, reverse=True)]


def provider_results_total(rows: list[MonthFigures], *, provider: Provider) -> Figures:
    """The same figures over the whole span of ``rows`` (percentiles included)."""
    if not rows:
        return Figures()
    start = rows[-1].month
    scope = Scope(
        pool_ids=(provider.pool_id,), start=start, end=timezone.localdate(), provider_id=provider.pk
    )
    return figures_summary(scope)
