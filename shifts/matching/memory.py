"""Matching over facts held in memory, for a caller that runs many waves across a range of
time and tells matching what changed (the matching lab's simulator).

Live matching loads each wave's facts with a fixed number of queries (``worker_facts``,
the reliability counts). A replay of three months runs thousands of waves, and at a few
milliseconds a round trip those queries are most of its time. ``FactsBook`` loads the same
facts for a set of workers once, in bulk, for a whole range, and ``facts(ctx, rows)`` builds
the same ``Facts`` that ``worker_facts`` would; the rules that judge them (``fact_rules()``,
``acceptance_rules()``), the ranking (``examine_facts``, ``evaluate_rows``) and the wave
sizes, picks, expiry and intervals (``waves``) are matching's own: one definition per rule.
The caller tells the book what changes: a booking made, an offer answered or expired.

What is loaded, and how often:

- documents: with the one definition of validity (``Document.objects.valid_between``),
  once per distinct (first day, last day) of the shifts asked about;
- opt-outs and recent joiners: the same query as ``worker_facts``, once per week;
- weekly patterns, and the exceptions in the range: once;
- live bookings from 18 weeks before the range to 18 weeks after: once, then kept up to date;
- offer answers and attendance (reliability, the workers' records): once, then kept up to date.

The SQL rules stay in the database: ``ShiftMatching`` runs matching's own prefilter
(``_prefiltered_rows``, every rule with a ``where``) once per shift and keeps its rows; each
later wave drops the workers already offered the shift. That is the ``already_offered``
rule, the only SQL rule whose answer changes while a shift is matched: the others read the
pool, the worker's vetting, roles, skills, home and the blocks, none of which a caller of
this module changes while it matches.

Many shifts ask the prefilter the same question (the same site, role and skills on another
day), so the book keeps its answers (``FactsBook.prefiltered``), keyed by exactly what the
prefilter read: it is given the shift's context through ``_Reading``, which notes every
attribute read from the context, the shift, its site and its pool; a later shift whose
values agree on every one of those reads gets the same rows without a query. That holds
for any rule added to matching, whatever it reads (a rule that reads ``now`` makes the key
hold ``now``). The one read left out of the key is the shift's own id: what the database
holds under the id of a shift matched here is its skills and nothing else (offers and
bookings are kept in memory), and the skills are in the context. Runs over the same
database (several policies on the same demand) can share these answers
(``PrefilterAnswers``); runs that add workers cannot. They are kept compact (two arrays an
answer), so four weeks at 20,000 workers keep every answer in about 1 GB.

On PostgreSQL a replay's questions are also asked ahead (``PrefilterAhead``), on a second
connection in a thread, in the order the replay will ask them: the database answers the
next shift's question while Python simulates this one. That connection cannot see the
run's own uncommitted writes, so a question whose query names a table the run has written
to is left to the run.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Any, cast

from django.db import connection
from django.db.models import Model, Q

from pools.models import Pool
from shifts.matching.ranking import (
    Candidate,
    Evaluation,
    Record,
    evaluate_rows,
    examine_facts,
    record_counts,
    records_queryset,
    reliability_scores,
)
from shifts.matching.rules import (
    LONDON,
    Facts,
    Rule,
    _Context,
    _context,
    _ids_filter,
    _monday,
    _prefiltered_rows,
    acceptance_rules,
    fact_failures,
    largest_radius_queryset,
    needed_documents,
    prefilter_sql,
    weeks_matter,
    working_time_standing,
)
from shifts.matching.waves import _due, _wave_pick, _wave_size, offer_expiry, wave_interval
from shifts.models import Booking, ShiftRequest
from workers.models import (
    WORKING_TIME_REFERENCE_WEEKS,
    AvailabilityException,
    AvailabilityRule,
    Document,
    Worker,
)

logger = logging.getLogger(__name__)
Row = tuple[Any, ...]
MARGIN = timedelta(weeks=WORKING_TIME_REFERENCE_WEEKS + 1)
Path = tuple[str, ...]
# The shift's own id: left out of the prefilter's key (see the module's docstring).
OWN_ID: set[Path] = {("shift", "pk"), ("shift", "id")}


class _Reading:
    """Stands in for a shift's context (and, below it, the shift, its site and its pool)
    and notes in ``reads`` the path of every plain value read through it. Model instances
    read are handed out as ``_Reading``s too, and pass ``isinstance`` as their own class."""

    __slots__ = ("_target", "_path", "_reads")

    def __init__(self, target: Any, path: Path, reads: set[Path]) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_reads", reads)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - isinstance() asks this
        return type(object.__getattribute__(self, "_target"))

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        path = object.__getattribute__(self, "_path") + (name,)
        reads = object.__getattribute__(self, "_reads")
        value = getattr(target, name)
        if isinstance(value, Model):
            return _Reading(value, path, reads)
        reads.add(path)
        return value


def _value_at(ctx: _Context, path: Path) -> Any:
    value: Any = ctx
    for name in path:
        value = getattr(value, name)
    return _hashable(value)


def _prefilter_key(ctx: _Context, reads: set[Path]) -> tuple[tuple[Path, ...], tuple[Any, ...]]:
    """What one prefilter read of ``ctx`` (``reads``, noted by ``_Reading``) as the key its
    answer is kept under: those paths, less the shift's own id, and their values."""
    paths = tuple(sorted(reads - OWN_ID))
    return paths, tuple(_value_at(ctx, path) for path in paths)


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


