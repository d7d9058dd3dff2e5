"""Waves: offering the next slice of the ranking, on a schedule, and what beat does to
shifts over time (sweep due waves, escalate to coordinators, close past shifts).

A wave offers a direct worker alone first if the provider named one; then
``pool.first_wave_size``, growing by ``pool.wave_growth`` each wave; everyone at once for
critical shifts and those starting within ``pool.urgent_within_hours``. The next wave's time
is stored on the shift (``next_wave_at``) and a periodic sweep runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from notifications.services import notifications_send_many
from pools.models import RoleRate
from providers.models import Favourite
from shifts.matching.ranking import Candidate, _evaluate, collection_paused
from shifts.matching.rules import (
    RawRows,
    fetch_many,
    largest_radius_queryset,
    needed_documents_queryset,
)
from shifts.matching.statements import statement_instances, statement_rows
from shifts.models import MatchRun, Offer, ShiftRequest
from shifts.offer_text import offer_messages, offer_messages_for


def offer_expiry(shift: ShiftRequest, now: datetime) -> datetime:
    """An offer lasts the pool's TTL, but never beyond the shift's start (or, for a shift
    already under way after a no-show, its end)."""
    limit = shift.start if shift.start > now else shift.end
    return min(now + timedelta(minutes=shift.pool.offer_ttl_minutes), limit)


def wave_interval(shift: ShiftRequest, now: datetime) -> timedelta:
    """The pool's interval, tightened as the start approaches: never more than a twelfth
    of the time left, never less than a minute."""
    base = timedelta(minutes=shift.pool.wave_interval_minutes)
    left = (shift.start - now) / 12
    return max(min(base, left), timedelta(minutes=1))


def is_urgent(shift: ShiftRequest, now: datetime) -> bool:
    """``shift.is_urgent(now)``, kept under its old name for callers of the package."""
    return shift.is_urgent(now)


def _wave_size(shift: ShiftRequest, now: datetime) -> int | None:
    """How many workers the next wave offers to; ``None`` means every eligible worker."""
    wave = shift.wave + 1
    if (shift.direct_worker_id and wave == 1) or is_urgent(shift, now):
        return None
    pool = shift.pool
    # Waves after a direct offer count from 1 again.
    ordinal = wave - 1 if shift.direct_worker_id else wave
    return int(pool.first_wave_size * pool.wave_growth ** max(ordinal - 1, 0))


def _wave_pick(shift: ShiftRequest, ranked: list[Candidate], now: datetime) -> list[Candidate]:
    if shift.direct_worker_id and shift.wave == 0:
        direct = [c for c in ranked if c.worker_id == shift.direct_worker_id]
        if direct:
            return direct
        if not is_urgent(shift, now):
            return ranked[: shift.pool.first_wave_size]
    size = _wave_size(shift, now)
    return ranked if size is None else ranked[:size]


def offers_notify(offer_ids: Iterable[int]) -> int:
    """Tell each worker about a new offer: the notifications are written in bulk (one
    query) and delivered by Celery after commit. What they say is ``offer_messages``."""
    return notifications_send_many(messages=offer_messages(offer_ids))


# An offer row as a wave makes it: worker id, rank, distance (km), reasons.
OfferRow = tuple[int, int, Decimal, list[str]]


@dataclass(frozen=True, slots=True)
class NewOffer:
    """An offer a wave has just inserted, as its messages read it (``offer_messages_for``):
    an urgent wave makes hundreds, and a model instance each cost more than the insert."""

    pk: int
    worker_id: int
    shift: ShiftRequest
    expires_at: datetime
    distance_km: Decimal


def _offers_create(
    shift: ShiftRequest,
    rows: list[OfferRow],
    *,
    wave: int,
    sent_at: datetime,
    expires_at: datetime,
) -> list[NewOffer]:
    """Insert a wave's offers, skipping any the unique constraint refuses (the worker was
    offered the shift meanwhile); the offers created (``NewOffer``), in ``rows``' order,
    with their shift at hand. On PostgreSQL one statement, the rows passed as one JSON document and the new
    ids returned (Django's per-object saving costs an urgent wave's hundreds of offers
    otherwise); elsewhere ``bulk_create`` and a query for the ids."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        Offer.objects.bulk_create(
            [
                Offer(
                    shift=shift,
                    worker_id=worker_id,
                    wave=wave,
                    rank=rank,
                    distance_km=km,
                    reasons=reasons,
                    sent_at=sent_at,
                    expires_at=expires_at,
                )
                for worker_id, rank, km, reasons in rows
            ],
            ignore_conflicts=True,
        )
        created = dict(
            Offer.objects.filter(shift=shift, wave=wave, sent_at=sent_at).values_list(
                "worker_id", "pk"
            )
        )
    else:
        document = json.dumps([[w, rank, str(km), reasons] for w, rank, km, reasons in rows])
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO shifts_offer (shift_id, worker_id, status, wave, rank, distance_km, "
                "reasons, sent_at, expires_at, decline_reason) "
                "SELECT %s, (r->>0)::bigint, %s, %s, (r->>1)::int, (r->>2)::numeric, r->3, "
                "%s, %s, '' FROM jsonb_array_elements(%s::jsonb) AS r "
                "ON CONFLICT DO NOTHING RETURNING worker_id, id",
                [shift.pk, Offer.Status.PENDING.value, wave, sent_at, expires_at, document],
            )
            created = dict(cursor.fetchall())
    return [
        NewOffer(pk, worker_id, shift, expires_at, km)
        for worker_id, _rank, km, _reasons in rows
        if (pk := created.get(worker_id)) is not None
    ]


