"""Ranking: of the workers the rules let through, who is offered first, and why.

Favourites, then half-kilometre distance band, reliability (acceptance and attendance,
smoothed), fairness (fewer hours booked this week first), worker id. The per-worker rules
are applied slice by slice in that order (``_slices``), so a wave examines only as many
whole bands as it needs; each candidate carries human reasons for its place.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from providers.models import Site
from shifts.matching.rules import (
    DISTANCE_BAND_KM,
    NEAR_FIRST_KM,
    ORDER_KEY_ID,
    SLICE_GROWTH,
    UNKNOWN_RADIUS,
    Facts,
    Near,
    RawRows,
    Rule,
    _Context,
    _context,
    _ids_filter,
    _ids_literal,
    _joined_after,
    _prefiltered_first,
    _prefiltered_near_first,
    _prefiltered_rows,
    fact_rules,
    facts_add_standing,
    facts_add_weeks,
    facts_from_rows,
    facts_querysets,
    facts_sql,
    fetch_many,
    hours_booked_in_week,
    is_ready_now,
    ready_until_covers,
    screened_prefilter_sql,
    screened_rules,
    standing_sql,
    stream_rows,
    weekly_totals_sql,
    working_time_standing,
)
from shifts.models import Booking, Offer, ShiftRequest, WorkerRecord

# A worker's record as reliability reads it: offers accepted, offers answered (or left to
# expire), shifts attended, shifts worked (attended or no-show).
Record = tuple[int, int, int, int]
NO_RECORD: Record = (0, 0, 0, 0)


@dataclass(slots=True)
class Candidate:
    """A worker the rules let through, with what places them in the ranking. The reasons
    for their place are put into words when read (``reasons``): an urgent evaluation ranks
    thousands, of whom only those offered the shift, or shown to a coordinator, are read."""

    worker_id: int
    user_id: int | None
    distance_km: float
    favourite: bool = False
    hours_this_week: float = 0.0
    reliability: float = 0.5
    record: Record = NO_RECORD
    ready_now: bool = False
    # Whose favourite, in the words: "this home" (a residential site) or "this provider".
    favourite_of: str = "this provider"
    # Their place in the ranking as one number (``rank_number``), kept in step with their
    # reliability (``rate``): sorting thousands on it is a fifth of sorting on the parts.
    # Worked out here unless given (``newcomer_rank``, for thousands at once).
    rank: int = field(default=-1, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rank < 0:
            self.rank = rank_number(self)

    def rate(self, reliability: float, record: Record) -> None:
        """Give them their reliability and the record it was worked out from."""
        self.reliability, self.record = reliability, record
        self.rank = (self.rank & ~_RELIABILITY_BITS) | _reliability_bits(reliability)

    @property
    def reasons(self) -> list[str]:
        """Why they are where they are, for the worker's offer and the coordinator."""
        reasons = [f"favourite of {self.favourite_of}"] if self.favourite else []
        reasons.append(f"{self.distance_km:.1f} km away")
        reasons += reliability_notes(self.record)
        hours = self.hours_this_week
        reasons.append(f"{hours:g} h this week" if hours else "no hours yet this week")
        if self.ready_now:
            reasons.append("ready now")
        return reasons


@dataclass
class Evaluation:
    candidates: list[Candidate]
    excluded: dict[str, list[int]]
    # Workers who passed the SQL rules but whom the per-worker rules were not applied to
    # (a wave stopped once it had enough); later waves examine them.
    not_reached: int = 0
    # Set when the wave read only the workers this close to the site (and the favourites:
    # ``_prefiltered_near_first``): ``not_reached`` then counts those within it, not all.
    searched_km: float | None = None


def records_queryset(worker_ids: list[int]) -> QuerySet[Any]:
    """These workers' counted offer answers and attendance (``WorkerRecord``, kept by the
    database as offers and bookings change): ``values_list`` rows of ``RECORD_COLUMNS``,
    one per worker who has any. A primary-key lookup each, however long their history."""
    return _ids_filter(WorkerRecord.objects.all(), "worker_id", worker_ids).values_list(
        "worker_id", *RECORD_COLUMNS
    )