# How many prefilter rows the answers keep at most. Four weeks at 20,000 workers ask ~16,500
# distinct questions of ~3,600 rows each (~59 million rows); kept as tuples (~200 bytes a
# row) that would be ~11 GB, so an answer is kept as two arrays, ids and distances (16 bytes
# a row, ~1 GB for those four weeks), the columns that are the worker's own (user, weekly
# cap, ready-now) once per worker. The least recently asked answers go first; one asked
# again is a query. (With the tuples and a budget of 5 million rows, those four weeks asked
# 31,800 questions of the database instead of 16,500.)
PREFILTER_ROWS_KEPT = 64_000_000


@dataclass(frozen=True, slots=True)
class _Answer:
    """One prefilter answer, compact: the rows' worker ids and distances in order, the ids
    of the favourites among them, and (``rows``) the rows as they came, only where a
    worker's own columns differed from those already kept (never, within one database)."""

    ids: array[int]
    distances: array[float]
    favourites: frozenset[int]
    rows: list[Row] | None = None


class PrefilterAnswers:
    """The prefilter's answers so far: the paths one prefilter read -> their values -> its
    rows (see the module's docstring), at most ``max_rows`` rows in all, the least recently
    asked dropped first. One per run, or one for runs that see the same workers, blocks and
    favourites in the database."""

    def __init__(self, max_rows: int | None = None) -> None:
        self.by_paths: dict[tuple[Path, ...], dict[tuple[Any, ...], _Answer]] = {}
        self.queries = 0
        self.max_rows = PREFILTER_ROWS_KEPT if max_rows is None else max_rows
        self.rows_kept = 0
        self._asked: OrderedDict[tuple[tuple[Path, ...], tuple[Any, ...]], int] = OrderedDict()
        # worker id -> (user id, weekly hours cap, ready-now-until), as the rows give them
        self._own: dict[int, tuple[Any, Any, Any]] = {}
        # answers asked ahead, as they came, until first asked here
        self._fresh: dict[tuple[tuple[Path, ...], tuple[Any, ...]], list[Row]] = {}

    def get(self, ctx: _Context) -> list[Row] | None:
        for paths, answers in self.by_paths.items():
            values = tuple(_value_at(ctx, path) for path in paths)
            answer = answers.get(values)
            if answer is not None:
                self._asked.move_to_end((paths, values))
                fresh = self._fresh.pop((paths, values), None)
                return fresh if fresh is not None else self._rows(answer)
        return None

    def put(
        self,
        paths: tuple[Path, ...],
        values: tuple[Any, ...],
        rows: list[Row],
        *,
        asked_here: bool = True,
    ) -> None:
        if asked_here:
            self.queries += 1
        else:  # handed over before it is asked: the first ask takes the rows as they came
            self._fresh[(paths, values)] = rows
        answers = self.by_paths.setdefault(paths, {})
        if values in answers:  # asked here and ahead at once: keep one
            self.rows_kept -= self._asked.pop((paths, values))
        answers[values] = self._compact(rows)
        self._asked[(paths, values)] = len(rows)
        self.rows_kept += len(rows)
        while self.rows_kept > self.max_rows and len(self._asked) > 1:
            (old_paths, old_values), n = self._asked.popitem(last=False)
            del self.by_paths[old_paths][old_values]
            self._fresh.pop((old_paths, old_values), None)
            self.rows_kept -= n

    def _compact(self, rows: list[Row]) -> _Answer:
        # Column by column, in C loops (a few thousand rows an answer, 16,000 answers).
        own = self._own
        ids = array("q", map(_ID, rows))
        given = dict(zip(ids, map(_OWN_COLUMNS, rows), strict=True))
        own.update({pk: given[pk] for pk in given.keys() - own.keys()})
        same = given.items() <= own.items()
        return _Answer(
            ids=ids,
            distances=array("d", map(_DISTANCE, rows)),
            favourites=frozenset(row[0] for row in rows if row[5]),
            rows=None if same else rows,
        )

    def _rows(self, answer: _Answer) -> list[Row]:
        if answer.rows is not None:
            return answer.rows
        ids, favourites = answer.ids, answer.favourites
        if not ids:
            return []
        users, caps, readies = zip(*map(self._own.__getitem__, ids), strict=True)
        flags = map(favourites.__contains__, ids) if favourites else repeat(False)
        return list(zip(ids, users, answer.distances, caps, readies, flags, strict=False))


