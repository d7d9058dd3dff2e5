"""What a worker sees of their own record. Every function takes the worker, so a query
can never reach another worker's data."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from pools.models import DocumentType, Pool, RoleRate
from shifts.models import Booking, Offer, ShiftRequest, Timesheet
from shifts.offer_text import OfferFacts, distance_text, offer_facts
from workers.models import Document, Worker

EXPIRING_SOON = timedelta(days=30)
_KM_AWAY = re.compile(r"(\d+(?:\.\d+)?) km away")


def worker_for_user(*, user: User) -> Worker | None:
    """The signed-in person's worker record; None for anyone else or a closed account.
    Read from the user when it came with it (``accounts.access`` loads it, with its pool)."""
    if not user.is_authenticated:
        return None
    if User.worker.is_cached(user):  # type: ignore[attr-defined]
        worker = getattr(user, "worker", None)
    else:
        worker = _worker_with_pool(user.pk)
    return worker if worker is not None and worker.status != Worker.Status.LEFT else None


def _worker_with_pool(user_id: int) -> Worker | None:
    """The user's worker record with its pool, as ``select_related("pool")`` loads it. Every
    worker page and poll asks, where building the ORM's query cost five times running it:
    on PostgreSQL the query is written out once (``_worker_sql``) and the rows made into
    models as the ORM makes them (PostgreSQL hands these fields over as Python values)."""
    if connection.vendor != "postgresql":
        return Worker.objects.select_related("pool").filter(user_id=user_id).first()
    sql, worker_fields, pool_fields = _worker_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(worker_fields)
    worker = Worker.from_db(connection.alias, worker_fields, row[:n])
    worker._state.fields_cache["pool"] = Pool.from_db(connection.alias, pool_fields, row[n:])
    return worker


@cache
def _worker_sql() -> tuple[str, list[str], list[str]]:
    """Every column of the worker and of its pool, in model field order, for one user (and
    the fields' names, for ``from_db``)."""
    worker, pool = Worker._meta, Pool._meta
    columns = [f'w."{f.column}"' for f in worker.concrete_fields]
    columns += [f'p."{f.column}"' for f in pool.concrete_fields]
    sql = (
        f'SELECT {", ".join(columns)} FROM "{worker.db_table}" w '
        f'JOIN "{pool.db_table}" p ON p."{pool.pk.column}" = w."{worker.get_field("pool").column}" '
        f'WHERE w."{worker.get_field("user").column}" = %s'
    )
    names = ([f.attname for f in worker.concrete_fields], [f.attname for f in pool.concrete_fields])
    return sql, *names


def _hourly_pay(pool_ids: Sequence[int]) -> dict[tuple[int, int], Decimal]:
    rates = RoleRate.objects.filter(pool_id__in=pool_ids).values_list(
        "pool_id", "role_id", "pool_hourly_cost"
    )
    return {(pool_id, role_id): cost for pool_id, role_id, cost in rates}


def _day(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b}"


@dataclass
class OfferRow:
    """One offer as the worker's list shows it. The display strings are made here, once,
    so the polled list renders quickly."""

    offer: Offer
    hourly_pay: Decimal | None
    skills: list[str] = field(default_factory=list)
    unit: str = "mi"

    @property
    def pay(self) -> Decimal | None:
        if self.hourly_pay is None:
            return None
        return (self.hourly_pay * self.offer.shift.hours).quantize(Decimal("0.01"))

    def facts(self) -> OfferFacts:
        """The same facts the offer's message names (``shifts.offer_text``)."""
        return offer_facts(
            self.offer, hourly_pay=self.hourly_pay, skills=self.skills, unit=self.unit
        )

    def why(self) -> list[str]:
        """Why the offer came to this worker, distances in the pool's unit."""
        return [
            _KM_AWAY.sub(lambda m: f"{distance_text(Decimal(m.group(1)), self.unit)} away", r)
            for r in (self.offer.reasons or [])
        ]

    def display(self) -> dict[str, str]:
        facts = self.facts()
        return {
            "day": facts.day,
            "times": facts.times,
            "hours": facts.hours,
            "pay": facts.pay,
            "hourly_pay": facts.hourly_pay,
            "distance": facts.distance,
            "travel": facts.travel,
            "site_name": facts.site_name,
            "care_type": facts.care_type,
            "answer_by": facts.answer_by,
            "detail_url": reverse("workers:offer", kwargs={"pk": self.offer.pk}),
            "accept_url": reverse("workers:offer_accept", kwargs={"pk": self.offer.pk}),
            "decline_url": reverse("workers:offer_decline", kwargs={"pk": self.offer.pk}),
        }


def worker_offers_pending(*, worker: Worker, now: datetime | None = None) -> list[OfferRow]:
    """The worker's open offers, the soonest shift first (the most urgent), then the
    newest offer. Only the site's district is shown before booking."""
    now = now or timezone.now()
    offers = list(
        Offer.objects.filter(worker=worker, status=Offer.Status.PENDING, expires_at__gt=now)
        .select_related("shift__provider", "shift__site", "shift__role")
        .only(
            "id",
            "distance_km",
            "reasons",
            "sent_at",
            "expires_at",
            "viewed_at",
            "shift__id",
            "shift__pool_id",
            "shift__role_id",
            "shift__start",
            "shift__end",
            "shift__is_critical",
            "shift__provider__name",
            "shift__site__name",
            "shift__site__district",
            "shift__site__site_type",
            "shift__role__name",
        )
        .order_by("shift__start", "-sent_at", "id")
    )
    shift_ids = [o.shift_id for o in offers]
    skills: dict[int, list[str]] = {}
    if shift_ids:
        through = ShiftRequest.skills.through.objects.filter(shiftrequest_id__in=shift_ids)
        for shift_id, name in through.values_list("shiftrequest_id", "skill__name").order_by(
            "skill__name"
        ):
            skills.setdefault(shift_id, []).append(name)
    pay = _hourly_pay(sorted({o.shift.pool_id for o in offers})) if offers else {}
    return [
        OfferRow(
            offer=o,
            hourly_pay=pay.get((o.shift.pool_id, o.shift.role_id)),
            skills=skills.get(o.shift_id, []),
            unit=worker.pool.distance_unit,
        )
        for o in offers
    ]


def _fingerprint(items: Sequence[tuple[int, datetime, bool]]) -> str:
    key = ",".join(
        f"{pk}:{expires.timestamp():.0f}:{int(critical)}" for pk, expires, critical in sorted(items)
    )
    return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:12]