# PostgreSQL compiles a statement whose estimated cost is high to machine code (JIT); for a
# wave's statements over thousands of workers and a long history that costs more than it
# saves (the weekly totals of an urgent evaluation at 12,000 workers and 1,000,000 shifts:
# 475 ms, 278 of them compiling). Switched off for the wave's own transaction only
# (``set_config(..., true)``, undone by its end or a rollback to a savepoint before it).
def _no_jit() -> dict[str, QuerySet[Any] | RawRows]:
    if connection.vendor != "postgresql":
        return {}
    return {"no_jit": RawRows("SELECT set_config('jit', 'off', true)", ())}


def _shift_locked(shift_id: int) -> QuerySet[ShiftRequest]:
    """The shift a wave runs for, locked (a shift another process holds is skipped), with
    what its rules read about the pool, site, provider and role."""
    return (
        ShiftRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("pool", "site", "provider", "role")
        .filter(pk=shift_id)
    )


def _skills(shift_id: int) -> QuerySet[Any]:
    return ShiftRequest(pk=shift_id).skills.all()


def _offered(shift_id: int) -> QuerySet[Any]:
    return (
        Offer.objects.filter(shift_id=shift_id)
        .order_by()
        .values("shift")
        .annotate(n=Count("*"))
        .values_list("n")
    )


def _known_statements(shift: ShiftRequest) -> dict[str, RawRows | QuerySet[Any]]:
    """What a wave needs to know besides the workers (``statement_rows``: compiled once per
    process): the shift's skills, the documents they and the role ask for, the largest
    travel radius, how many offers it has had, the provider's favourites, the pay rate."""
    return {
        "skills": statement_rows(
            "wave.skills", lambda s: _skills(s).values_list("pk", "name"), shift.pk
        ),
        "documents": statement_rows(
            "wave.documents",
            lambda r, s: needed_documents_queryset(r, _skills(s).values("pk")),
            shift.role_id,
            shift.pk,
        ),
        "largest_radius": statement_rows("wave.largest_radius", largest_radius_queryset),
        "offered": statement_rows("wave.offered", _offered, shift.pk),
        "favourites": statement_rows(
            "wave.favourites",
            lambda p: Favourite.objects.filter(provider_id=p).values_list("worker_id"),
            shift.provider_id,
        ),
        "rates": statement_rows(
            "wave.rates",
            lambda p, r: RoleRate.objects.filter(pool_id=p, role_id=r).values_list(
                "pool_id", "role_id", "pool_hourly_cost"
            ),
            shift.pool_id,
            shift.role_id,
        ),
    }


