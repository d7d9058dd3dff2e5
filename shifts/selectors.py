"""Reads of shifts, offers and bookings, scoped to whoever is asking."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User
from providers.models import Provider
from shifts.models import Booking, MatchRun, Offer, ShiftRequest
from workers.models import Worker


def provider_for_user(*, user: User) -> Provider | None:
    membership = getattr(user, "provider_membership", None)
    return membership.provider if membership is not None else None


def worker_for_user(*, user: User) -> Worker | None:
    return getattr(user, "worker", None)


def shifts_for_provider(*, provider: Provider) -> QuerySet[ShiftRequest]:
    """The provider's own shifts, newest start first, each with ``offers_sent`` and its
    live bookings (with workers) prefetched."""
    live = Booking.objects.filter(status__in=Booking.LIVE_STATUSES).select_related("worker")
    return (
        ShiftRequest.objects.filter(provider=provider)
        .select_related("site", "role")
        .prefetch_related("skills", Prefetch("bookings", queryset=live, to_attr="live_bookings"))
        .annotate(offers_sent=Count("offers", distinct=True))
        .order_by("-start", "-id")
    )


def offers_for_worker(*, worker: Worker) -> QuerySet[Offer]:
    """The worker's own offers, pending first, then the newest, each with its shift, site,
    role, provider and skills loaded."""
    return _offers_loaded(offer_ids_for_worker(worker=worker))


def offer_ids_for_worker(*, worker: Worker) -> QuerySet[Offer]:
    """``offers_for_worker`` with nothing loaded beside the offers: to count and cut a page
    of ids from (``offers_listed`` then reads that page). A worker's history runs to
    hundreds of offers, and a page joined to its shifts before the cut read every one of
    those shifts: 3.4 ms of server time and 2,600 buffers for 325 offers at a million
    shifts, growing with the history, against 1.6 ms and 1,030 for the cut and the read."""
    return (
        Offer.objects.filter(worker=worker)
        .annotate(
            pending_first=Case(
                When(status=Offer.Status.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("pending_first", "-sent_at", "-id")
    )


# What the API lists of an offer and its shift (``offers_listed``), by the name it is read as.
_LISTED = (
    "id",
    "status",
    "wave",
    "sent_at",
    "expires_at",
    "distance_km",
    "reasons",
    "shift_id",
    "shift__provider__name",
    "shift__site__name",
    "shift__site__district",
    "shift__site__site_type",
    "shift__role__slug",
    "shift__start",
    "shift__end",
    "shift__notes",
)


def offers_listed(ids: list[int]) -> list[dict[str, Any]]:
    """The offers with these ids (a page cut from ``offer_ids_for_worker``), in this order,
    as values: what ``offers_for_worker`` loads that the API lists (``_LISTED``), and
    ``skills``, the slugs of each shift's skills. Two queries and no model instances: a
    page built afresh made about 340 of them (offer, shift, site, role, provider, skills),
    nearly half of its CPU."""
    if not ids:
        return []
    rows = {row["id"]: row for row in Offer.objects.filter(pk__in=ids).values(*_LISTED)}
    skills: dict[int, list[str]] = {}
    through = ShiftRequest.skills.through.objects.filter(
        shiftrequest_id__in={row["shift_id"] for row in rows.values()}
    )
    for shift_id, slug in through.values_list("shiftrequest_id", "skill__slug"):
        skills.setdefault(shift_id, []).append(slug)
    listed = []
    for pk in ids:
        row = rows.get(pk)
        if row is None:  # gone since the cut (its shift deleted meanwhile): not listed
            continue
        row["skills"] = skills.get(row["shift_id"], [])
        listed.append(row)
    return listed


def _offers_loaded(offers: QuerySet[Offer]) -> QuerySet[Offer]:
    return offers.select_related("shift__site", "shift__role", "shift__provider").prefetch_related(
        "shift__skills"
    )


# The API's ETag, hashed where the rows are: a worker's history runs to hundreds of offers,
# and loading, sorting and hashing them in Python cost more than the rest of the request.
_OFFERS_VERSION_SQL = f"""
SELECT md5(coalesce(string_agg(concat_ws(':', o.id, o.status, extract(epoch FROM o.expires_at),
           extract(epoch FROM s.start), extract(epoch FROM s."end"), s.is_critical, md5(s.notes)),
       ',' ORDER BY o.id), ''))