def reliability_from_records(
    worker_ids: list[int], rows: list[tuple[Any, ...]]
) -> dict[int, tuple[float, Record]]:
    """``reliability_scores`` of these workers from the rows of ``records_queryset`` (which
    may hold other workers too: only these are scored)."""
    by_id = {row[0]: row for row in rows}
    newcomer = (NEWCOMER, NO_RECORD)
    result: dict[int, tuple[float, Record]] = {}
    for wid in worker_ids:
        row = by_id.get(wid)
        result[wid] = newcomer if row is None else _reliability_of_record_row(row)
    return result


def records_give(candidates: list[Candidate], rows: list[tuple[Any, ...]]) -> None:
    """Give these candidates their records and reliability from the rows of
    ``records_queryset`` (a candidate without a row stays a newcomer)."""
    by_id = {row[0]: row for row in rows}
    for candidate in candidates:
        row = by_id.get(candidate.worker_id)
        if row is not None:
            candidate.rate(*_reliability_of_record_row(row))


def _reliability_of_record_row(row: tuple[Any, ...]) -> tuple[float, Record]:
    _wid, accepted, declined, expired, attended, no_shows = row
    record = (accepted, accepted + declined + expired, attended, attended + no_shows)
    return reliability_score(record), record


def record_counts(
    values: tuple[int, int, int, int, int],
) -> tuple[dict[str, int], dict[str, int]]:
    """A record's columns (``RECORD_COLUMNS``) as counts by offer status and by booking
    status, as ``reliability_scores`` reads them."""
    accepted, declined, expired, attended, no_shows = values
    return (
        {
            Offer.Status.ACCEPTED: accepted,
            Offer.Status.DECLINED: declined,
            Offer.Status.EXPIRED: expired,
        },
        {Booking.Status.ATTENDED: attended, Booking.Status.NO_SHOW: no_shows},
    )


# What reliability counts (``WorkerRecord``'s columns): offers answered or left to expire,
# and attendance.
RECORD_COLUMNS = (
    "offers_accepted",
    "offers_declined",
    "offers_expired",
    "shifts_attended",
    "no_shows",
)


RECORDS_LOOKED_UP = 1000


def records_sql(workers: str, count: int) -> RawRows:
    """``records_queryset`` written out (PostgreSQL), for ``_examine``, for ``count`` workers
    (``workers``, ``_ids_literal``). Up to ``RECORDS_LOOKED_UP`` of them, one primary-key
    look-up each (a subquery per id, kept from being flattened by OFFSET 0): asked as
    ``worker_id = ANY(...)`` the planner scans every record from about a hundred ids on,
    2.3 against 0.9 ms for a first slice's 150 at 20,000 workers. Beyond, the scan is the
    cheaper (5.3 against 7.5 ms for 2,800)."""
    columns = ", ".join(RECORD_COLUMNS)
    table = WorkerRecord._meta.db_table
    if count <= RECORDS_LOOKED_UP:
        sql = (
            f"SELECT r.* FROM unnest(%s::bigint[]) AS u(id) CROSS JOIN LATERAL (SELECT "
            f"worker_id, {columns} FROM {table} WHERE worker_id = u.id OFFSET 0) AS r"
        )
    else:
        sql = f"SELECT worker_id, {columns} FROM {table} WHERE worker_id = ANY(%s::bigint[])"
    return RawRows(sql, (workers,))


def reliability_scores(
    worker_ids: list[int],
    offers: Mapping[int, Mapping[str, int]],
    attendance: Mapping[int, Mapping[str, int]],
) -> dict[int, tuple[float, Record]]:
    """Each worker's reliability from their offer responses (counts by status) and
    attendance, with their record (``Record``)."""
    result: dict[int, tuple[float, Record]] = {}
    for wid in worker_ids:
        o, a = offers.get(wid, {}), attendance.get(wid, {})
        record = (o.get("accepted", 0), sum(o.values()), a.get("attended", 0), sum(a.values()))
        result[wid] = (reliability_score(record), record)
    return result