def offers_version(rows: Sequence[OfferRow]) -> str:
    """A short fingerprint of the list as shown: it changes when an offer comes or goes,
    its deadline moves or its shift turns urgent."""
    return _fingerprint([(r.offer.pk, r.offer.expires_at, r.offer.shift.is_critical) for r in rows])


def worker_offers_version(*, worker: Worker, now: datetime | None = None) -> str:
    """The same fingerprint as ``offers_version`` of ``worker_offers_pending``, from one
    small indexed query (no rows to render): what a poll that finds nothing new costs."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":  # every poll asks: the query written out is cheaper
        with connection.cursor() as cursor:
            cursor.execute(_PENDING_SQL, [worker.pk, Offer.Status.PENDING, now])
            return _fingerprint(cursor.fetchall())
    items = Offer.objects.filter(
        worker=worker, status=Offer.Status.PENDING, expires_at__gt=now
    ).values_list("id", "expires_at", "shift__is_critical")
    return _fingerprint(list(items))


# What ``worker_offers_version`` reads, as the ORM would write it (building it took ten
# times as long as running it, on every poll of every phone).
_PENDING_SQL = f"""
SELECT o.id, o.expires_at, s.is_critical
FROM {Offer._meta.db_table} o JOIN {ShiftRequest._meta.db_table} s ON s.id = o.shift_id
WHERE o.worker_id = %s AND o.status = %s AND o.expires_at > %s
"""


def worker_offer_detail(*, worker: Worker, offer_id: int) -> OfferRow | None:
    """One of the worker's offers with everything they need to decide (never the street
    address: that comes with the booking)."""
    offer = (
        Offer.objects.select_related("shift__site", "shift__provider", "shift__role")
        .prefetch_related("shift__skills")
        .filter(worker=worker, pk=offer_id)
        .first()
    )
    if offer is None:
        return None
    rate = _hourly_pay([offer.shift.pool_id]).get((offer.shift.pool_id, offer.shift.role_id))
    return OfferRow(
        offer=offer,
        hourly_pay=rate,
        skills=sorted(s.name for s in offer.shift.skills.all()),
        unit=worker.pool.distance_unit,
    )


def worker_offer_get(*, worker: Worker, offer_id: int) -> Offer | None:
    return (
        Offer.objects.select_related("shift__site", "shift__provider", "shift__role")
        .filter(worker=worker, pk=offer_id)
        .first()
    )


@dataclass
class BookingRow:
    booking: Booking
    hourly_pay: Decimal | None
    timesheet: Timesheet | None

    @property
    def map_url(self) -> str:
        site = self.booking.shift.site
        lat, lng = f"{site.latitude:.5f}", f"{site.longitude:.5f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=16/{lat}/{lng}"


def _booking_rows(worker: Worker, bookings: list[Booking]) -> list[BookingRow]:
    pay = _hourly_pay(sorted({b.shift.pool_id for b in bookings}))
    rows = []
    for b in bookings:
        # A missing reverse one-to-one raises an AttributeError subclass.
        timesheet = b.timesheet if hasattr(b, "timesheet") else None
        rows.append(BookingRow(b, pay.get((b.shift.pool_id, b.shift.role_id)), timesheet))
    return rows


def _bookings(worker: Worker) -> QuerySet[Booking]:
    return Booking.objects.filter(worker=worker).select_related(
        "shift__site", "shift__provider", "shift__role", "timesheet"
    )


def worker_bookings_upcoming(*, worker: Worker, now: datetime | None = None) -> list[BookingRow]:
    now = now or timezone.now()
    bookings = list(
        _bookings(worker).filter(end__gt=now, status=Booking.Status.BOOKED).order_by("start")
    )
    return _booking_rows(worker, bookings)


def worker_bookings_past(
    *, worker: Worker, now: datetime | None = None, limit: int = 30
) -> list[BookingRow]:
    now = now or timezone.now()
    bookings = list(
        _bookings(worker)
        .filter(Q(end__lte=now) | ~Q(status=Booking.Status.BOOKED))
        .order_by("-start")[:limit]
    )
    return _booking_rows(worker, bookings)


def worker_booking_get(*, worker: Worker, booking_id: int) -> BookingRow | None:
    booking = _bookings(worker).filter(pk=booking_id).first()
    if booking is None:
        return None
    return _booking_rows(worker, [booking])[0]


@dataclass(frozen=True)
class Earnings:
    hours: Decimal
    pay: Decimal
    shifts: int


def worker_earnings(*, worker: Worker, start: datetime, end: datetime) -> Earnings:
    """Hours clocked (breaks off) on shifts that started in [start, end), and what the
    pool pays for them at its hourly cost for the role."""
    timesheets = list(
        Timesheet.objects.filter(
            booking__worker=worker,
            booking__start__gte=start,
            booking__start__lt=end,
            clock_out__isnull=False,
        ).select_related("booking__shift")
    )
    pay_rates = _hourly_pay(sorted({t.booking.shift.pool_id for t in timesheets}))
    hours = Decimal("0")
    pay = Decimal("0")
    for t in timesheets:
        shift = t.booking.shift
        hours += t.hours
        pay += t.hours * pay_rates.get((shift.pool_id, shift.role_id), Decimal("0"))
    return Earnings(hours=hours, pay=pay.quantize(Decimal("0.01")), shifts=len(timesheets))


def worker_earnings_summary(*, worker: Worker, now: datetime | None = None) -> dict[str, Earnings]:
    local = timezone.localtime(now or timezone.now())
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=local.weekday())
    month_start = day_start.replace(day=1)
    far = local + timedelta(days=1)
    return {
        "week": worker_earnings(worker=worker, start=week_start, end=far),
        "month": worker_earnings(worker=worker, start=month_start, end=far),
    }


@dataclass(frozen=True)
class WorkerRecord:
    shifts_worked: int
    hours_worked: Decimal
    cancellations: int
    late_cancellations: int
    no_shows: int
    offers_accepted: int
    offers_answered: int


def worker_record(*, worker: Worker) -> WorkerRecord:
    bookings = Booking.objects.filter(worker=worker)
    worked = list(
        Timesheet.objects.filter(booking__worker=worker, clock_out__isnull=False).only(
            "clock_in", "clock_out", "break_minutes"
        )
    )
    return WorkerRecord(
        shifts_worked=bookings.filter(status=Booking.Status.ATTENDED).count(),
        hours_worked=sum((t.hours for t in worked), Decimal("0")),
        cancellations=bookings.filter(
            status=Booking.Status.CANCELLED, cancelled_by=Booking.CancelledBy.WORKER
        ).count(),
        late_cancellations=bookings.filter(
            status=Booking.Status.CANCELLED,
            cancelled_by=Booking.CancelledBy.WORKER,
            late_cancellation=True,
        ).count(),
        no_shows=bookings.filter(status=Booking.Status.NO_SHOW).count(),
        offers_accepted=Offer.objects.filter(worker=worker, status=Offer.Status.ACCEPTED).count(),
        # Matching counts an offer declined or left to expire as answered but not accepted.
        offers_answered=Offer.objects.filter(
            worker=worker,
            status__in=[Offer.Status.ACCEPTED, Offer.Status.DECLINED, Offer.Status.EXPIRED],
        ).count(),
    )


@dataclass
class DocumentStatus:
    doc_type: DocumentType
    status: str  # missing | pending | approved | expiring | expired | rejected
    label: str
    document: Document | None
    history: list[Document] = field(default_factory=list)


def worker_required_document_types(*, worker: Worker) -> list[DocumentType]:
    """Documents every worker needs, plus those the worker's roles and skills need."""
    return list(
        DocumentType.objects.needed_for(
            role_ids=worker.roles.values_list("pk", flat=True),
            skill_ids=worker.skills.values_list("pk", flat=True),
        ).order_by("name")
    )