FROM {Offer._meta.db_table} o JOIN {ShiftRequest._meta.db_table} s ON s.id = o.shift_id
WHERE o.worker_id = %s
"""


def offers_for_worker_version(*, worker: Worker) -> str:
    """A fingerprint of everything ``offers_for_worker`` lists that can change (an offer
    made, answered, expired or withdrawn, a deadline moved, a shift re-timed, made urgent or
    its notes edited), from one indexed query without rendering: the API's ETag. PostgreSQL
    computes it; the embedded SQLite default hashes the same fields here."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_OFFERS_VERSION_SQL, [worker.pk])
            (digest,) = cursor.fetchone() or ("",)
            return str(digest)[:16]
    rows = Offer.objects.filter(worker=worker).values_list(
        "id",
        "status",
        "expires_at",
        "shift__start",
        "shift__end",
        "shift__is_critical",
        "shift__notes",
    )
    key = repr(sorted(rows))
    return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:16]


def bookings_for_worker(*, worker: Worker) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(worker=worker)
        .select_related("shift__site", "shift__role", "shift__provider")
        .order_by("-start", "-id")
    )


def bookings_visible_to(*, user: User) -> QuerySet[Booking]:
    """Bookings the user may act on: their own as a worker, or on their provider's shifts."""
    condition = Q(pk__in=[])
    worker = worker_for_user(user=user)
    if worker is not None:
        condition |= Q(worker=worker)
    provider = provider_for_user(user=user)
    if provider is not None:
        condition |= Q(shift__provider=provider)
    return Booking.objects.filter(condition).select_related(
        "shift__site", "shift__role", "shift__provider"
    )


def shift_match_runs(*, shift: ShiftRequest) -> QuerySet[MatchRun]:
    return MatchRun.objects.filter(shift=shift).order_by("wave", "id")


@dataclass
class RuleCheck:
    name: str
    sentence: str
    passed: bool
    words: list[str]


@dataclass
class WhyNot:
    """One worker judged against one shift, rule by rule."""

    worker: Worker
    offered: bool
    checks: list[RuleCheck]

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.checks)


def shift_why_not(
    *, shift: ShiftRequest, name: str, now: datetime | None = None, limit: int = 5
) -> list[WhyNot]:
    """Workers of the shift's pool (or opted in to it) whose name contains ``name``, each
    judged against every eligibility rule (matching's own ``ELIGIBILITY``), for a
    coordinator asking "why was she not offered this?"."""
    from shifts.matching import ELIGIBILITY, worker_rule_failures

    name = name.strip()
    if not name:
        return []
    now = now or timezone.now()
    workers = list(
        Worker.objects.filter(Q(pool_id=shift.pool_id) | Q(extra_pools=shift.pool_id))
        .filter(display_name__icontains=name)
        .distinct()
        .order_by("display_name", "pk")[:limit]
    )
    offered = set(
        Offer.objects.filter(shift=shift, worker__in=workers).values_list("worker_id", flat=True)
    )
    out = []
    for worker in workers:
        verdict = worker_rule_failures(shift=shift, worker_id=worker.pk, now=now)
        failed = {rule.name for rule in verdict.failed}
        checks = []
        for rule in ELIGIBILITY:
            words = verdict.words_for(rule) if rule.name in failed else []
            checks.append(RuleCheck(rule.name, rule.sentence, rule.name not in failed, words))
        out.append(WhyNot(worker=worker, offered=worker.pk in offered, checks=checks))
    return out


@dataclass
class MissedShift:
    shift: ShiftRequest
    reasons: list[str]


def worker_shifts_not_offered(
    *, worker: Worker, now: datetime | None = None, days: int = 14, limit: int = 10
) -> list[MissedShift]:
    """Shifts of the last ``days`` days, in the worker's pools and roles, that matching ran
    on and did not offer them, each with why in the worker's own words (what to renew or
    learn). Nothing about where the provider is beyond the area."""
    from shifts.matching import matching_explain

    now = now or timezone.now()
    pools = [worker.pool_id, *worker.extra_pools.values_list("pk", flat=True)]
    shifts = list(
        ShiftRequest.objects.filter(
            pool_id__in=pools,
            role__in=worker.roles.all(),
            posted_at__gte=now - timedelta(days=days),
            posted_at__lte=now,
            matched_at__isnull=False,
        )
        .exclude(offers__worker=worker)
        .select_related("pool", "site", "role")
        .order_by("-start", "-pk")[:limit]
    )
    out = []
    for shift in shifts:
        # Judged as at the shift's first wave; documents and bookings as they are now.
        at = shift.matched_at or shift.posted_at
        reasons = matching_explain(shift=shift, worker=worker, now=at, audience="worker")
        if not reasons:
            reasons = ["it was filled before your turn came (others nearer or favourites first)"]
        out.append(MissedShift(shift=shift, reasons=reasons))
    return out