def _due(shift: ShiftRequest, now: datetime) -> bool:
    if not shift.is_open or shift.end <= now:
        return False
    return shift.matched_at is None or (
        shift.next_wave_at is not None and shift.next_wave_at <= now
    )


def shift_match_wave(
    *, shift_id: int, now: datetime | None = None, force: bool = False
) -> MatchRun | None:
    """Run the next wave for one shift if it is due (or ``force``). Safe to call twice at
    once or again later: the shift row is locked (a busy one is skipped), a shift not yet
    due is left alone, and already-offered workers are excluded (and the unique constraint
    on offer (shift, worker) would refuse them anyway)."""
    now = now or timezone.now()
    with transaction.atomic(), collection_paused():
        shift = next(statement_instances("wave.shift", _shift_locked, shift_id), None)
        if shift is None or not (force or _due(shift, now)):
            return None
        if not shift.is_open or shift.end <= now:
            return None
        # What the wave needs to know besides the workers, in one round trip on PostgreSQL;
        # there, too, no JIT compiling for the rest of the wave's transaction (``_no_jit``).
        known = fetch_many({**_no_jit(), **_known_statements(shift)})
        skills = known["skills"]
        evaluation = _evaluate(
            shift,
            now,
            need=_wave_size(shift, now),
            skill_ids=[pk for pk, _name in skills],
            documents=dict(known["documents"]),
            largest_radius_km=known["largest_radius"][0][0],
            favourite_ids=[worker_id for (worker_id,) in known["favourites"]],
        )
        picked = _wave_pick(shift, evaluation.candidates, now)
        wave = shift.wave + 1
        expires = offer_expiry(shift, now)
        first_rank = known["offered"][0][0] if known["offered"] else 0
        offers = _offers_create(
            shift,
            [
                (
                    c.worker_id,
                    first_rank + i + 1,
                    Decimal(str(c.distance_km)).quantize(Decimal("0.1")),
                    c.reasons,
                )
                for i, c in enumerate(picked)
            ],
            wave=wave,
            sent_at=now,
            expires_at=expires,
        )
        # Only the offers this run really created (a conflicting one was not) are announced;
        # what they say is built from the offers at hand (``offer_messages_for``).
        notifications_send_many(
            messages=offer_messages_for(
                offers,
                skills={shift.pk: sorted(name for _pk, name in skills)},
                rates={(pool, role): cost for pool, role, cost in known["rates"]},
                user_ids={c.worker_id: c.user_id for c in picked},
            )
        )
        run = MatchRun.objects.create(
            shift=shift,
            wave=wave,
            ran_at=now,
            eligible_count=len(evaluation.candidates),
            offered_count=len(picked),
            excluded=evaluation.excluded,
            not_reached=evaluation.not_reached,
            searched_km=evaluation.searched_km,
        )
        shift.wave = wave
        shift.matched_at = now
        shift.next_wave_at = now + wave_interval(shift, now)
        shift.save(update_fields=["wave", "matched_at", "next_wave_at"])
    return run


def shifts_due_for_matching(*, now: datetime) -> QuerySet[ShiftRequest]:
    """Open shifts whose next wave is due, or that were never matched a minute after posting
    (their task was lost between commit and broker)."""
    return ShiftRequest.objects.filter(status=ShiftRequest.Status.OPEN, end__gt=now).filter(
        Q(next_wave_at__lte=now)
        | Q(matched_at__isnull=True, posted_at__lte=now - timedelta(minutes=1))
    )


def matching_sweep(*, now: datetime | None = None, limit: int = 200) -> int:
    """Run every due wave. Two sweeps at once share the work: each claims a shift by
    locking it, skipping shifts another sweep holds."""
    now = now or timezone.now()
    ran = 0
    due = shifts_due_for_matching(now=now).order_by("next_wave_at", "pk")
    ids = list(due.values_list("pk", flat=True)[:limit])
    for shift_id in ids:
        if shift_match_wave(shift_id=shift_id, now=now) is not None:
            ran += 1
    return ran