def worker_document_statuses(*, worker: Worker, today: date | None = None) -> list[DocumentStatus]:
    """Where the worker stands on each document they need (and any other they sent):
    the newest upload of each type decides."""
    today = today or timezone.localdate()
    required = worker_required_document_types(worker=worker)
    documents = list(
        Document.objects.filter(worker=worker)
        .select_related("doc_type")
        .order_by("doc_type__name", "-uploaded_at", "-id")
    )
    by_type: dict[int, list[Document]] = {}
    for d in documents:
        by_type.setdefault(d.doc_type_id, []).append(d)
    types = {t.pk: t for t in required}
    for d in documents:
        types.setdefault(d.doc_type_id, d.doc_type)
    statuses = []
    for doc_type in sorted(types.values(), key=lambda t: t.name):
        docs = by_type.get(doc_type.pk, [])
        latest = docs[0] if docs else None
        if latest is None:
            status, label = "missing", "Missing"
        elif latest.status == Document.Status.PENDING:
            status, label = "pending", "Pending review"
        elif latest.status == Document.Status.REJECTED:
            status, label = "rejected", "Rejected"
        elif latest.expires_on is not None and latest.expires_on <= today:
            status, label = "expired", "Expired"
        elif latest.expires_on is not None and latest.expires_on <= today + EXPIRING_SOON:
            status, label = "expiring", "Expiring soon"
        else:
            status, label = "approved", "Approved"
        statuses.append(DocumentStatus(doc_type, status, label, latest, docs))
    return statuses