class PrefilterAhead:
    """Asks the prefilter, on a connection and a thread of its own, the questions of shifts
    about to be matched (``contexts``, in the order they will be asked), so that the
    database answers one while this process simulates the one before: a replay's two halves,
    PostgreSQL's and Python's, on the machine's two cores at once instead of taking turns.
    The caller hands what has come back to the book's answers on its own thread (``drain``)
    and, asking for a shift still ahead of the thread, waits for it (``wait_for``).

    Its own connection sees only what is committed, not what the run has written in its
    transaction (the shifts' copies, a what-if's recruits). So a question is asked ahead
    only if its query names none of the tables this transaction has written to
    (``tables_written_in_transaction``); its others are left to the caller."""

    def __init__(self, answers: PrefilterAnswers, contexts: list[_Context], *, depth: int = 32):
        self.answers = answers
        self.served = 0
        self.refused = 0
        self._contexts = contexts
        self._position = {ctx.shift.pk: i for i, ctx in enumerate(contexts)}
        self._passed = -1  # the last position handed over
        self._written = tables_written_in_transaction()
        # (position, paths, values, rows); rows None: nothing to hand over for it
        self._ready: queue.Queue[tuple[int, Any, Any, list[Row] | None]] = queue.Queue(
            maxsize=depth
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._ask, name="prefilter-ahead", daemon=True)
        self._thread.start()

    def _ask(self) -> None:
        seen: set[tuple[tuple[Path, ...], tuple[Any, ...]]] = set()
        try:
            for position, ctx in enumerate(self._contexts):
                if self._stop.is_set():
                    return
                reads: set[Path] = set()
                sql, params = prefilter_sql(cast(_Context, _Reading(ctx, (), reads)))
                paths, values = _prefilter_key(ctx, reads)
                rows = None
                if (paths, values) not in seen:
                    if set(_NAMES.findall(sql)) & self._written:
                        self.refused += 1
                    else:
                        seen.add((paths, values))
                        with connection.cursor() as cursor:
                            cursor.execute(sql, params)
                            rows = list(cursor.fetchall())
                self._hand((position, paths, values, rows))
        except Exception:
            # The caller asks what is left itself; a database fault shows there too.
            logger.exception("The prefilter's questions asked ahead stopped.")
        finally:
            connection.close()
            self._hand((len(self._contexts), None, None, None))  # the end

    def _hand(self, item: tuple[int, Any, Any, list[Row] | None]) -> None:
        """Queue ``item`` for the caller, waiting while the queue is full, unless closed."""
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _hand_over(self, item: tuple[int, Any, Any, list[Row] | None]) -> None:
        position, paths, values, rows = item
        self._passed = position
        if rows is not None:
            self.answers.put(paths, values, rows, asked_here=False)
            self.served += 1

    def drain(self) -> None:
        """Hand the answers that have come back to the book's answers."""
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                return
            self._hand_over(item)

    def wait_for(self, shift_id: int) -> None:
        """Hand over answers until the thread has passed this shift's question (at once if
        it has, or if the shift is not among its questions)."""
        position = self._position.get(shift_id, -1)
        while self._passed < position:
            self._hand_over(self._ready.get())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


