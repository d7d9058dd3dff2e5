"""What the pool-health dashboard reads: workers by stage, compliance today and how evenly
the range's hours were spread. Every function takes the pools it may look at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q

from pools.models import DocumentType
from pools.selectors import APPLICANT_STATUSES, PIPELINE
from reports.metrics import Scope, Spread
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


def pool_health(*, scope: Scope, today: date, spread: Spread | None = None) -> Health:
    """Active = vetted workers with a live booking on a shift in the range; vetted =
    approved now; compliant = vetted and holding a valid approved copy of every document
    all workers need, today; utilisation = active ÷ vetted."""
    workers = Worker.objects.filter(pool_id__in=scope.pool_ids)
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
        worker__pool_id__in=scope.pool_ids,
        status=Document.Status.APPROVED,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=30),
    ).exclude(worker__status=Worker.Status.LEFT)
    spread = spread if spread is not None else hours_spread(scope)
    vetted = by_status.get(Worker.Status.APPROVED, 0)
    approved_ids = set(
        workers.filter(
            status=Worker.Status.APPROVED, pk__in=list(spread.minutes_by_worker)
        ).values_list("pk", flat=True)
    )
    return Health(
        by_status={s: by_status.get(s, 0) for s in PIPELINE},
        vetted=vetted,
        compliant=compliant,
        applicants=sum(by_status.get(s, 0) for s in APPLICANT_STATUSES),
        active=len(approved_ids),
        expiring_30=expiring.count(),
        spread=spread,
    )