def document_for_viewer(*, user: User, document_id: int) -> Document | None:
    """A document file may be seen by its worker and by coordinators of the worker's pool."""
    document = Document.objects.select_related("worker").filter(pk=document_id).first()
    if document is None or not document.file:
        return None
    if document.worker.user_id == user.pk and document.worker.status != Worker.Status.LEFT:
        return document
    coordinator = getattr(user, "coordinator", None)
    if coordinator is not None and coordinator.pool_id == document.worker.pool_id:
        return document
    return None


def worker_bookings_for_calendar(*, worker: Worker, now: datetime | None = None) -> list[Booking]:
    """Live bookings of the last 60 days and ahead, and those cancelled in the last two
    weeks (the feed marks them cancelled so phones drop them)."""
    from workers.calendar import CANCELLED_KEPT_DAYS

    now = now or timezone.now()
    return list(
        Booking.objects.filter(
            Q(status__in=Booking.LIVE_STATUSES)
            | Q(
                status=Booking.Status.CANCELLED,
                cancelled_at__gte=now - timedelta(days=CANCELLED_KEPT_DAYS),
            ),
            worker=worker,
            end__gt=now - timedelta(days=60),
        )
        .select_related("shift__site", "shift__provider", "shift__role")
        .prefetch_related(Prefetch("shift__skills"))
        .order_by("start")
    )
