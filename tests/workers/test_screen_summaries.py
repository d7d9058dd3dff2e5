"""On PostgreSQL each worker row carries a summary of its weekly pattern (``week_free``) and
of its approved documents (``doc_mask``, ``doc_multi``, ``doc_from_latest``,
``doc_until_earliest``, ``doc_days``), kept in step by the triggers of workers migration
0009. Whichever way the tables change, the summary equals what the tables say, worked out
here in Python from the ORM (never from the migration's SQL), and nobody else's summary
moves. Two transactions changing one worker at once both reach the row (the triggers lock
the worker first); control tests put back the triggers without the lock and show the race
loses a change, so the guarded tests can fail.

psycopg cannot load PostgreSQL's ``infinity`` dates, so the dates are read as text."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db import connection

from pools.models import DocumentType
from tests import factories as f
from tests.locking import triggers_unlocked, two_changes_at_once
from workers.models import AvailabilityRule, Document, Worker

pytestmark = pytest.mark.postgres

summaries = importlib.import_module("workers.migrations.0009_worker_screen_summaries")

APPROVED, PENDING, REJECTED = (
    Document.Status.APPROVED,
    Document.Status.PENDING,
    Document.Status.REJECTED,
)
# The document type ids ``doc_mask`` has a bit for.
SCREENED = range(1, 64)
DAY = date(2025, 3, 3)


@dataclass(frozen=True)
class Summary:
    week_free: str
    doc_mask: int
    doc_multi: int
    doc_from_latest: str
    doc_until_earliest: str
    doc_days: tuple[str, ...]


EMPTY = Summary("{}", 0, 0, "infinity", "-infinity", ())


def stored(worker: Worker | int) -> Summary:
    """The summary on the worker's row, dates as PostgreSQL writes them (ISO or infinity)."""
    worker_id = worker if isinstance(worker, int) else worker.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT week_free::text, doc_mask, doc_multi, doc_from_latest::text, "
            "doc_until_earliest::text, doc_days::text[] FROM workers_worker WHERE id = %s",
            [worker_id],
        )
        week_free, mask, multi, from_latest, until_earliest, days = cursor.fetchone()
    return Summary(week_free, mask, multi, from_latest, until_earliest, tuple(days))


def _day(value: date | None) -> str:
    return "infinity" if value is None else value.isoformat()


def week_free_expected(worker_id: int) -> str:
    """The worker's rules as minutes of the week, overlapping and touching stretches merged."""
    stretches = sorted(
        (weekday * 1440 + start, weekday * 1440 + end)
        for weekday, start, end in AvailabilityRule.objects.filter(worker_id=worker_id)
        .order_by()
        .values_list("weekday", "start_minute", "end_minute")
    )
    merged: list[list[int]] = []
    for start, end in stretches:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return "{" + ",".join(f"[{start},{end})" for start, end in merged) + "}"


def expected(worker: Worker | int) -> Summary:
    """The summary the tables call for: per screened type the approved document that runs
    longest (no expiry longest of all; then the earliest issued, then the lowest id)."""
    worker_id = worker if isinstance(worker, int) else worker.pk
    approved = Document.objects.filter(
        worker_id=worker_id, status=APPROVED, doc_type_id__in=SCREENED
    ).order_by()
    held = Counter(d.doc_type_id for d in approved)
    chosen: dict[int, Document] = {}
    for doc in approved:
        best = chosen.get(doc.doc_type_id)
        if best is None or _runs_longer(doc, best):
            chosen[doc.doc_type_id] = doc
    if not chosen:
        return Summary(week_free_expected(worker_id), 0, 0, "infinity", "-infinity", ())
    days: list[str] = []
    for t in range(1, max(chosen) + 1):
        doc = chosen.get(t)
        if doc is None:
            days += ["infinity", "-infinity"]
        else:
            days += [doc.issued_on.isoformat(), _day(doc.expires_on)]
    # No expiry is later than any day.
    until = min(date.max if d.expires_on is None else d.expires_on for d in chosen.values())
    return Summary(
        week_free=week_free_expected(worker_id),
        doc_mask=sum(1 << (t - 1) for t in chosen),
        doc_multi=sum(1 << (t - 1) for t, n in held.items() if n > 1),
        doc_from_latest=max(d.issued_on for d in chosen.values()).isoformat(),
        doc_until_earliest=_day(None if until == date.max else until),
        doc_days=tuple(days),
    )


