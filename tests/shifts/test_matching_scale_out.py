"""Matching scales out: two Celery worker processes started as separate nodes on the same
Redis share a burst of posted shifts, and no shift is matched twice even when every
shift's intent is handed to both of them (as a relay republishing a slow task would)."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboxMessage
from outbox.services import outbox_publish
from pools.models import Role
from shifts.models import MatchRun, Offer, ShiftRequest
from shifts.services.posting import shift_post
from tests.faults import celery_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

BURST = 40


def _wait_for(predicate, seconds: float, *processes) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        for process in processes:
            assert process.poll() is None, "".join(process.log)
        time.sleep(0.1)
    raise AssertionError("timed out:\n" + "".join(line for p in processes for line in p.log))


def _ready(process) -> bool:  # type: ignore[no-untyped-def]
    return any(" ready." in line for line in process.log)


def _consumed(process) -> int:  # type: ignore[no-untyped-def]
    return sum(
        "outbox.tasks.outbox_consume" in line and "succeeded" in line for line in process.log
    )


def test_two_worker_nodes_share_a_burst_and_match_no_shift_twice(
    provider, site, worker, other_worker
):
    redis = os.environ.get("REDIS_URL")
    if not redis:
        pytest.skip("needs Redis: set REDIS_URL")
    care = Role.objects.get(slug="care-worker")
    with (
        celery_worker(redis, "-n", "match-one@%h") as one,
        celery_worker(redis, "-n", "match-two@%h") as two,
    ):
        _wait_for(lambda: _ready(one) and _ready(two), 60, one, two)
        start = timezone.now().replace(microsecond=0) + timedelta(days=2)
        with transaction.atomic():  # a surge: every shift committed at the same moment
            shifts = [
                shift_post(
                    provider=provider,
                    site=site,
                    role=care,
                    skills=[],
                    start=start + timedelta(hours=i),
                    end=start + timedelta(hours=i + 6),
                    headcount=1,
                )
                for i in range(BURST)
            ]
        ids = [s.pk for s in shifts]
        # Every intent is handed out a second time: both nodes may get the same shift.
        again = list(
            OutboxMessage.objects.filter(handler="shifts.tasks.shift_match_due").values_list(
                "pk", flat=True
            )
        )
        outbox_publish(message_ids=again)
        _wait_for(
            lambda: MatchRun.objects.filter(shift_id__in=ids).values("shift_id").distinct().count()
            == BURST,
            120,
            one,
            two,
        )
        _wait_for(
            lambda: not OutboxMessage.objects.filter(pk__in=again, done_at__isnull=True).exists(),
            60,
            one,
            two,
        )
        time.sleep(1.0)  # any duplicate still running finishes (and must do nothing)
        shared = (_consumed(one), _consumed(two))

    runs = Counter(MatchRun.objects.filter(shift_id__in=ids).values_list("shift_id", flat=True))
    assert set(runs) == set(ids)
    assert set(runs.values()) == {1}, "a shift was matched twice"
    assert set(ShiftRequest.objects.filter(pk__in=ids).values_list("wave", flat=True)) == {1}
    offers = Counter(Offer.objects.filter(shift_id__in=ids).values_list("shift_id", "worker_id"))
    assert len(offers) == 2 * BURST and set(offers.values()) == {1}
    # Both nodes did part of the work (each consumed some of the 2 × BURST deliveries).
    assert min(shared) > 0 and sum(shared) >= BURST, shared


def test_the_control_a_second_delivery_without_the_guard_matches_the_shift_again(
    provider, site, worker, other_worker
):
    """What the test above guards against does happen without the guard: a wave forced past
    the due check (``force=True``, what a second delivery would do unguarded) matches a shift
    that is already matched; the guarded call does not."""
    from shifts.matching import shift_match_wave

    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    care = Role.objects.get(slug="care-worker")
    shifts = [
        shift_post(
            provider=provider,
            site=site,
            role=care,
            skills=[],
            start=start + timedelta(hours=10 * i),
            end=start + timedelta(hours=10 * i + 6),
            headcount=1,
        )
        for i in range(2)
    ]
    guarded, unguarded = shifts
    for shift in shifts:
        assert shift_match_wave(shift_id=shift.pk) is not None
    assert shift_match_wave(shift_id=guarded.pk) is None  # the guard: not due again
    assert shift_match_wave(shift_id=unguarded.pk, force=True) is not None  # no guard
    assert MatchRun.objects.filter(shift=guarded).count() == 1
    assert MatchRun.objects.filter(shift=unguarded).count() == 2