def reliability_score(record: Record) -> float:
    """One worker's reliability from their record: offers accepted of those answered (or
    left to expire), shifts attended of those booked and due (attended or no-show),
    smoothed so a newcomer starts in the middle rather than at the top or bottom."""
    accepted, answered, attended, worked = record
    return ((accepted + 1) / (answered + 2) + (attended + 1) / (worked + 2)) / 2


# A newcomer's reliability: the middle.
NEWCOMER = reliability_score(NO_RECORD)


def reliability_notes(record: Record) -> list[str]:
    """A worker's record in words, for the reasons of their place (none for a newcomer)."""
    accepted, answered, attended, worked = record
    notes = []
    if answered:
        notes.append(f"accepted {accepted} of {answered} offers")
    if worked:
        notes.append(f"attended {attended} of {worked} shifts")
    return notes


def _slice_target(need: int) -> int:
    """How many workers a wave of ``need`` examines at least (then the rest of that band)."""
    return max(3 * need, 50)


def _slices(rows: list[tuple[Any, ...]], need: int | None) -> list[list[tuple[Any, ...]]]:
    """Split the ranked-by-(favourite, half-kilometre band) rows into the part a wave of ``need`` must
    examine (whole bands, at least three times the wave and 50) and the rest,
    examined only if the first part does not yield enough. ``None`` examines everyone."""
    if need is None or not rows:
        return [rows] if rows else []
    cut = _band_end(rows, _slice_target(need))
    return [rows[:cut], rows[cut:]] if cut < len(rows) else [rows]