def _runs_longer(doc: Document, best: Document) -> bool:
    def key(d: Document) -> tuple[int, date, int]:
        # Smallest key wins: latest expiry (None latest of all), earliest issued, lowest id.
        expiry = date.max if d.expires_on is None else d.expires_on
        return (-expiry.toordinal(), d.issued_on, d.pk)

    return key(doc) < key(best)


def screened_types(count: int) -> list[DocumentType]:
    """``count`` document types with ids ``doc_mask`` has bits for, the highest free ids up to
    63 (the reference types take whatever the sequence gives, often beyond 63), lowest first.
    """
    taken = set(DocumentType.objects.values_list("pk", flat=True))
    free = [i for i in reversed(SCREENED) if i not in taken][:count]
    assert len(free) == count
    return [
        DocumentType.objects.create(pk=i, slug=f"screened-{i}", name=f"Screened {i}")
        for i in sorted(free)
    ]


def bit(doc_type: DocumentType) -> int:
    return 1 << (doc_type.pk - 1)


def doc(worker: Worker, doc_type: DocumentType, **extra: object) -> Document:
    fields: dict[str, object] = {
        "status": APPROVED,
        "issued_on": DAY,
        "expires_on": DAY + timedelta(days=365),
    }
    fields.update(extra)
    return Document(worker=worker, doc_type=doc_type, **fields)


def saved(document: Document) -> Document:
    document.save()
    return document


@pytest.fixture
def subject(pool) -> Worker:
    return f.WorkerFactory(pool=pool, documents=False, availability=False)


@pytest.fixture
def types(pool, other_worker) -> list[DocumentType]:
    """Made after Olive, so the factory has not given her one of each."""
    return screened_types(4)


@pytest.fixture
def outsider_unchanged(other_worker, types) -> Iterator[Worker]:
    """Olive holds documents of the screened types and a full week; whatever happens to
    another worker's rows, her summary stays what it was and what her tables say."""
    Document.objects.bulk_create(
        [
            doc(other_worker, types[0], issued_on=DAY - timedelta(days=30)),
            doc(other_worker, types[2], expires_on=None),
        ]
    )
    before = stored(other_worker)
    assert before == expected(other_worker)
    # Besides the reference types she holds (those with ids up to 63 have bits too).
    assert before.doc_mask & sum(map(bit, types)) == bit(types[0]) | bit(types[2])
    assert before.week_free == "{[0,10080)}"
    yield other_worker
    assert stored(other_worker) == before == expected(other_worker)


# --- Documents -------------------------------------------------------------------------------


def test_a_worker_with_no_documents_and_no_rules_has_the_empty_summary(subject, outsider_unchanged):
    assert stored(subject) == expected(subject) == EMPTY


def test_documents_created_in_bulk_and_one_by_one_are_summarised(
    subject, types, outsider_unchanged
):
    low, _mid, high, top = types
    Document.objects.bulk_create(
        [
            doc(subject, low, issued_on=DAY - timedelta(days=10)),
            doc(subject, top, expires_on=None),
        ]
    )
    assert stored(subject) == expected(subject)
    summary = stored(subject)
    assert summary.doc_mask == bit(low) | bit(top)
    assert summary.doc_multi == 0
    assert summary.doc_from_latest == DAY.isoformat()
    assert summary.doc_until_earliest == (DAY + timedelta(days=365)).isoformat()
    assert len(summary.doc_days) == 2 * top.pk
    assert summary.doc_days[2 * low.pk - 2 : 2 * low.pk] == (
        (DAY - timedelta(days=10)).isoformat(),
        (DAY + timedelta(days=365)).isoformat(),
    )
    assert summary.doc_days[2 * top.pk - 2 :] == (DAY.isoformat(), "infinity")
    assert summary.doc_days[2 * high.pk - 2 : 2 * high.pk] == ("infinity", "-infinity")
    assert summary.doc_days[:2] == ("infinity", "-infinity")

    doc(
        subject, high, issued_on=DAY + timedelta(days=5), expires_on=DAY + timedelta(days=40)
    ).save()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_mask == bit(low) | bit(high) | bit(top)
    assert summary.doc_from_latest == (DAY + timedelta(days=5)).isoformat()
    assert summary.doc_until_earliest == (DAY + timedelta(days=40)).isoformat()


