"""Reads of shifts, offers and bookings, scoped to whoever is asking."""

from __future__ import annotations

import hashlib

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

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
    """The worker's own offers, pending first, then the newest."""
    return (
        Offer.objects.filter(worker=worker)
        .select_related("shift__site", "shift__role", "shift__provider")
        .prefetch_related("shift__skills")
        .annotate(
            pending_first=Case(
                When(status=Offer.Status.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("pending_first", "-sent_at", "-id")
    )


def offers_for_worker_version(*, worker: Worker) -> str:
    """A fingerprint of everything ``offers_for_worker`` lists that can change (an offer
    made, answered, expired or withdrawn, a deadline moved, a shift re-timed, made urgent or
    its notes edited), from one indexed query without rendering: the API's ETag."""
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