def _band_end(rows: list[tuple[Any, ...]], at_least: int) -> int:
    """Where a slice of ``rows`` (prefilter rows in ranking order) that takes at least
    ``at_least`` of them ends: at the end of the last one's (favourite, band) group, so a
    slice never splits a group whose order the ranking decides."""

    def group(row: tuple[Any, ...]) -> tuple[bool, int]:
        return (not row[5], int(row[2] // DISTANCE_BAND_KM))

    cut = at_least
    if cut >= len(rows):
        return len(rows)
    while cut < len(rows) and group(rows[cut]) == group(rows[cut - 1]):
        cut += 1
    return cut


def _examine(
    ctx: _Context,
    rows: list[tuple[Any, ...]],
    excluded: dict[str, list[int]],
) -> list[Candidate]:
    """The per-worker rules (``fact_rules()``) on one slice, then the ranking facts of those
    who pass: seven queries whatever its size, in two round trips on PostgreSQL (the six of
    ``facts_querysets`` and the workers' records, ``records_queryset``)."""
    worker_rows = [(r[0], r[3], r[4]) for r in rows]
    ids = [row[0] for row in rows]
    if connection.vendor == "postgresql":
        # The ids written out once for the first round trip (``facts_sql``). What only the
        # working-time rule and the ranking read (the weekly totals, the costliest of them
        # on a long history; the opt-outs and recent joiners; the records) is loaded after
        # the rest, only for the workers whom the rules before that rule let through (about
        # one in five of an urgent wave's): a second round trip, a fifth of the rows read.
        queries = facts_sql(ctx, _ids_literal(ids))
        del queries["weekly_totals"], queries["special"]
        fetched = fetch_many(queries)
        fetched["weekly_totals"] = fetched["special"] = []
        facts = facts_from_rows(ctx, worker_rows, fetched)
        before, weeks = fact_checks()
        judged = judge_facts(ctx, list(zip(rows, facts, strict=True)), before, excluded)
        records: list[tuple[Any, ...]] = []
        if judged:
            reached = [worker for _row, worker in judged]
            workers = _ids_literal([f.worker_id for f in reached])
            later = fetch_many(
                {
                    "special": standing_sql(ctx, workers),
                    "weeks": weekly_totals_sql(ctx, workers),
                    "records": records_sql(workers, len(reached)),
                }
            )
            facts_add_standing(ctx, reached, later["special"])
            facts_add_weeks(ctx, reached, later["weeks"])
            judged = judge_facts(ctx, judged, weeks, excluded)
            records = later["records"]
        return candidates_of(ctx, judged, lambda passed: reliability_from_records(passed, records))
    fetched = fetch_many({**facts_querysets(ctx, ids), "records": records_queryset(ids)})
    facts = facts_from_rows(ctx, worker_rows, fetched)
    records = fetched["records"]
    return examine_facts(
        ctx, rows, facts, excluded, lambda passed: reliability_from_records(passed, records)
    )


Reliability = Callable[[list[int]], dict[int, tuple[float, Record]]]


Check = tuple[str, Callable[[_Context, Facts], bool]]


def fact_checks() -> tuple[list[Check], list[Check]]:
    """The per-worker rules (``fact_rules()``) as (name, check) pairs, taken out of their
    objects once for thousands of workers: those before the first rule that reads the
    weekly totals (``Rule.reads_weeks``), and that rule and those after it."""
    before: list[Check] = []
    after: list[Check] = []
    for rule in fact_rules():
        assert rule.passes is not None
        (after if rule.reads_weeks or after else before).append((rule.name, rule.passes))
    return before, after


Judged = list[tuple[tuple[Any, ...], Facts]]


def judge_facts(
    ctx: _Context, judged: Judged, checks: list[Check], excluded: dict[str, list[int]]
) -> Judged:
    """``fact_failures(every=False)`` for each (prefilter row, facts) pair: those who fail a
    check are noted under the first they fail; those who pass every one are returned."""
    passed: Judged = []
    for row, worker in judged:
        for name, passes in checks:
            if not passes(ctx, worker):
                excluded[name].append(row[0])
                break
        else:
            passed.append((row, worker))
    return passed


def examine_facts(
    ctx: _Context,
    rows: list[tuple[Any, ...]],
    facts: list[Facts],
    excluded: dict[str, list[int]],
    reliability_of: Reliability,
) -> list[Candidate]:
    """``_examine`` once the slice's facts are at hand (from the database, or held in memory
    by ``shifts.matching.memory``): the per-worker rules, then the ranking facts."""
    before, weeks = fact_checks()
    judged = judge_facts(ctx, list(zip(rows, facts, strict=True)), before + weeks, excluded)
    return candidates_of(ctx, judged, reliability_of)


def candidates_of(ctx: _Context, judged: Judged, reliability_of: Reliability) -> list[Candidate]:
    """The candidates the per-worker rules let through, with their ranking facts. (Written
    for an urgent evaluation's thousands: one pass, nothing per worker but the candidate;
    their reasons are put into words when read, ``Candidate.reasons``.)"""
    reliability = reliability_of([row[0] for row, _worker in judged])
    favourite_of = _favourite_of(ctx)
    candidates = [_candidate(ctx, row, worker, favourite_of) for row, worker in judged]
    for candidate in candidates:
        candidate.rate(*reliability[candidate.worker_id])
    return candidates


def _favourite_of(ctx: _Context) -> str:
    """Whose favourite a favourite is, in a candidate's reasons."""
    return "this home" if ctx.site.site_type == Site.SiteType.RESIDENTIAL else "this provider"


def _candidate(ctx: _Context, row: tuple[Any, ...], worker: Facts, favourite_of: str) -> Candidate:
    """A candidate from their prefilter row and facts, as a newcomer until their record is
    given (``Candidate.reliability`` and ``record``)."""
    pk, user_id, distance, _cap, _ready, favourite = row
    # Most have no booking near the shift: nothing to add up (the sum of none, 0).
    week_hours = round(hours_booked_in_week(ctx, worker), 2) if worker.bookings else 0.0
    return Candidate(
        pk,
        user_id,
        round(distance, 1),
        bool(favourite),
        week_hours,
        NEWCOMER,
        NO_RECORD,
        worker.ready_now_until is not None and is_ready_now(ctx, worker),
        favourite_of,
    )


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a while (unless it already is). An
    evaluation makes tens of thousands of short-lived containers (rows, facts, candidates),
    all freed by reference counting; while they live, the collector would now and then walk
    every object the process holds, a third of an urgent evaluation's CPU (measured on the
    20,000-worker bench). Anything cyclic made meanwhile is collected after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _evaluate(
    shift: ShiftRequest,
    now: datetime,
    need: int | None = None,
    *,
    skill_ids: list[int] | None = None,
    documents: dict[int, str] | None = None,
    largest_radius_km: float | None = UNKNOWN_RADIUS,
    favourite_ids: list[int] | None = None,
) -> Evaluation:
    """Rank the workers who may be offered ``shift``.

    ``excluded`` lists, rule by rule, the workers the per-worker rules turned away; those the
    SQL prefilter drops (not vetted, without the role or skills, out of radius, blocked, or
    already offered) are not listed one by one, since naming them would cost a run three
    times as much; ``matching_explain`` answers for any worker.

    With ``need`` (a wave's size) the per-worker rules are applied in ranking order only as
    far as the wave needs (see ``_slices``); the workers not reached are counted
    (``not_reached``) and examined by later waves. A first slice, then (only if it falls
    short) slices growing fourfold, so a run costs a handful of round trips whatever the
    pool's size. A caller that has loaded the shift's skills (their ids), the documents
    they need or the largest travel radius passes them (see ``_context``); one that has
    loaded the provider's favourites (``favourite_ids``) lets a wave look near the site
    first (``_prefiltered_near_first``)."""
    with collection_paused():
        return _evaluate_shift(
            shift, now, need, skill_ids, documents, largest_radius_km, favourite_ids
        )


def _evaluate_shift(
    shift: ShiftRequest,
    now: datetime,
    need: int | None,
    skill_ids: list[int] | None,
    documents: dict[int, str] | None,
    largest_radius_km: float | None,
    favourite_ids: list[int] | None,
) -> Evaluation:
    ctx = _context(
        shift,
        now,
        skill_ids=skill_ids,
        documents=documents,
        largest_radius_km=largest_radius_km,
    )
    if need is None and connection.vendor == "postgresql":
        screened = screened_rules()
        if screened is not None:
            return evaluate_screened(ctx, screened)
    if need is None or connection.vendor != "postgresql":
        return evaluate_rows(ctx, _prefiltered_rows(ctx), need, _examine)
    target = _slice_target(need)
    near = None if favourite_ids is None else Near(NEAR_FIRST_KM, favourite_ids)
    found = None if near is None else _prefiltered_near_first(ctx, target, near)
    read_everyone = False

    def rows_past(read: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # Rare (the slices read so far fell short): the prefilter again, past them.
        nonlocal read_everyone
        read_everyone = True
        seen = {row[0] for row in read}
        return [row for row in _prefiltered_rows(ctx) if row[0] not in seen]

    more_rows: Callable[[], list[tuple[Any, ...]]] | None = None
    if found is None:
        first, rest_count = _prefiltered_first(ctx, target)
        rest_rows: Callable[[], list[tuple[Any, ...]]] = lambda: rows_past(first)  # noqa: E731
    else:
        first, after = found.first, found.after
        rest_count = len(after) + found.beyond
        rest_rows, more_rows = (lambda: after), (lambda: rows_past(first + after))
    evaluation = evaluate_slices(ctx, first, rest_count, rest_rows, need, _examine, more_rows)
    if near is not None and found is not None and not read_everyone:
        evaluation.searched_km = near.km
    return evaluation


Examine = Callable[[_Context, list[tuple[Any, ...]], dict[str, list[int]]], list[Candidate]]


def evaluate_screened(ctx: _Context, rules: tuple[Rule, ...]) -> Evaluation:
    """Everyone in reach (``need`` None, PostgreSQL), the ``rules`` (``screened_rules()``)
    judged by their screens in the prefilter's scan (``screened_prefilter_sql``): the same
    evaluation as ``_examine`` over every prefilter row, in two round trips, with facts
    loaded only for the workers the screens let through or could not judge.

    The scan's rows are worked through as they arrive (``stream_rows``), so that most of the
    work is done while the server is still scanning. Those the screens let through have
    passed every rule in ``rules``, and have no booking near the shift: the rules after
    those (working time) are judged there and then on their row (their working-time
    standing comes with it) with no weekly totals, and they are made candidates as
    newcomers. The second round trip brings the weekly totals of the few who have any that
    matter (they are judged again with them), everyone's record (given to the candidates),
    and the facts of the workers whose screen could not say: those are judged from that
    rule on (those before it passed), with the facts those rules read (``Rule.reads``).
    Each list in ``excluded`` is in the prefilter's order (the scan's order keys, sorted),
    as ``_examine``'s."""
    sql, params = screened_prefilter_sql(ctx, rules)
    names = [rule.name for rule in rules]
    before, weeks = fact_checks()
    pool = ctx.shift.pool
    held, default_cap = frozenset(ctx.documents), pool.default_weekly_hours_cap
    joined_after, first_day = _joined_after(ctx), ctx.first_day
    favourite_of = _favourite_of(ctx)
    bounds = ctx.ready_now_bounds
    failed: dict[str, list[int]] = defaultdict(list)  # rule name -> order keys
    keys: dict[int, int] = {}  # worker id -> order key, of those not failed by a screen
    # Let through with no working-time standing (most): their rows, their facts made only
    # if their weeks matter after all.
    plain: dict[int, tuple[Any, ...]] = {}
    # Let through with a standing (an opt-out, a recent start): their prefilter rows and facts.
    passed: list[tuple[tuple[Any, ...], Facts]] = []
    failed_later: dict[int, str] = {}  # worker id -> the rule after the screened ones
    candidates: list[Candidate] = []
    unsure: list[tuple[tuple[Any, ...], int]] = []  # (prefilter row, the rule's place)
    special: list[tuple[Any, ...]] = []

    def plain_facts(pk: int, row: tuple[Any, ...]) -> Facts:
        return Facts(pk, default_cap if row[4] is None else row[4], row[5], False, None, held)

    # The rules after the screened ones read only the weeks and the standing
    # (``Rule.reads_weeks``), so everyone without either gets one verdict, asked once.
    plain_fails = next(
        (name for name, passes in weeks if not passes(ctx, plain_facts(0, (None,) * 6))), None
    )
    for row in stream_rows(sql, params):
        key, verdict = row[0], row[1]
        if verdict > 0:
            failed[names[verdict - 1]].append(key)
            continue
        pk = key & ORDER_KEY_ID
        keys[pk] = key
        if verdict == 0 and row[7] is None and row[9] is None:
            plain[pk] = row
            if plain_fails is not None:
                failed_later[pk] = plain_fails
            else:
                # ``_candidate`` of a worker with no booking near the shift, in line.
                distance, favourite = round(row[3], 1), bool(row[6])
                candidates.append(
                    Candidate(
                        pk,
                        row[2],
                        distance,
                        favourite,
                        0.0,
                        NEWCOMER,
                        NO_RECORD,
                        ready_until_covers(bounds, row[5]),
                        favourite_of,
                        newcomer_rank(favourite, distance, pk),
                    )
                )
            continue
        prefilter_row = (pk, *row[2:7])
        has_standing = row[7] is not None or row[9] is not None
        if has_standing:
            special.append((pk, *row[7:]))
        if verdict < 0:
            unsure.append((prefilter_row, -verdict))
            continue
        worker = plain_facts(pk, row)
        worker.opted_out, worker.first_week = working_time_standing(
            row[7:], pool=pool, day=first_day, joined_after=joined_after
        )
        passed.append((prefilter_row, worker))
        for name, passes in weeks:
            if not passes(ctx, worker):
                failed_later[pk] = name
                break
        else:
            candidates.append(_candidate(ctx, prefilter_row, worker, favourite_of))
    if keys:
        reached = list(keys)
        workers = _ids_literal(reached)
        # Who joined within the reference period the scan has said (their start comes back
        # with the standing).
        joiners = [row[0] for row in special if row[3] is not None and row[3] > joined_after]
        queries: dict[str, Any] = {
            "weekly_totals": weekly_totals_sql(ctx, workers, _ids_literal(joiners)),
            "records": records_sql(workers, len(reached)),
        }
        # Of the facts, each worker no screen could judge gets what the rule it stopped at,
        # and those after it, read.
        read_from = [{name for rule in rules[i:] for name in rule.reads} for i in range(len(rules))]
        reads: dict[str, list[int]] = defaultdict(list)
        for row, place in unsure:
            for name in read_from[place - 1]:
                reads[name].append(row[0])
        for name, ids in reads.items():
            queries[name] = facts_sql(ctx, _ids_literal(ids))[name]
        fetched = fetch_many(queries)
        fetched["special"] = special
        fetched.setdefault("documents_lacking", [])  # not asked: every needed one held
        for name in ("availability", "exceptions", "bookings"):
            fetched.setdefault(name, [])
        by_id: dict[str, list[int]] = defaultdict(list)
        judged: Judged = []
        # Those let through whose weeks matter after all: judged again, with them.
        with_weeks = {row[0] for row in fetched["weekly_totals"]}
        if with_weeks:
            again = [(row, worker) for row, worker in passed if row[0] in with_weeks]
            for pk in with_weeks:
                scanned = plain.get(pk)
                if scanned is not None:
                    again.append(((pk, *scanned[2:7]), plain_facts(pk, scanned)))
            facts_add_weeks(ctx, [worker for _row, worker in again], fetched["weekly_totals"])
            again = [(row, worker) for row, worker in again if worker.weekly_totals]
            if again:
                judged_again = {row[0] for row, _worker in again}
                candidates = [c for c in candidates if c.worker_id not in judged_again]
                for pk in judged_again:
                    failed_later.pop(pk, None)
                judged += judge_facts(ctx, again, weeks, by_id)
        if unsure:
            checks = before + weeks
            from_place = [checks[place:] for place in range(len(checks))]
            unsure_facts = facts_from_rows(
                ctx, [(row[0], row[3], row[4]) for row, _place in unsure], fetched
            )
            for (row, place), worker in zip(unsure, unsure_facts, strict=True):
                judged += judge_facts(ctx, [(row, worker)], from_place[place - 1], by_id)
        candidates += (_candidate(ctx, row, worker, favourite_of) for row, worker in judged)
        records_give(candidates, fetched["records"])
        for pk, name in failed_later.items():
            by_id[name].append(pk)
        for name, ids in by_id.items():
            failed[name] += [keys[pk] for pk in ids]
    # Each rule's workers in the prefilter's order, the rules in the order of their first.
    excluded: dict[str, list[int]] = {}
    for order_keys in failed.values():
        order_keys.sort()
    for name, order_keys in sorted(failed.items(), key=lambda item: item[1][0]):
        excluded[name] = [key & ORDER_KEY_ID for key in order_keys]
    candidates.sort(key=_rank_key)
    return Evaluation(candidates=candidates, excluded=excluded)


def evaluate_rows(
    ctx: _Context, located: list[tuple[Any, ...]], need: int | None, examine: Examine
) -> Evaluation:
    """``_evaluate`` once the prefilter's rows are at hand: ``examine`` slice by slice."""
    slices = _slices(located, need)
    first = slices[0] if slices else []
    rest = slices[1] if len(slices) > 1 else []
    return evaluate_slices(ctx, first, len(rest), lambda: rest, need, examine)


def evaluate_slices(
    ctx: _Context,
    first: list[tuple[Any, ...]],
    rest_count: int,
    rest_rows: Callable[[], list[tuple[Any, ...]]],
    need: int | None,
    examine: Examine,
    more_rows: Callable[[], list[tuple[Any, ...]]] | None = None,
) -> Evaluation:
    """Examine the first slice's rows; the rest (``rest_count`` workers after them) only if
    the first does not yield ``need`` candidates, loading their rows then (``rest_rows``, in
    ranking order) and examining them slice by slice (whole groups, each ``SLICE_GROWTH``
    times the last) until it has; whoever is left is counted as not reached.

    ``rest_rows`` may give only the start of the rest, ending where a group ends (a wave
    that read near the site: ``rest_count`` then counts those near it); ``more_rows`` gives
    the rows after those, asked only if a wave runs through them short, and then
    ``not_reached`` counts everyone.

    The wave picks the same workers as if everyone had been examined: the ranking orders
    by (favourite, band) first, as the rows are, and every slice ends at the end of a group,
    so any candidate in a later slice ranks below the ``need`` already found."""
    excluded: dict[str, list[int]] = defaultdict(list)
    candidates: list[Candidate] = examine(ctx, first, excluded) if first else []
    not_reached = 0
    if rest_count:
        if need is not None and len(candidates) >= need:
            not_reached = rest_count
        elif need is None:
            rows = rest_rows() + (more_rows() if more_rows is not None else [])
            candidates.extend(examine(ctx, rows, excluded))
        else:
            rest = rest_rows()
            # Near the site, ``rest_count`` counts the box's rows, more than ``rest`` holds.
            counted = rest_count if more_rows is not None else len(rest)
            start, size = 0, max(len(first), 1)
            while len(candidates) < need:
                if start >= len(rest):
                    if more_rows is None:
                        break
                    rest = rest + more_rows()
                    more_rows, counted = None, len(rest)
                    if start >= len(rest):
                        break
                size *= SLICE_GROWTH
                cut = start + _band_end(rest[start:], size)
                candidates.extend(examine(ctx, rest[start:cut], excluded))
                start = cut
            if more_rows is not None and start >= counted:
                # Read to the end of what was read near the site: whether anyone is left
                # further away only everyone's rows can say (a later wave depends on it).
                rest = rest + more_rows()
                counted = len(rest)
            not_reached = counted - start
    candidates.sort(key=_rank_key)
    return Evaluation(candidates=candidates, excluded=dict(excluded), not_reached=not_reached)


def rank_number(c: Candidate) -> int:
    """The ranking, best first, as one number that sorts as the tuple (not a favourite,
    half-kilometre band, minus reliability to one decimal, hours this week, worker id)
    would: favourites, then the nearest band, then the most reliable, then the fewest
    hours booked this week (fairness), then the longest-standing worker. Bits 90: not a
    favourite; 70-89: the band; 66-69: ten less the reliability in tenths; 40-65: the hours
    in hundredths (a week has at most 169); 0-39: the id (ids stay under 2**40)."""
    return (
        ((not c.favourite) << 90)
        | (int(c.distance_km // DISTANCE_BAND_KM) << 70)
        | _reliability_bits(c.reliability)
        | (round(c.hours_this_week * 100) << 40)
        | c.worker_id
    )


# Where the reliability sits in a rank number: bits 66-69.
_RELIABILITY_BITS = 0b1111 << 66


def newcomer_rank(favourite: bool, distance_km: float, worker_id: int) -> int:
    """``rank_number`` of a candidate with no hours this week and a newcomer's reliability
    (what an urgent evaluation makes of most): the same number, from the parts."""
    return (
        ((not favourite) << 90)
        | (int(distance_km // DISTANCE_BAND_KM) << 70)
        | _NEWCOMER_BITS
        | worker_id
    )


def _reliability_bits(reliability: float) -> int:
    """Ten less the reliability in tenths (to one decimal, as the ranking reads it), in its
    place in a rank number."""
    return (10 - round(round(reliability, 1) * 10)) << 66


_NEWCOMER_BITS = _reliability_bits(NEWCOMER)

_rank_key = attrgetter("rank")


def shift_eligible_workers(*, shift: ShiftRequest, now: datetime | None = None) -> list[Candidate]:
    """Every worker who may be offered ``shift`` now, best first, with reasons."""
    return _evaluate(shift, now or timezone.now()).candidates