def test_a_document_of_type_63_sets_the_top_bit_and_the_mask_stays_positive(
    subject, types, outsider_unchanged
):
    top = types[-1]
    if top.pk != 63:
        pytest.skip("type 63 is taken by a reference type in this run")
    doc(subject, top).save()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_mask == 1 << 62 > 0
    assert len(summary.doc_days) == 126


def test_approving_a_pending_document_adds_its_type_and_a_rejected_one_never_counts(
    subject, types, outsider_unchanged
):
    low, mid, _high, _top = types
    pending = saved(doc(subject, low, status=PENDING))
    doc(subject, mid, status=REJECTED).save()
    assert stored(subject) == expected(subject) == EMPTY

    Document.objects.filter(pk=pending.pk).update(status=APPROVED)
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_mask == bit(low)

    pending.status = REJECTED
    pending.save(update_fields=["status"])
    assert stored(subject) == expected(subject) == EMPTY


def test_changing_an_expiry_and_deleting_a_document_follow_into_the_summary(
    subject, types, outsider_unchanged
):
    low, mid, _high, _top = types
    first = saved(doc(subject, low))
    doc(subject, mid, expires_on=DAY + timedelta(days=90)).save()
    assert stored(subject).doc_until_earliest == (DAY + timedelta(days=90)).isoformat()

    Document.objects.filter(pk=first.pk).update(expires_on=DAY + timedelta(days=20))
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_until_earliest == (DAY + timedelta(days=20)).isoformat()

    first.refresh_from_db()
    first.expires_on = None
    first.save()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_until_earliest == (DAY + timedelta(days=90)).isoformat()
    assert summary.doc_days[2 * low.pk - 1] == "infinity"

    first.delete()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_mask == bit(mid)
    assert len(summary.doc_days) == 2 * mid.pk

    Document.objects.filter(worker=subject).delete()
    assert stored(subject) == expected(subject) == EMPTY


def test_a_second_approved_document_of_a_type_sets_the_multi_bit_and_the_longest_is_chosen(
    subject, types, outsider_unchanged
):
    low, mid, _high, _top = types
    Document.objects.bulk_create(
        [
            doc(subject, low, expires_on=DAY + timedelta(days=100)),
            doc(subject, mid),
            doc(subject, mid, status=REJECTED, expires_on=None),
        ]
    )
    assert stored(subject).doc_multi == 0

    # A later expiry wins over an earlier one, whenever it was issued.
    doc(
        subject, low, issued_on=DAY + timedelta(days=50), expires_on=DAY + timedelta(days=200)
    ).save()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_mask == bit(low) | bit(mid)
    assert summary.doc_multi == bit(low)
    assert summary.doc_days[2 * low.pk - 2 : 2 * low.pk] == (
        (DAY + timedelta(days=50)).isoformat(),
        (DAY + timedelta(days=200)).isoformat(),
    )

    # The same expiry: the earlier issued is chosen.
    doc(
        subject, low, issued_on=DAY + timedelta(days=10), expires_on=DAY + timedelta(days=200)
    ).save()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_days[2 * low.pk - 2] == (DAY + timedelta(days=10)).isoformat()

    # No expiry runs longest of all.
    doc(subject, low, issued_on=DAY + timedelta(days=60), expires_on=None).save()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_days[2 * low.pk - 2 : 2 * low.pk] == (
        (DAY + timedelta(days=60)).isoformat(),
        "infinity",
    )
    assert summary.doc_from_latest == (DAY + timedelta(days=60)).isoformat()

    # Down to one approved document of the type again: no multi bit.
    Document.objects.filter(worker=subject, doc_type=low).exclude(expires_on=None).delete()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_multi == 0