# A prefilter row's columns (``PREFILTER_COLUMNS``) as ``PrefilterAnswers`` keeps them.
_ID, _DISTANCE, _OWN_COLUMNS = itemgetter(0), itemgetter(2), itemgetter(1, 3, 4)

# Every name in a query, quoted or not: its tables among them (and words that are not
# tables, which can only make a question be left to the caller, never asked blind).
_NAMES = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The tables this connection's transaction holds a lock for writing on: every INSERT,
# UPDATE or DELETE takes ROW EXCLUSIVE on its table until the transaction ends (TRUNCATE and
# some DDL, stronger ones). Not ``pg_stat_xact_user_tables``: on PostgreSQL 15 its counts
# also hold an earlier transaction's writes while those are not yet flushed to the shared
# statistics (at most once a second), so a table committed a moment before looked written.
_WRITTEN_TABLES_SQL = """
    SELECT DISTINCT c.relname
    FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
      AND c.relkind IN ('r', 'p')
      AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                     'AccessExclusiveLock')
"""


def tables_written_in_transaction() -> set[str]:
    """The names of the tables the current transaction has written to (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(_WRITTEN_TABLES_SQL)
        return {name for (name,) in cursor.fetchall()}


class FactsBook:
    """Every per-worker fact matching reads, for ``worker_ids`` around ``lo``..``hi``.
    Workers asked about but not given are loaded when first asked about."""

    def __init__(
        self,
        *,
        pool: Pool,
        worker_ids: Iterable[int],
        lo: datetime,
        hi: datetime,
        prefilter: PrefilterAnswers | None = None,
    ):
        self.pool = pool
        self.lo, self.hi = lo - MARGIN, hi + MARGIN
        self.known: set[int] = set()
        self.availability: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        self.exceptions: dict[int, list[tuple[date, bool, int, int]]] = defaultdict(list)
        # worker -> (start, end, shift id, Monday of the start's week, hours)
        self.bookings: dict[int, list[_Held]] = defaultdict(list)
        self.offers: dict[int, dict[str, int]] = defaultdict(dict)
        self.attendance: dict[int, dict[str, int]] = defaultdict(dict)
        # (first day, last day) -> worker -> document types valid throughout
        self._documents: dict[tuple[date, date], dict[int, set[int]]] = {}
        # Monday -> worker -> (opt-out signed, withdrawn, approved at), for the few with one
        self._special: dict[date, dict[int, tuple[Any, Any, Any]]] = {}
        self._needed: dict[tuple[int, tuple[int, ...]], dict[int, str]] = {}
        self.prefilter = prefilter if prefilter is not None else PrefilterAnswers()
        # The largest travel radius anyone has, which the prefilter's box is drawn for: asked
        # once, as nothing here changes a worker's radius.
        [(self.largest_radius_km,)] = list(largest_radius_queryset())
        self.ahead: PrefilterAhead | None = None
        self._load(sorted(set(worker_ids)))

    # --- loading ------------------------------------------------------------------------

    def _load(self, ids: list[int]) -> None:
        ids = [i for i in ids if i not in self.known]
        if not ids:
            return
        self.known.update(ids)
        rules = _ids_filter(AvailabilityRule.objects.all(), "worker_id", ids)
        for wid, wd, s, e in rules.values_list(
            "worker_id", "weekday", "start_minute", "end_minute"
        ):
            self.availability[wid].append((wd, s, e))
        exceptions = _ids_filter(
            AvailabilityException.objects.filter(
                day__gte=self.lo.astimezone(LONDON).date(),
                day__lte=self.hi.astimezone(LONDON).date(),
            ),
            "worker_id",
            ids,
        )
        for wid, day, available, s, e in exceptions.values_list(
            "worker_id", "day", "available", "start_minute", "end_minute"
        ):
            self.exceptions[wid].append((day, available, s, e))
        bookings = _ids_filter(
            Booking.objects.filter(
                status__in=Booking.LIVE_STATUSES, start__lt=self.hi, end__gt=self.lo
            ),
            "worker_id",
            ids,
        )
        for wid, start, end, shift_id in bookings.values_list(
            "worker_id", "start", "end", "shift_id"
        ):
            self.bookings[wid].append(_held(start, end, shift_id))
        for wid, *values in records_queryset(ids):
            self.offers[wid], self.attendance[wid] = record_counts(tuple(values))  # type: ignore[arg-type]
        # Memos made before these workers were known must be made again.
        self._documents.clear()
        self._special.clear()

    def needed_documents(self, role_id: int, skill_ids: list[int]) -> dict[int, str]:
        key = (role_id, tuple(sorted(skill_ids)))
        if key not in self._needed:
            self._needed[key] = needed_documents(role_id, skill_ids)
        return self._needed[key]

    def _valid_documents(self, first: date, last: date) -> dict[int, set[int]]:
        key = (first, last)
        if key not in self._documents:
            held: dict[int, set[int]] = defaultdict(set)
            docs = _ids_filter(
                Document.objects.valid_between(first, last), "worker_id", sorted(self.known)
            )
            for wid, doc_type_id in docs.order_by().values_list("worker_id", "doc_type_id"):
                held[wid].add(doc_type_id)
            self._documents[key] = held
        return self._documents[key]

    def _special_rows(self, monday: date) -> dict[int, tuple[Any, Any, Any]]:
        if monday not in self._special:
            joined_after = _joined_after(monday)
            special = _ids_filter(
                Worker.objects.filter(
                    Q(opt_out_signed_on__isnull=False) | Q(approved_at__gt=joined_after)
                ),
                "id",
                sorted(self.known),
            )
            self._special[monday] = {
                wid: (signed, withdrawn, approved)
                for wid, signed, withdrawn, approved in special.values_list(
                    "pk", "opt_out_signed_on", "opt_out_withdrawn_on", "approved_at"
                )
            }
        return self._special[monday]

    def prefiltered(self, ctx: _Context) -> list[Row]:
        """``_prefiltered_rows(ctx)`` for a shift with no offers in the database (offers
        made here are held in memory): from memory if an earlier shift's prefilter read the
        same values (see the module's docstring), else a query."""
        rows = self.prefilter.get(ctx)
        if rows is not None:
            return rows
        if self.ahead is not None:
            self.ahead.drain()
            self.ahead.wait_for(ctx.shift.pk)
            rows = self.prefilter.get(ctx)
            if rows is not None:
                return rows
        reads: set[Path] = set()
        rows = _prefiltered_rows(cast(_Context, _Reading(ctx, (), reads)))
        self.prefilter.put(*_prefilter_key(ctx, reads), rows)
        return rows

    # --- what changes -------------------------------------------------------------------

    def booked(self, *, worker_id: int, shift_id: int, start: datetime, end: datetime) -> None:
        self._load([worker_id])
        self.bookings[worker_id].append(_held(start, end, shift_id))

    def answered(self, *, worker_id: int, status: str) -> None:
        """An offer to the worker was accepted, declined or expired."""
        self._load([worker_id])
        counts = self.offers[worker_id]
        counts[status] = counts.get(status, 0) + 1

    # --- what matching reads ------------------------------------------------------------

    def reliability(self, worker_ids: list[int]) -> dict[int, tuple[float, Record]]:
        return reliability_scores(worker_ids, self.offers, self.attendance)

    def facts(
        self, ctx: _Context, rows: list[tuple[int, int | None, datetime | None]]
    ) -> list[Facts]:
        """What ``worker_facts(ctx, rows)`` returns, from memory (``rows`` are ``WorkerRow``s)."""
        self._load([pk for pk, _cap, _ready in rows])
        pool = ctx.shift.pool
        shift_id = ctx.shift.pk
        documents = self._valid_documents(ctx.first_day, ctx.last_day) if ctx.documents else {}
        needed_types = frozenset(ctx.documents)  # a set with a set is the fast path
        monday = _monday(ctx.first_day)
        joined_after = _joined_after(monday)
        special = self._special_rows(monday)
        days = {d for d, _a, _b in ctx.needed}
        weekdays = {d.weekday() for d in days}
        # Every bound in UTC, as the book holds bookings (``_held``): aware datetimes in
        # different zones compare by asking each zone its offset, twice a comparison.
        lo = min(ctx.week_start, ctx.shift.start - ctx.rest).astimezone(UTC)
        hi = max(ctx.week_end, ctx.shift.end + ctx.rest).astimezone(UTC)
        week = datetime.combine(monday, time.min, tzinfo=LONDON)
        span = timedelta(weeks=WORKING_TIME_REFERENCE_WEEKS - 1)
        totals_lo = (week - span).astimezone(UTC)
        totals_hi = (week + span + timedelta(weeks=1)).astimezone(UTC)
        out: list[Facts] = []
        default_cap = pool.default_weekly_hours_cap
        availability, exceptions, bookings = self.availability, self.exceptions, self.bookings
        for pk, cap, ready in rows:
            opted_out, first_week = False, None
            if pk in special:
                opted_out, first_week = working_time_standing(
                    special[pk], pool=pool, day=ctx.first_day, joined_after=joined_after
                )
            held = bookings.get(pk, ())
            totals: dict[date, float] = {}
            if not opted_out:
                for s, _e, sid, monday_of, hours in held:
                    if totals_lo <= s < totals_hi and sid != shift_id:
                        totals[monday_of] = totals.get(monday_of, 0.0) + hours
            # Every field in one call: the defaults' factories cost as much as the rest.
            facts = Facts(
                worker_id=pk,
                weekly_hours_cap=cap if cap is not None else default_cap,
                ready_now_until=ready,
                opted_out=opted_out,
                first_week=first_week,
                documents=documents[pk] & needed_types if pk in documents else set(),
                availability=[r for r in availability.get(pk, ()) if r[0] in weekdays],
                exceptions=[x for x in exceptions.get(pk, ()) if x[0] in days],
                bookings=[
                    (s, e) for s, e, sid, _m, _h in held if s < hi and e > lo and sid != shift_id
                ],
                weekly_totals=totals,
            )
            if totals and not weeks_matter(ctx, facts):
                facts.weekly_totals = {}
            out.append(facts)
        return out


_Held = tuple[datetime, datetime, int, date, float]


def _held(start: datetime, end: datetime, shift_id: int) -> _Held:
    """A booking as the book holds it: its times in UTC (the same instants; compared with
    bounds in UTC, fast), with the Monday of its week (London time; a booking counts in
    the week it starts) and its hours, worked out once."""
    monday = _monday(start.astimezone(LONDON).date())
    hours = (end - start).total_seconds() / 3600
    return (start.astimezone(UTC), end.astimezone(UTC), shift_id, monday, hours)


def _joined_after(monday: date) -> datetime:
    """As ``worker_facts``: joined within the 17 weeks before the shift's week."""
    return datetime.combine(
        monday - timedelta(weeks=WORKING_TIME_REFERENCE_WEEKS - 1), time.min, tzinfo=LONDON
    )


@dataclass
class Wave:
    """What one wave in memory did (the fields of a ``MatchRun`` a caller reads)."""

    wave: int
    picked: list[Candidate]
    expires: datetime
    eligible_count: int
    not_reached: int

    @property
    def remaining(self) -> int:
        """Eligible workers not offered yet, counting those the wave did not reach."""
        return self.eligible_count - len(self.picked) + self.not_reached


@dataclass
class ShiftMatching:
    """One shift matched in memory: ``shift`` is a ``ShiftRequest`` (saved, with its pool
    attached) whose wave, times and status this object keeps, as ``shift_match_wave`` keeps
    them in the database."""

    shift: ShiftRequest
    book: FactsBook
    skill_ids: list[int]
    documents: dict[int, str] | None = None
    offered: set[int] = field(default_factory=set)
    _rows: list[Row] | None = None

    def context(self, now: datetime) -> _Context:
        if self.documents is None:
            self.documents = self.book.needed_documents(self.shift.role_id, self.skill_ids)
        return _context(
            self.shift,
            now,
            skill_ids=self.skill_ids,
            documents=self.documents,
            largest_radius_km=self.book.largest_radius_km,
        )

    def rows(self, ctx: _Context) -> list[Row]:
        """The prefilter's rows (every SQL rule), asked once; less those offered since."""
        if self._rows is None:
            self._rows = self.book.prefiltered(ctx)
        if not self.offered:
            return self._rows
        return [row for row in self._rows if row[0] not in self.offered]

    def forget(self) -> None:
        """The shift is closed: its rows are not needed again."""
        self._rows = None

    def evaluate(self, now: datetime, need: int | None) -> Evaluation:
        """``_evaluate`` (the ranking) with the facts from the book."""
        ctx = self.context(now)

        def examine(
            ctx: _Context, chunk: list[Row], excluded: dict[str, list[int]]
        ) -> list[Candidate]:
            facts = self.book.facts(ctx, [(r[0], r[3], r[4]) for r in chunk])
            return examine_facts(ctx, chunk, facts, excluded, self.book.reliability)

        return evaluate_rows(ctx, self.rows(ctx), need, examine)

    def wave(self, now: datetime, *, force: bool = False) -> Wave | None:
        """``shift_match_wave`` in memory: the next wave if due (or ``force``), its offers
        picked, sized, timed and scheduled by matching's own wave functions."""
        shift = self.shift
        if not (force or _due(shift, now)):
            return None
        if not shift.is_open or shift.end <= now:
            return None
        evaluation = self.evaluate(now, _wave_size(shift, now))
        picked = _wave_pick(shift, evaluation.candidates, now)
        wave = Wave(
            wave=shift.wave + 1,
            picked=picked,
            expires=offer_expiry(shift, now),
            eligible_count=len(evaluation.candidates),
            not_reached=evaluation.not_reached,
        )
        self.offered.update(c.worker_id for c in picked)
        shift.wave = wave.wave
        shift.matched_at = now
        shift.next_wave_at = now + wave_interval(shift, now)
        return wave

    def acceptance_failures(self, worker_id: int, now: datetime) -> list[Rule]:
        """The rules ``offer_accept`` re-checks (``acceptance_rules()``) that the worker
        breaks now, judged on the book's facts. Those with a ``where`` passed the prefilter
        and read nothing a caller of this module changes."""
        ctx = self.context(now)
        # The worker was offered the shift, so is near the front of its rows.
        row = next((r for r in self._rows or () if r[0] == worker_id), None)
        cap, ready = (row[3], row[4]) if row is not None else (None, None)
        facts = self.book.facts(ctx, [(worker_id, cap, ready)])[0]
        rules = tuple(r for r in acceptance_rules() if r.passes is not None)
        return fact_failures(ctx, facts, every=False, rules=rules)