def test_documents_of_a_type_beyond_63_are_left_out_of_the_summary(
    subject, types, outsider_unchanged
):
    taken = set(DocumentType.objects.values_list("pk", flat=True))
    beyond = DocumentType.objects.create(
        pk=max(taken | {63}) + 1000, slug="beyond-the-mask", name="Beyond the mask"
    )
    doc(
        subject, beyond, issued_on=DAY + timedelta(days=30), expires_on=DAY + timedelta(days=31)
    ).save()
    assert stored(subject) == expected(subject) == EMPTY

    doc(subject, types[0]).save()
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_mask == bit(types[0])
    assert summary.doc_from_latest == DAY.isoformat()


def test_moving_a_document_to_another_worker_updates_both_in_one_statement(
    pool, subject, types, outsider_unchanged
):
    second = f.WorkerFactory(pool=pool, documents=False, availability=False)
    moving = saved(doc(subject, types[1]))
    doc(second, types[3]).save()

    Document.objects.filter(pk=moving.pk).update(worker=second)
    assert stored(subject) == expected(subject) == EMPTY
    summary = stored(second)
    assert summary == expected(second)
    assert summary.doc_mask == bit(types[1]) | bit(types[3])

    # One statement over both workers' documents.
    Document.objects.filter(worker__in=[subject, second]).update(status=PENDING)
    assert stored(second) == expected(second) == EMPTY


def test_deleting_a_worker_with_documents_and_rules_leaves_the_others_alone(
    subject, types, outsider_unchanged
):
    doc(subject, types[0]).save()
    AvailabilityRule.objects.create(worker=subject, weekday=1, start_minute=0, end_minute=60)
    subject.delete()
    assert not Worker.objects.filter(pk=subject.pk).exists()


# --- The weekly pattern ----------------------------------------------------------------------


def test_rules_added_are_merged_where_they_touch_or_overlap(subject, outsider_unchanged):
    AvailabilityRule.objects.bulk_create(
        [
            AvailabilityRule(worker=subject, weekday=0, start_minute=0, end_minute=600),
            AvailabilityRule(worker=subject, weekday=0, start_minute=600, end_minute=900),
        ]
    )
    assert stored(subject).week_free == expected(subject).week_free == "{[0,900)}"

    AvailabilityRule.objects.create(worker=subject, weekday=2, start_minute=480, end_minute=720)
    AvailabilityRule.objects.create(worker=subject, weekday=2, start_minute=600, end_minute=1020)
    AvailabilityRule.objects.create(worker=subject, weekday=6, start_minute=1380, end_minute=1440)
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.week_free == "{[0,900),[3360,3900),[10020,10080)}"

    # Sunday night does not run on into Monday morning: the week does not wrap.
    # Monday's end of day touches Tuesday's start.
    AvailabilityRule.objects.create(worker=subject, weekday=0, start_minute=1200, end_minute=1440)
    AvailabilityRule.objects.create(worker=subject, weekday=1, start_minute=0, end_minute=120)
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.week_free == "{[0,900),[1200,1560),[3360,3900),[10020,10080)}"


def test_rules_updated_and_deleted_through_querysets_and_one_by_one_follow(
    subject, outsider_unchanged
):
    monday = AvailabilityRule.objects.create(
        worker=subject, weekday=0, start_minute=0, end_minute=600
    )
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(worker=subject, weekday=d, start_minute=540, end_minute=1020)
        for d in (3, 4)
    )
    assert stored(subject) == expected(subject)

    AvailabilityRule.objects.filter(worker=subject, weekday=3).update(end_minute=1440)
    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.week_free == "{[0,600),[4860,5760),[6300,6780)}"

    AvailabilityRule.objects.filter(worker=subject, weekday=4).update(weekday=5)
    assert stored(subject) == expected(subject)
    assert stored(subject).week_free == "{[0,600),[4860,5760),[7740,8220)}"

    monday.start_minute = 300
    monday.save()
    assert stored(subject) == expected(subject)

    monday.delete()
    assert stored(subject) == expected(subject)
    assert stored(subject).week_free == "{[4860,5760),[7740,8220)}"

    subject.availability.all().delete()
    assert stored(subject) == expected(subject) == EMPTY


def test_a_rule_moved_to_another_worker_leaves_one_and_reaches_the_other(
    pool, subject, outsider_unchanged
):
    second = f.WorkerFactory(pool=pool, documents=False, availability=False)
    rule = AvailabilityRule.objects.create(
        worker=subject, weekday=4, start_minute=60, end_minute=120
    )
    AvailabilityRule.objects.filter(pk=rule.pk).update(worker=second)
    assert stored(subject) == expected(subject) == EMPTY
    assert stored(second) == expected(second)
    assert stored(second).week_free == "{[5820,5880)}"


def test_truncating_the_rules_empties_every_pattern(subject, other_worker):
    AvailabilityRule.objects.create(worker=subject, weekday=0, start_minute=0, end_minute=60)
    assert stored(other_worker).week_free == "{[0,10080)}"
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: fire their checks first, as TRUNCATE needs.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE workers_availabilityrule")
    assert stored(subject).week_free == stored(other_worker).week_free == "{}"
    assert stored(other_worker) == expected(other_worker)


# --- Two transactions at once ------------------------------------------------------------------


def two_documents_at_once(worker: Worker, first: DocumentType, second: DocumentType) -> list:
    def add(doc_type: DocumentType) -> Callable[[], object]:
        return lambda: doc(worker, doc_type).save()

    return two_changes_at_once(add(first), add(second))


def two_weekdays_at_once(worker: Worker) -> list:
    def add(weekday: int) -> Callable[[], object]:
        return lambda: AvailabilityRule.objects.create(
            worker_id=worker.pk, weekday=weekday, start_minute=480, end_minute=960
        )

    return two_changes_at_once(add(1), add(3))


@pytest.fixture
def unlocked_triggers() -> Iterator[None]:
    with triggers_unlocked(summaries.sync_functions_sql):
        yield


@pytest.fixture
def racing(pool, other_worker) -> Iterator[tuple[Worker, list[DocumentType]]]:
    """A worker with one document, and Olive, whose summary the race must not touch."""
    low, mid, high = screened_types(3)
    subject = f.WorkerFactory(pool=pool, documents=False, availability=False)
    doc(subject, low).save()
    AvailabilityRule.objects.create(worker=subject, weekday=0, start_minute=0, end_minute=60)
    before = stored(other_worker)
    yield subject, [low, mid, high]
    assert stored(other_worker) == before == expected(other_worker)


@pytest.mark.django_db(transaction=True)
def test_two_documents_approved_at_once_both_reach_the_worker_row(racing):
    subject, (low, mid, high) = racing

    assert two_documents_at_once(subject, mid, high) == []

    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.doc_mask == bit(low) | bit(mid) | bit(high)


@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_the_race_loses_a_document(racing, unlocked_triggers):
    subject, (low, mid, high) = racing

    assert two_documents_at_once(subject, mid, high) == []

    assert Document.objects.filter(worker=subject, status=APPROVED).count() == 3
    summary = stored(subject)
    assert summary != expected(subject)
    assert summary.doc_mask == bit(low) | bit(high)


@pytest.mark.django_db(transaction=True)
def test_two_weekdays_added_at_once_both_reach_the_weekly_pattern(racing):
    subject, _types = racing

    assert two_weekdays_at_once(subject) == []

    summary = stored(subject)
    assert summary == expected(subject)
    assert summary.week_free == "{[0,60),[1920,2400),[4800,5280)}"


@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_the_race_loses_a_weekday(racing, unlocked_triggers):
    subject, _types = racing

    assert two_weekdays_at_once(subject) == []

    assert subject.availability.count() == 3
    summary = stored(subject)
    assert summary != expected(subject)
    assert summary.week_free == "{[0,60),[4800,5280)}"
