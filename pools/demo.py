"""The demo borough: a Bury-like pool with providers, sites, workers and months of history,
built deterministically from a seed so dashboards mean something on first start.

``demo_borough_build`` is the one entry point (``manage.py seed_demo`` is a thin shell over
it). Rows are generated in Python with ids assigned up front, then written in bulk: with
PostgreSQL's COPY, or ``bulk_create`` elsewhere, so a million historical shift requests take
minutes, not hours. A marker in the pool's audit log records the parameters a borough was
built with; building again with the same parameters changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time as clock
from bisect import bisect
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from geo.reference import (
    GREATER_MANCHESTER_DISTRICTS,
    GREATER_MANCHESTER_NEIGHBOURS,
    region_centroids_ensure,
)
from pools.models import AuditEntry, Coordinator, DocumentType, Pool, Role, RoleRate, Skill
from pools.reference import pool_rates_ensure, reference_data_ensure
from providers.models import Provider, ProviderMember, Site
from reports.demo import workforce_demo_build
from reports.rollups import rollups_refresh
from shifts.models import Booking, Offer, Rating, ShiftRequest, Timesheet
from shifts.services.records import worker_records_recount
from workers.models import AvailabilityRule, Document, Worker

LONDON = ZoneInfo("Europe/London")
DEMO_PASSWORD = "flexpool-demo"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"
COORDINATOR_EMAIL = "coordinator@flexpool.test"
PROVIDER_EMAIL = "provider@flexpool.test"
WORKER_EMAIL = "worker@flexpool.test"
MARKER_ACTION = "demo.seeded"
BULK_THRESHOLD = 100_000  # historical shifts from which indexes are rebuilt, not maintained

BOROUGHS = [
    "Bolton", "Bury", "Manchester", "Oldham", "Rochdale",
    "Salford", "Stockport", "Tameside", "Trafford", "Wigan",
]  # fmt: skip
BURY_NEIGHBOURS = ["Bolton", "Manchester", "Rochdale", "Salford"]


@dataclass(frozen=True)
class District:
    code: str
    town: str
    latitude: float
    longitude: float
    weight: int
    streets: tuple[str, ...]


DISTRICTS = [
    District("BL9", "Bury", 53.593, -2.298, 30,
             ("Bolton Street", "Walmersley Road", "Rochdale Road", "Manchester Road", "Market Street")),
    District("BL8", "Tottington", 53.613, -2.339, 14,
             ("Turton Road", "Kirklees Street", "Market Street", "Moss Lane")),
    District("BL0", "Ramsbottom", 53.648, -2.317, 11,
             ("Bolton Road West", "Bridge Street", "Carr Street", "Bury New Road")),
    District("M26", "Radcliffe", 53.561, -2.327, 17,
             ("Blackburn Street", "Water Street", "Church Street West", "Ainsworth Road")),
    District("M45", "Whitefield", 53.551, -2.298, 13,
             ("Bury New Road", "Stand Lane", "Elms Street", "Victoria Avenue")),
    District("M25", "Prestwich", 53.533, -2.285, 15,
             ("Bury Old Road", "Rectory Lane", "Scholes Lane", "Heys Road")),
]  # fmt: skip

PLACE_WORDS = [
    "Oakwood", "Elmfield", "Hollins", "Brookside", "Fairfield", "Chesham", "Walmersley",
    "Redvales", "Summerseat", "Holcombe", "Stand", "Heaton", "Sedgley", "Kirklees",
    "Hazelhurst", "Greenmount", "Nangreaves", "Woolfold", "Chapelfield", "Ainsworth",
    "Unsworth", "Limefield", "Ashworth", "Birtle", "Seedfield", "Springside", "Peel",
    "Irwell", "Lowercroft", "Moorside", "Whitelow", "Harwood", "Bankfield", "Clarence",
    "Hawthorn", "Willow", "Rowan", "Beech", "Larch", "Heathfield", "Meadowcroft", "Riverside",
]  # fmt: skip
RESIDENTIAL_SUFFIXES = ["House", "Lodge", "Court", "Grange", "View", "Manor", "Nursing Home"]
PROVIDER_SUFFIXES = {
    Provider.Size.SMALL: ["Care", "Homecare", "Care Services", "Support", "Care Ltd"],
    Provider.Size.MEDIUM: ["Care Group", "Healthcare", "Living", "Community Care"],
    Provider.Size.LARGE: ["Care Partnership", "Healthcare Group", "Care Homes Ltd"],
}
FIRST_NAMES = [
    "Aisha", "Amelia", "Amir", "Anna", "Ben", "Bogdan", "Chidi", "Chloe", "Daniel", "Deborah",
    "Ellie", "Emeka", "Fatima", "Grace", "Hannah", "Harry", "Imran", "Isla", "Jack", "Jade",
    "James", "Joy", "Kasia", "Kwame", "Laura", "Leah", "Liam", "Maria", "Mohammed", "Nadia",
    "Natalie", "Oliver", "Olu", "Priya", "Rachel", "Rebecca", "Ryan", "Samira", "Sarah",
    "Sophie", "Tariq", "Tendai", "Tom", "Yusuf", "Zainab", "Zofia", "Gemma", "Kelly",
]  # fmt: skip
LAST_NAMES = [
    "Ahmed", "Ali", "Bailey", "Begum", "Brown", "Clarke", "Davies", "Evans", "Green", "Hall",
    "Hughes", "Hussain", "Jackson", "Jones", "Khan", "Kowalski", "Lee", "Mensah", "Moyo",
    "Nowak", "Okafor", "Owen", "Patel", "Roberts", "Shah", "Smith", "Taylor", "Thomas",
    "Walker", "Ward", "Wilson", "Wood", "Wright", "Kaur", "Singh", "Barnes", "Holt", "Ashworth",
]  # fmt: skip
DECLINE_REASONS = ["Too far", "Already working", "Childcare", "Not this site", "", "", ""]
CANCEL_REASONS = {
    Booking.CancelledBy.WORKER: ["Unwell", "Family emergency", "Transport problem"],
    Booking.CancelledBy.PROVIDER: ["Resident admitted to hospital", "Covered by own staff"],
    Booking.CancelledBy.POOL: ["Worker's document lapsed"],
}
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Shift patterns: (start hour, start minute, length in hours, weight).
RESIDENTIAL_PATTERNS = [
    (7, 0, 8, 30),
    (14, 0, 8, 25),
    (8, 0, 12, 20),
    (20, 0, 12, 20),
    (17, 0, 6, 5),
]
HOME_CARE_PATTERNS = [(7, 0, 7, 30), (16, 0, 6, 25), (9, 0, 8, 20), (22, 0, 10, 15), (11, 0, 4, 10)]
# (role slug, weight) asked for at each kind of site.
RESIDENTIAL_ROLES = [
    ("care-worker", 55),
    ("senior-carer", 25),
    ("nurse", 12),
    ("support-worker", 8),
]
HOME_CARE_ROLES = [("care-worker", 45), ("support-worker", 45), ("senior-carer", 10)]
HEADCOUNTS = [(1, 85), (2, 10), (3, 3), (4, 2)]
# How long before the start a shift is posted, in hours: urgent, soon, or planned ahead.
LEAD_TIMES = [((1, 6), 30), ((6, 48), 40), ((48, 168), 30)]
HOME_CARE_SKILLS = ["driver", "medication", "pbs", "learning-disability", "mental-health"]
RESIDENTIAL_SKILLS = ["hoist", "dementia", "medication", "end-of-life", "peg-feeding", "insulin"]


@dataclass(frozen=True)
class DemoParams:
    """What a demo borough is built from; the same parameters always build the same data."""

    seed: int = 2024
    providers: int = 93
    workers: int = 300
    days: int = 90
    history_shifts: int = 2700
    future_days: int = 14
    region: str = ""  # "greater-manchester": the ten boroughs (demo_region_build)

    def as_json(self) -> str:
        values = asdict(self)
        if not self.region:
            del values["region"]  # a borough's marker reads as it did before regions
        return json.dumps(values, sort_keys=True)


@dataclass
class DemoSummary:
    params: DemoParams
    built: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


class DemoAlreadyBuilt(Exception):
    """The demo pool holds data built with other parameters (or by hand)."""


# --- public service functions -----------------------------------------------------------


def demo_borough_build(
    *,
    params: DemoParams,
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Build the demo borough, or do nothing if it is already built with ``params``.

    1. Reference data (document types, roles, skills) and the ten Greater Manchester pools.
    2. If the Bury pool's audit log has a marker with these parameters: ensure the demo
       logins and stop. Other parameters, or data without a marker: refuse, unless ``reset``.
    3. Otherwise generate providers, sites, workers, documents, availability and the shift
       history day by day, writing rows in bulk, then the demo logins and the marker.
    4. Count the dashboards' rollups over the whole history (reports.rollups) and write
       six quarters of workforce returns (reports.demo).
    """
    started = clock.monotonic()

    def say(message: str) -> None:
        if progress is not None:
            progress(f"[{clock.monotonic() - started:6.1f} s] {message}")

    reference_data_ensure()
    pool = demo_pools_ensure()
    marker = AuditEntry.objects.filter(pool=pool, action=MARKER_ACTION).first()
    has_data = (
        Provider.objects.filter(pool=pool).exists() or Worker.objects.filter(pool=pool).exists()
    )
    if marker is not None and marker.reason == params.as_json() and not reset:
        demo_logins_ensure(pool=pool)
        return DemoSummary(params=params, built=False, seconds=clock.monotonic() - started)
    if has_data and not reset:
        raise DemoAlreadyBuilt(
            "The Bury pool already holds data"
            + (f" built with {marker.reason}" if marker else "")
            + ". Run seed_demo with --reset to delete it and build again."
        )
    with transaction.atomic():
        if reset:
            say("Deleting the existing demo data ...")
            demo_data_delete()
            pool = demo_pools_ensure()
        counts = _Builder(pool=pool, params=params, say=say).build()
        demo_logins_ensure(pool=pool)
        AuditEntry.objects.create(
            pool=pool,
            actor=None,
            action=MARKER_ACTION,
            target_type="pools.pool",
            target_id=pool.pk,
            target_label=str(pool),
            reason=params.as_json(),
        )
    # The demo's dashboards must be whole from the first page: count every day of its
    # history now rather than leave the days beat does not reach uncounted.
    say("Counting the dashboards' rollups ...")
    rollups_refresh(pool_ids=[pool.pk])
    say("Writing six quarters of workforce returns ...")
    counts["reports.WorkforceReturn"] = workforce_demo_build(
        pool=pool, seed=params.seed, today=timezone.localdate()
    )
    return DemoSummary(
        params=params, built=True, seconds=clock.monotonic() - started, counts=counts
    )


def demo_pools_ensure() -> Pool:
    """The ten Greater Manchester boroughs as pools, each with the standard rates; Bury's
    neighbours set. Returns Bury."""
    pools = {}
    for name in BOROUGHS:
        pools[name], _ = Pool.objects.get_or_create(slug=name.lower(), defaults={"name": name})
        pool_rates_ensure(pools[name])
    bury = pools["Bury"]
    bury.neighbours.add(*(pools[name] for name in BURY_NEIGHBOURS))
    return bury


REGIONS = ["greater-manchester"]
BORDER_KM = 2.5  # a worker this close to a neighbouring borough's district opts in to it
REGION_STREETS = ("High Street", "Church Road", "Station Road", "Manchester Road", "Park Lane")


def region_districts() -> dict[str, list[District]]:
    """Each Greater Manchester borough's districts as the demo places people in them:
    Bury's as the borough demo has them, the others' equally weighted."""
    return {
        borough: DISTRICTS
        if borough == "Bury"
        else [District(code, place, lat, lon, 10, REGION_STREETS) for code, place, lat, lon in rows]
        for borough, rows in GREATER_MANCHESTER_DISTRICTS.items()
    }


def demo_region_build(
    *,
    params: DemoParams,
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Build the Greater Manchester region: each of the ten boroughs its own pool with its
    share of ``params.providers`` and ``params.workers`` (split evenly) living around its
    postcode districts' centres, and no shift history. A worker living within
    ``BORDER_KM`` of a neighbouring borough's district centre opts in to that pool as well
    (``Worker.extra_pools``, as a worker does on their profile). Bury is built first with
    ``params.seed``, so its pool holds the same people and places as a borough demo built
    with the same seed and Bury's share of providers and workers. Idempotent as
    ``demo_borough_build`` is (the marker is in Bury's audit log)."""
    assert params.region in REGIONS, params.region
    started = clock.monotonic()

    def say(message: str) -> None:
        if progress is not None:
            progress(f"[{clock.monotonic() - started:6.1f} s] {message}")

    reference_data_ensure()
    bury = demo_pools_ensure()
    marker = AuditEntry.objects.filter(pool=bury, action=MARKER_ACTION).first()
    if marker is not None and marker.reason == params.as_json() and not reset:
        demo_logins_ensure(pool=bury)
        return DemoSummary(params=params, built=False, seconds=clock.monotonic() - started)
    slugs = [name.lower() for name in BOROUGHS]
    has_data = (
        Provider.objects.filter(pool__slug__in=slugs).exists()
        or Worker.objects.filter(pool__slug__in=slugs).exists()
    )
    if has_data and not reset:
        raise DemoAlreadyBuilt(
            "The Greater Manchester pools already hold data"
            + (f" built with {marker.reason}" if marker else "")
            + ". Run seed_demo with --reset to delete it and build again."
        )
    counts: dict[str, int] = {}
    with transaction.atomic():
        if reset:
            say("Deleting the existing demo data ...")
            demo_data_delete()
            bury = demo_pools_ensure()
        region_centroids_ensure()
        pools = {p.name: p for p in Pool.objects.filter(slug__in=slugs)}
        for a, b in GREATER_MANCHESTER_NEIGHBOURS:
            pools[a].neighbours.add(pools[b])
        districts = region_districts()
        order = ["Bury"] + [name for name in BOROUGHS if name != "Bury"]
        for index, name in enumerate(order):
            share = DemoParams(
                seed=params.seed + index,
                providers=_share(params.providers, index, len(order)),
                workers=_share(params.workers, index, len(order)),
                days=1,
                history_shifts=0,
                future_days=0,
            )
            builder = _Builder(
                pool=pools[name],
                params=share,
                say=say,
                districts=districts[name],
                tag="" if name == "Bury" else f"{pools[name].slug}.",
                extra_pools=_border_opt_ins(name, pools, districts),
            )
            for label, n in builder.build_people().items():
                counts[label] = counts.get(label, 0) + n
            builder.writer.finish()
        demo_logins_ensure(pool=bury)
        AuditEntry.objects.create(
            pool=bury,
            actor=None,
            action=MARKER_ACTION,
            target_type="pools.pool",
            target_id=bury.pk,
            target_label=str(bury),
            reason=params.as_json(),
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Worker, Worker.extra_pools.through, Site):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return DemoSummary(
        params=params, built=True, seconds=clock.monotonic() - started, counts=counts
    )


def _share(total: int, index: int, parts: int) -> int:
    """Part ``index`` of ``total`` split as evenly as whole numbers allow (Bury, part 0,
    gets the largest)."""
    return total // parts + (1 if index < total % parts else 0)


def _border_opt_ins(
    borough: str, pools: dict[str, Pool], districts: dict[str, list[District]]
) -> Callable[[float, float], list[int]]:
    """Which neighbouring pools a worker of ``borough`` living at a point opts in to: those
    with a district centre within ``BORDER_KM`` of their home."""
    neighbours = sorted(
        {b for a, b in GREATER_MANCHESTER_NEIGHBOURS if a == borough}
        | {a for a, b in GREATER_MANCHESTER_NEIGHBOURS if b == borough}
    )
    centres = [(pools[n].pk, [(d.latitude, d.longitude) for d in districts[n]]) for n in neighbours]

    def opt_ins(lat: float, lon: float) -> list[int]:
        return [
            pool_id
            for pool_id, points in centres
            if any(_distance_km(lat, lon, a, b) <= BORDER_KM for a, b in points)
        ]

    return opt_ins


def demo_logins_ensure(*, pool: Pool) -> None:
    """The three demo logins (password ``flexpool-demo``, verified e-mail), created or
    repaired: a coordinator with a TOTP authenticator, an admin of a provider with a Bury
    (BL9) care home, and an approved care worker living near it with no bookings."""
    password_hash = make_password(DEMO_PASSWORD)
    coordinator = _login_user(COORDINATOR_EMAIL, "Cara", "Hughes", password_hash)
    Coordinator.objects.update_or_create(user=coordinator, defaults={"pool": pool})
    if not Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(coordinator, DEMO_TOTP_SECRET)
        RecoveryCodes.activate(coordinator)

    site = (
        Site.objects.filter(
            provider__pool=pool, district="BL9", site_type=Site.SiteType.RESIDENTIAL
        )
        .order_by("provider_id", "id")
        .select_related("provider")
        .first()
    )
    if site is None:
        provider = Provider.objects.create(pool=pool, name="Fairfield Care", size="small")
        site = Site.objects.create(
            provider=provider,
            name="Fairfield House",
            cqc_location_id="1-000000001",
            site_type=Site.SiteType.RESIDENTIAL,
            address="1 Bolton Street, Bury",
            postcode="BL9 0AA",
            district="BL9",
            latitude=53.593,
            longitude=-2.298,
        )
    manager = _login_user(PROVIDER_EMAIL, "Priya", "Shah", password_hash)
    ProviderMember.objects.get_or_create(
        user=manager,
        defaults={"provider": site.provider, "is_admin": True, "job_title": "Registered manager"},
    )
    _demo_reviews_ensure(site=site, manager=manager)

    person = _login_user(WORKER_EMAIL, "Will", "Taylor", password_hash)
    worker, created = Worker.objects.get_or_create(
        user=person,
        defaults={
            "pool": pool,
            "display_name": "Will Taylor",
            "phone": "07700 900001",
            "postcode": "BL9 0NP",
            "district": "BL9",
            "latitude": round(site.latitude + 0.004, 6),
            "longitude": round(site.longitude + 0.003, 6),
            "travel_radius_km": Decimal("15.0"),
            "drives": True,
            "status": Worker.Status.APPROVED,
            "approved_at": timezone.now(),
        },
    )
    if created:
        worker.roles.set(Role.objects.filter(slug="care-worker"))
        today = timezone.localdate()
        Document.objects.bulk_create(
            Document(
                worker=worker,
                doc_type=doc_type,
                status=Document.Status.APPROVED,
                reference=f"DEMO-{doc_type.slug.upper()}",
                issued_on=today - timedelta(days=120),
                expires_on=today + timedelta(days=730) if doc_type.expires else None,
                reviewed_by=coordinator,
                reviewed_at=timezone.now(),
            )
            for doc_type in DocumentType.objects.order_by("slug")
        )
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(worker=worker, weekday=day, start_minute=0, end_minute=1440)
            for day in range(7)
        )


DEMO_REVIEW_NOTE = "Demo: waiting for you"


def _demo_reviews_ensure(*, site: Site, manager: User) -> None:
    """Give the demo provider recent past shifts that wait for it, so those screens show
    something on first start: one whose attendance is not confirmed, one whose timesheet
    waits for approval, one attended and approved but not yet rated. Made again only when
    none is waiting (a second run changes nothing)."""
    provider = site.provider
    waiting = Booking.objects.filter(shift__provider=provider, shift__notes=DEMO_REVIEW_NOTE)
    if waiting.filter(
        models.Q(status=Booking.Status.BOOKED)
        | models.Q(timesheet__status=Timesheet.Status.SUBMITTED)
        | models.Q(status=Booking.Status.ATTENDED, rating__isnull=True)
    ).exists():
        return
    role = Role.objects.get(slug="care-worker")
    rate = RoleRate.objects.filter(pool=provider.pool, role=role).first()
    agency_rate = rate.benchmark_agency_rate if rate is not None else Decimal("24.00")
    now = timezone.now()
    day = timezone.localdate() - timedelta(days=1)
    kinds = ["attendance", "timesheet", "rating"]
    for index, kind in enumerate(kinds):
        start = datetime.combine(day, time(7 + index), tzinfo=LONDON)
        end = start + timedelta(hours=6)
        busy = Booking.objects.filter(
            status__in=Booking.LIVE_STATUSES, start__lt=end, end__gt=start
        ).values("worker_id")
        worker = (
            Worker.objects.filter(pool=provider.pool, status=Worker.Status.APPROVED)
            .exclude(user__email=WORKER_EMAIL)
            .exclude(pk__in=busy)
            .order_by("pk")
            .first()
        )
        if worker is None:
            return
        shift = ShiftRequest.objects.create(
            pool=provider.pool, provider=provider, site=site, role=role,
            start=start, end=end, headcount=1, booked_count=1, agency_hourly_rate=agency_rate,
            status=ShiftRequest.Status.FILLED, notes=DEMO_REVIEW_NOTE,
            posted_at=start - timedelta(days=1), filled_at=start - timedelta(hours=20),
            matched_at=start - timedelta(days=1), created_by=manager,
        )  # fmt: skip
        booking = Booking.objects.create(
            shift=shift, worker=worker, start=start, end=end,
            booked_at=start - timedelta(hours=20),
            status=Booking.Status.BOOKED if kind == "attendance" else Booking.Status.ATTENDED,
        )  # fmt: skip
        if kind != "attendance":
            Timesheet.objects.create(
                booking=booking, clock_in=start + timedelta(minutes=3), clock_out=end,
                break_minutes=30,
                status=Timesheet.Status.SUBMITTED if kind == "timesheet"
                else Timesheet.Status.APPROVED,
                reviewed_by=manager if kind == "rating" else None,
                reviewed_at=now if kind == "rating" else None,
            )  # fmt: skip


def demo_data_delete() -> None:
    """Delete every person, provider, worker and shift (keeping the pools and the reference
    data), for rebuilding the demo borough. Never run this on real data."""
    keep: set[type[models.Model]] = {
        Pool, Pool.neighbours.through, DocumentType, Role, Role.required_documents.through,
        Skill, Skill.required_documents.through, RoleRate,
    }  # fmt: skip
    targets: list[type[models.Model]] = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.app_label
        if model in keep or not model._meta.managed or model._meta.proxy:
            continue
        if label in ("contenttypes", "auth", "sessions", "migrations"):
            continue
        targets.append(model)
    existing = set(connection.introspection.table_names())
    tables = sorted({m._meta.db_table for m in targets} & existing)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
            cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        else:
            # Foreign keys are deferred to commit, when every referencing row is gone too.
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def demo_fingerprint() -> str:
    """A digest of the demo data by natural keys (not ids), to show two builds are equal."""
    digest = hashlib.sha256()

    def feed(name: str, rows: Iterable[tuple[Any, ...]]) -> None:
        digest.update(name.encode())
        for row in sorted(tuple(_plain(v) for v in r) for r in rows):
            digest.update(repr(row).encode())

    feed("pools", Pool.objects.values_list("slug", "name"))
    feed("providers", Provider.objects.values_list("pool__slug", "name", "size"))
    feed(
        "sites",
        Site.objects.values_list(
            "provider__name", "name", "cqc_location_id", "site_type", "address", "postcode",
            "district", "latitude", "longitude",
        ),
    )  # fmt: skip
    feed("members", ProviderMember.objects.values_list("user__email", "provider__name", "is_admin"))
    feed(
        "workers",
        Worker.objects.values_list(
            "user__email", "display_name", "status", "postcode", "latitude", "longitude",
            "travel_radius_km", "drives", "weekly_hours_cap",
        ),
    )  # fmt: skip
    feed(
        "worker_roles",
        Worker.roles.through.objects.values_list("worker__user__email", "role__slug"),
    )
    feed(
        "worker_skills",
        Worker.skills.through.objects.values_list("worker__user__email", "skill__slug"),
    )
    feed(
        "documents",
        Document.objects.values_list(
            "worker__user__email", "doc_type__slug", "status", "issued_on", "expires_on"
        ),
    )
    feed(
        "availability",
        AvailabilityRule.objects.values_list(
            "worker__user__email", "weekday", "start_minute", "end_minute"
        ),
    )
    feed(
        "shifts",
        ShiftRequest.objects.values_list(
            "site__cqc_location_id", "role__slug", "start", "end", "headcount", "booked_count",
            "status", "outcome", "agency_hourly_rate", "posted_at", "filled_at", "cancelled_at",
        ),
    )  # fmt: skip
    feed(
        "shift_skills",
        ShiftRequest.skills.through.objects.values_list(
            "shiftrequest__site__cqc_location_id", "shiftrequest__start", "skill__slug"
        ),
    )
    feed(
        "offers",
        Offer.objects.values_list(
            "shift__site__cqc_location_id", "shift__start", "worker__user__email", "status",
            "wave", "rank", "distance_km", "sent_at", "responded_at",
        ),
    )  # fmt: skip
    feed(
        "bookings",
        Booking.objects.values_list(
            "shift__site__cqc_location_id", "start", "worker__user__email", "status",
            "booked_at", "cancelled_at", "cancelled_by", "late_cancellation",
        ),
    )  # fmt: skip
    feed(
        "timesheets",
        Timesheet.objects.values_list(
            "booking__worker__user__email", "clock_in", "clock_out", "break_minutes", "status"
        ),
    )
    feed(
        "ratings",
        Rating.objects.values_list(
            "booking__worker__user__email", "booking__start", "punctuality", "care"
        ),
    )
    return digest.hexdigest()


# --- internals ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if value is None:
        return ""
    return str(value)


def _login_user(email: str, first: str, last: str, password_hash: str) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first, "last_name": last, "password": password_hash}
    )
    if not created and not user.check_password(DEMO_PASSWORD):
        user.password = password_hash
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class _BulkWriter:
    """Buffers rows per model (values keyed by attname, ids assigned here) and writes them
    with COPY on PostgreSQL or ``bulk_create`` elsewhere. Columns not given take the
    field's default, so fields other engineers add with a default need no change here."""

    def __init__(self, order: list[type[models.Model]], batch_size: int = 20000) -> None:
        self.order = order
        self.batch_size = batch_size
        self.copy = connection.vendor == "postgresql"
        self.buffers: dict[type[models.Model], list[dict[str, Any]]] = {m: [] for m in order}
        self.counts: dict[type[models.Model], int] = {m: 0 for m in order}
        self.next_ids: dict[type[models.Model], int] = {}
        self.now = timezone.now()
        for model in order:
            top = model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0
            self.next_ids[model] = top + 1
        self.pending = 0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def add(self, model: type[models.Model], **values: Any) -> int:
        pk = values.get("id")
        if pk is None:
            pk = values["id"] = self.next_ids[model]
            self.next_ids[model] += 1
        self.buffers[model].append(values)
        self.pending += 1
        return int(pk)

    def reserve(self, model: type[models.Model]) -> int:
        pk = self.next_ids[model]
        self.next_ids[model] += 1
        return pk

    def maybe_flush(self) -> None:
        if self.pending >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        buffers = self.buffers
        self.buffers = {m: [] for m in self.order}
        self.pending = 0
        for model, rows in buffers.items():
            self.counts[model] += len(rows)
        if not self.copy:
            for model in self.order:
                if buffers[model]:
                    model._default_manager.bulk_create(
                        [model(**row) for row in buffers[model]], batch_size=5000
                    )
            return
        # PostgreSQL works through one batch while Python builds the next: the COPY runs
        # in a thread on the same connection (so in the same transaction), one at a time.
        self._join()
        raw = connection.connection
        self._thread = threading.Thread(target=self._copy_all, args=(raw, buffers), daemon=True)
        self._thread.start()

    def finish(self) -> None:
        self.flush()
        self._join()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), self.order):
                cursor.execute(sql)

    def drain(self) -> None:
        """Write everything buffered and wait for it: the connection is free afterwards."""
        self.flush()
        self._join()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _copy_all(self, raw: Any, buffers: dict[type[models.Model], list[dict[str, Any]]]) -> None:
        try:
            with raw.cursor() as cursor:
                for model in self.order:
                    if buffers[model]:
                        self._copy(cursor, model, buffers[model])
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by _join
            self._error = exc

    def _copy(self, cursor: Any, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        fields = model._meta.concrete_fields
        defaults: dict[str, Any] = {}
        for f in fields:
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                defaults[f.attname] = self.now
            elif f.has_default():
                defaults[f.attname] = f.get_default()
            else:
                defaults[f.attname] = None if f.null else ""
        json_columns = {f.attname for f in fields if isinstance(f, models.JSONField)}
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        names = [f.attname for f in fields]
        table = connection.ops.quote_name(model._meta.db_table)
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            lines = []
            for row in rows:
                values = []
                for name in names:
                    value = row[name] if name in row else defaults[name]
                    if name in json_columns:
                        value = json.dumps(value)
                    values.append(_COPY_TEXT.get(type(value), _copy_any)(value))
                lines.append("\t".join(values))
                if len(lines) >= 2000:
                    copy.write("\n".join(lines) + "\n")
                    lines = []
            if lines:
                copy.write("\n".join(lines) + "\n")


def _copy_str(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        value = value.replace("\r", "\\r")
    return value


def _copy_any(value: Any) -> str:
    return _copy_str(str(value))  # e.g. a TextChoices member: its value


# How each Python value is spelt in COPY's text format.
_COPY_TEXT: dict[type, Callable[[Any], str]] = {
    type(None): lambda _v: "\\N",
    bool: lambda v: "t" if v else "f",
    int: str,
    float: repr,
    Decimal: str,
    str: _copy_str,
    datetime: lambda v: v.isoformat(),
    date: lambda v: v.isoformat(),
}


def _record_triggers(*, enabled: bool) -> None:
    """Turn the triggers that keep workers' records on offers and bookings off or on
    (PostgreSQL; within the caller's transaction)."""
    with connection.cursor() as cursor:
        for model in (Offer, Booking):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"ALTER TABLE {table} {'ENABLE' if enabled else 'DISABLE'} TRIGGER USER")


def _bulk_load_prepare(models_: list[type[models.Model]]) -> list[str]:
    """Drop what makes row-by-row loading slow on these tables, as pg_restore would: plain
    indexes (never a unique or exclusion constraint's) and foreign keys. Return the SQL that
    puts them back; adding a foreign key back checks every row at once."""
    restore: list[str] = []
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                [table],
            )
            for name, definition in cursor.fetchall():
                quoted = connection.ops.quote_name(table)
                cursor.execute(
                    f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}"
                )
                restore.append(
                    f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
                )
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")
                restore.insert(0, definition)
    return restore


def _jitter(rng: random.Random, spread: float) -> float:
    return rng.uniform(-spread, spread)


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dx = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2)) * 111.32
    dy = (lat2 - lat1) * 110.57
    return math.hypot(dx, dy)


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    """One value, chosen with the given weights (a hand-rolled ``choices``: it is hot)."""
    left = rng.random() * sum(w for _, w in weighted)
    for value, weight in weighted:
        left -= weight
        if left < 0:
            return value
    return weighted[-1][0]


def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _choice(rng: random.Random, options: list[Any] | tuple[Any, ...] | str) -> Any:
    return options[int(rng.random() * len(options))]


@dataclass
class _SiteInfo:
    id: int
    provider_id: int
    manager_id: int
    residential: bool
    district: str
    latitude: float
    longitude: float
    cum_weight: int = 0


@dataclass
class _WorkerInfo:
    id: int
    district: str
    latitude: float
    longitude: float
    free_from: float = 0.0  # epoch seconds: no booking may start before this


class _Builder:
    """One borough's people, places and history. The region demo builds one per borough:
    ``districts`` to place them in, ``tag`` to keep their e-mail addresses apart (empty for
    Bury, whose addresses stay those of the borough demo) and ``extra_pools`` to say which
    neighbouring pools a worker living at a point opts in to."""

    def __init__(
        self,
        *,
        pool: Pool,
        params: DemoParams,
        say: Callable[[str], None],
        districts: list[District] = DISTRICTS,
        tag: str = "",
        extra_pools: Callable[[float, float], list[int]] | None = None,
    ) -> None:
        self.pool = pool
        self.params = params
        self.say = say
        self.districts = districts
        self.tag = tag
        self.extra_pools = extra_pools
        self.rng = random.Random(params.seed)
        # Days are counted back from today's local midnight, so "the last 90 days" stays true.
        today = timezone.localdate()
        self.today = today
        self.anchor = datetime.combine(today, time(0), tzinfo=LONDON)
        self.roles = {r.slug: r for r in Role.objects.prefetch_related("required_documents")}
        self.skills = {s.slug: s for s in Skill.objects.prefetch_related("required_documents")}
        self.doc_types = {d.slug: d for d in DocumentType.objects.all()}
        self.rates = {
            r.role_id: r.benchmark_agency_rate for r in RoleRate.objects.filter(pool=pool)
        }
        # What providers say an agency would charge: around the pool's benchmark rate.
        self.agency_rates = {
            role.pk: [
                (self.rates.get(role.pk, Decimal("25.00")) * factor / 100).quantize(Decimal("0.50"))
                for factor in (90, 100, 100, 110, 120, 130)
            ]
            for role in self.roles.values()
        }
        self.password_hash = make_password(DEMO_PASSWORD)
        self.late_hours = pool.late_cancellation_hours
        self.offer_ttl = timedelta(minutes=pool.offer_ttl_minutes)
        self.writer = _BulkWriter(
            [
                User, EmailAddress, Provider, Site, ProviderMember, Worker,
                Worker.roles.through, Worker.skills.through, Worker.extra_pools.through,
                Document, AvailabilityRule,
                ShiftRequest, ShiftRequest.skills.through, Offer, Booking, Timesheet, Rating,
            ]
        )  # fmt: skip
        self.sites: list[_SiteInfo] = []
        self.workers: list[_WorkerInfo] = []
        self.by_role: dict[int, list[int]] = {}
        self.by_role_district: dict[tuple[int, str], list[int]] = {}
        self.coordinator_id: int | None = None

    # -- people and places ---------------------------------------------------------------

    def build(self) -> dict[str, int]:
        self.build_people()
        self.say(f"History ({self.params.history_shifts} shifts over {self.params.days} days) ...")
        history_models = [ShiftRequest, Offer, Booking, Timesheet, Rating]
        bulky = connection.vendor == "postgresql" and self.params.history_shifts >= BULK_THRESHOLD
        # Loading millions of rows into indexed tables is slow; like pg_restore, drop the
        # plain indexes (never a constraint's) and build them again once the rows are in.
        saved = _bulk_load_prepare(history_models + [ShiftRequest.skills.through]) if bulky else []
        if bulky:
            # Nor count each historical offer and booking into its worker's record, row by
            # row (the triggers of shifts' migration 0004): count them all once at the end.
            _record_triggers(enabled=False)
        self._history()
        self.writer.finish()
        if bulky:
            _record_triggers(enabled=True)
            self.say("Counting the workers' records ...")
            worker_records_recount()
        if saved:
            self.say(f"Rebuilding {len(saved)} indexes and foreign keys ...")
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for definition in saved:
                    cursor.execute(definition)
                for model in history_models:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        return {m._meta.label: n for m, n in self.writer.counts.items()}

    def build_people(self) -> dict[str, int]:
        """Providers, sites and workers (no shifts), written out; the counts so far."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.coordinator_id = self._user(
            f"coordination@{self.pool.slug}.flexpool.test", "Sam", "Greenhalgh"
        )
        self.say(f"{self.pool.name}: providers and sites ({self.params.providers} providers) ...")
        self._providers()
        self.say(f"{self.pool.name}: workers ({self.params.workers}) ...")
        self._workers()
        self.writer.drain()
        return {m._meta.label: n for m, n in self.writer.counts.items()}

    def _user(self, email: str, first: str, last: str) -> int:
        user_id = self.writer.add(
            User, email=email, first_name=first, last_name=last, password=self.password_hash,
            is_active=True, is_staff=False, is_superuser=False, date_joined=self.writer.now,
        )  # fmt: skip
        self.writer.add(EmailAddress, user_id=user_id, email=email, verified=True, primary=True)
        return user_id

    def _postcode(self, district: str) -> str:
        rng = self.rng
        return f"{district} {_randint(rng, 0, 9)}{_choice(rng, INWARD_LETTERS)}{_choice(rng, INWARD_LETTERS)}"

    def _providers(self) -> None:
        rng = self.rng
        n = self.params.providers
        n_large = max(1, round(n * 0.1)) if n >= 3 else 0
        n_medium = max(0, n - round(n * 2 / 3) - n_large)
        sizes = [Provider.Size.LARGE] * n_large + [Provider.Size.MEDIUM] * n_medium
        sizes += [Provider.Size.SMALL] * (n - len(sizes))
        rng.shuffle(sizes)
        names: set[str] = set()
        cqc_ids: set[str] = set(Site.objects.values_list("cqc_location_id", flat=True))
        district_weights = [(d, d.weight) for d in self.districts]
        total_weight = 0
        for index, size in enumerate(sizes):
            word = _choice(rng, PLACE_WORDS)
            name = f"{word} {_choice(rng, PROVIDER_SUFFIXES[size])}"
            while name in names:
                name = f"{word} {_choice(rng, PROVIDER_SUFFIXES[size])} {len(names) + 1}"
            names.add(name)
            provider_id = self.writer.add(
                Provider, pool_id=self.pool.pk, name=name, size=size, is_active=True
            )
            manager_first, manager_last = _choice(rng, FIRST_NAMES), _choice(rng, LAST_NAMES)
            manager_id = self._user(
                f"manager{index + 1}@{self.tag}providers.flexpool.test",
                manager_first,
                manager_last,
            )
            self.writer.add(
                ProviderMember, user_id=manager_id, provider_id=provider_id, is_admin=True,
                job_title=_choice(rng, ["Registered manager", "Deputy manager", "Rota lead"]),
            )  # fmt: skip
            n_sites = {
                Provider.Size.SMALL: _choice(rng, [1, 1, 1, 1, 2]),
                Provider.Size.MEDIUM: _randint(rng, 2, 4),
                Provider.Size.LARGE: _randint(rng, 4, 8),
            }[size]
            residential_share = _choice(rng, [0.0, 0.3, 0.5, 1.0])
            weight = {"small": 1, "medium": 3, "large": 6}[size]
            for s in range(n_sites):
                district = _pick(rng, district_weights)
                residential = rng.random() < residential_share
                if index == 0 and s == 0:
                    district, residential = self.districts[0], True
                cqc = f"1-{_randint(rng, 100_000_000, 99_999_999_999)}"
                while cqc in cqc_ids:
                    cqc = f"1-{_randint(rng, 100_000_000, 99_999_999_999)}"
                cqc_ids.add(cqc)
                if residential:
                    site_name = f"{_choice(rng, PLACE_WORDS)} {_choice(rng, RESIDENTIAL_SUFFIXES)}"
                else:
                    site_name = f"{name} {district.town} office"
                lat = round(district.latitude + _jitter(rng, 0.012), 6)
                lon = round(district.longitude + _jitter(rng, 0.018), 6)
                site_id = self.writer.add(
                    Site,
                    provider_id=provider_id,
                    name=site_name,
                    cqc_location_id=cqc,
                    site_type=(
                        Site.SiteType.RESIDENTIAL if residential else Site.SiteType.NON_RESIDENTIAL
                    ),
                    address=f"{_randint(rng, 1, 240)} {_choice(rng, district.streets)}, {district.town}",
                    postcode=self._postcode(district.code),
                    district=district.code,
                    latitude=lat,
                    longitude=lon,
                    parking_notes=(
                        "Free car park at the front; use the visitors' spaces."
                        if residential
                        else "Street parking; you will drive between clients."
                    ),
                    travel_notes=f"Buses from {district.town} Interchange stop nearby.",
                )
                total_weight += weight
                self.sites.append(
                    _SiteInfo(site_id, provider_id, manager_id, residential, district.code, lat,
                              lon, total_weight)
                )  # fmt: skip

    def _workers(self) -> None:
        rng = self.rng
        w = self.writer
        district_weights = [(d, d.weight) for d in self.districts]
        required_all = [d for d in self.doc_types.values() if d.required_for_all]
        statuses = [
            (Worker.Status.APPROVED, 80), (Worker.Status.APPLIED, 5),
            (Worker.Status.DOCUMENTS_SUBMITTED, 4), (Worker.Status.CHECKS, 5),
            (Worker.Status.SUSPENDED, 3), (Worker.Status.LEFT, 3),
        ]  # fmt: skip
        plain_skills = [s for s in self.skills if s != "driver"]
        role_docs = {
            slug: {d.slug: d for d in role.required_documents.all()}
            for slug, role in self.roles.items()
        }
        skill_docs = {
            slug: {d.slug: d for d in skill.required_documents.all()}
            for slug, skill in self.skills.items()
        }
        for index in range(self.params.workers):
            first, last = _choice(rng, FIRST_NAMES), _choice(rng, LAST_NAMES)
            email = f"{first.lower()}.{last.lower()}.{index + 1}@{self.tag}workers.flexpool.test"
            user_id = self._user(email, first, last)
            district = _pick(rng, district_weights)
            lat = round(district.latitude + _jitter(rng, 0.015), 6)
            lon = round(district.longitude + _jitter(rng, 0.02), 6)
            status = _pick(rng, statuses)
            roll = rng.random()
            if roll < 0.55:
                roles = ["care-worker"]
            elif roll < 0.75:
                roles = ["senior-carer", "care-worker"]
            elif roll < 0.93:
                roles = ["support-worker"] + (["care-worker"] if rng.random() < 0.5 else [])
            else:
                roles = ["nurse"]
            skills = set(rng.sample(plain_skills, _randint(rng, 0, 4)))
            if "senior-carer" in roles or "nurse" in roles:
                skills.add("medication")
            drives = rng.random() < 0.45
            if drives:
                skills.add("driver")
            opted_out = rng.random() < 0.1
            approved_at = None
            if status in (Worker.Status.APPROVED, Worker.Status.SUSPENDED, Worker.Status.LEFT):
                approved_at = self.anchor - timedelta(days=_randint(rng, 100, 900))
            worker_id = w.add(
                Worker,
                user_id=user_id,
                pool_id=self.pool.pk,
                display_name=f"{first} {last}",
                phone=f"07700 900{_randint(rng, 0, 999):03d}",
                postcode=self._postcode(district.code),
                district=district.code,
                latitude=lat,
                longitude=lon,
                travel_radius_km=_choice(rng, [None, None, Decimal(5), Decimal(8), Decimal(15)]),
                drives=drives,
                status=status,
                weekly_hours_cap=60 if opted_out else None,
                opt_out_signed_on=approved_at.date() if opted_out and approved_at else None,
                approved_at=approved_at,
                # Left three weeks ago: inside any pool's retention period (no draw from
                # rng, so the rest of the demo stays as it was).
                left_at=self.anchor - timedelta(days=21) if status == Worker.Status.LEFT else None,
            )
            if self.extra_pools is not None:
                for pool_id in self.extra_pools(lat, lon):
                    w.add(Worker.extra_pools.through, worker_id=worker_id, pool_id=pool_id)
            for slug in roles:
                w.add(Worker.roles.through, worker_id=worker_id, role_id=self.roles[slug].pk)
            for slug in sorted(skills):
                w.add(Worker.skills.through, worker_id=worker_id, skill_id=self.skills[slug].pk)
            needed = {d.slug: d for d in required_all}
            for slug in roles:
                needed |= role_docs[slug]
            for slug in skills:
                needed |= skill_docs[slug]
            self._documents(worker_id, status, [needed[k] for k in sorted(needed)])
            self._availability(worker_id)
            if status != Worker.Status.APPROVED and status not in (
                Worker.Status.SUSPENDED, Worker.Status.LEFT
            ):  # fmt: skip
                continue
            info = _WorkerInfo(worker_id, district.code, lat, lon)
            self.workers.append(info)
            for slug in roles:
                role_id = self.roles[slug].pk
                self.by_role.setdefault(role_id, []).append(len(self.workers) - 1)
                key = (role_id, district.code)
                self.by_role_district.setdefault(key, []).append(len(self.workers) - 1)
            w.maybe_flush()

    def _documents(self, worker_id: int, status: str, needed: list[DocumentType]) -> None:
        rng = self.rng
        vetted = status in (Worker.Status.APPROVED, Worker.Status.SUSPENDED, Worker.Status.LEFT)
        if status == Worker.Status.APPLIED:
            needed = needed[: _randint(rng, 0, 3)]
        for doc in needed:
            if vetted or (status == Worker.Status.CHECKS and rng.random() < 0.5):
                state = Document.Status.APPROVED
            else:
                state = Document.Status.PENDING
            issued = self.today - timedelta(days=_randint(rng, 20, 700))
            expires = None
            if doc.expires:
                roll = rng.random()
                if roll < 0.04:
                    expires = self.today + timedelta(days=_randint(rng, 1, 30))
                elif roll < 0.08:
                    expires = self.today + timedelta(days=_randint(rng, 31, 60))
                elif roll < 0.12:
                    expires = self.today + timedelta(days=_randint(rng, 61, 90))
                else:
                    expires = self.today + timedelta(days=_randint(rng, 91, 1000))
            reviewed = state == Document.Status.APPROVED
            self.writer.add(
                Document,
                worker_id=worker_id,
                doc_type_id=doc.pk,
                status=state,
                reference=f"{doc.slug[:3].upper()}{_randint(rng, 10**8, 10**9 - 1)}",
                issued_on=issued,
                expires_on=expires,
                reviewed_by_id=self.coordinator_id if reviewed else None,
                reviewed_at=(
                    datetime.combine(issued, time(10), tzinfo=LONDON) + timedelta(days=3)
                    if reviewed
                    else None
                ),
            )
            if vetted and expires is not None and rng.random() < 0.01:
                # A renewal uploaded and waiting for a coordinator's review.
                self.writer.add(
                    Document,
                    worker_id=worker_id,
                    doc_type_id=doc.pk,
                    status=Document.Status.PENDING,
                    issued_on=self.today - timedelta(days=_randint(rng, 0, 10)),
                    expires_on=self.today + timedelta(days=1095),
                )

    def _availability(self, worker_id: int) -> None:
        rng = self.rng
        pattern = _pick(
            rng,
            [("any", 10), ("days", 30), ("long", 15), ("nights", 15), ("part", 15), ("end", 15)],
        )
        spans: list[tuple[int, int, int]] = []
        if pattern == "any":
            spans = [(d, 0, 1440) for d in range(7)]
        elif pattern == "days":
            spans = [(d, 420, 1200) for d in range(5)]
        elif pattern == "long":
            spans = [(d, 420, 1320) for d in range(7)]
        elif pattern == "nights":
            for d in sorted(rng.sample(range(7), 4)):
                spans += [(d, 1200, 1440), ((d + 1) % 7, 0, 510)]
        elif pattern == "part":
            spans = [(d, 480, 900) for d in sorted(rng.sample(range(7), 3))]
        else:
            spans = [(4, 1020, 1440), (5, 0, 1440), (6, 0, 1440)]
        for day, start, end in sorted(set(spans)):
            self.writer.add(
                AvailabilityRule, worker_id=worker_id, weekday=day, start_minute=start,
                end_minute=end,
            )  # fmt: skip

    # -- shift history --------------------------------------------------------------------

    def _history(self) -> None:
        p = self.params
        per_day = p.history_shifts / max(p.days, 1)
        day_counts = [
            math.floor((d + 1) * p.history_shifts / p.days)
            - math.floor(d * p.history_shifts / p.days)
            for d in range(p.days)
        ]
        future = max(5, round(per_day * 0.35)) if p.future_days else 0
        plan = [(-p.days + i, n) for i, n in enumerate(day_counts)]
        plan += [(d, future) for d in range(1, p.future_days + 1)]
        cum = [s.cum_weight for s in self.sites]
        for offset, count in plan:
            day = self.today + timedelta(days=offset)
            shifts = [self._shift_plan(day, offset, cum) for _ in range(count)]
            shifts.sort(key=lambda s: s[1])
            for site, start, end, role_slug, skills in shifts:
                self._shift(site, start, end, role_slug, skills, past=offset < 0)
            self.writer.maybe_flush()
            if offset % 30 == 0:
                self.say(f"  ... {day:%d %b %Y}")

    def _shift_plan(
        self, day: date, offset: int, cum: list[int]
    ) -> tuple[_SiteInfo, datetime, datetime, str, list[str]]:
        rng = self.rng
        site = self.sites[bisect(cum, rng.randrange(cum[-1]))]
        patterns = RESIDENTIAL_PATTERNS if site.residential else HOME_CARE_PATTERNS
        while True:
            hour, minute, length, _w = _pick(rng, [(x, x[3]) for x in patterns])
            # The day before today has no night shifts, so all history ended before today.
            if offset != -1 or hour + length <= 24:
                break
        start = datetime.combine(day, time(hour, minute), tzinfo=LONDON)
        end = (start + timedelta(hours=length)).astimezone(LONDON)
        role_slug = _pick(rng, RESIDENTIAL_ROLES if site.residential else HOME_CARE_ROLES)
        pool = RESIDENTIAL_SKILLS if site.residential else HOME_CARE_SKILLS
        wanted = _choice(rng, (0, 0, 0, 1, 1, 2))
        skills = sorted(rng.sample(pool, wanted)) if wanted else []
        return site, start, end, role_slug, skills

    def _find_worker(
        self, role_id: int, site: _SiteInfo, start_ts: float, taken: set[int]
    ) -> int | None:
        rng = self.rng
        local = self.by_role_district.get((role_id, site.district), [])
        anywhere = self.by_role.get(role_id, [])
        for attempt in range(10):
            choices = local if attempt < 6 and local else anywhere
            if not choices:
                return None
            index = choices[rng.randrange(len(choices))]
            if index not in taken and self.workers[index].free_from <= start_ts:
                return index
        return None

    def _shift(
        self,
        site: _SiteInfo,
        start: datetime,
        end: datetime,
        role_slug: str,
        skills: list[str],
        *,
        past: bool,
    ) -> None:
        rng = self.rng
        w = self.writer
        role = self.roles[role_slug]
        headcount = _pick(rng, HEADCOUNTS)
        low, high = _pick(rng, LEAD_TIMES)
        lead_hours = low + (high - low) * rng.random()
        posted_at = start - timedelta(hours=lead_hours)
        if not past:
            posted_at = min(posted_at, self.anchor - timedelta(minutes=_randint(rng, 30, 2000)))
        agency_rate = _choice(rng, self.agency_rates[role.pk])
        shift_id = w.reserve(ShiftRequest)
        for slug in skills:
            w.add(
                ShiftRequest.skills.through, shiftrequest_id=shift_id, skill_id=self.skills[slug].pk
            )
        cancelled = past and rng.random() < 0.04
        fill_chance = 0.8
        if start.hour >= 20 or role_slug == "nurse":
            fill_chance -= 0.15
        if lead_hours < 6:
            fill_chance -= 0.15
        if not past:
            fill_chance -= 0.3
        start_ts, end_ts = start.timestamp(), end.timestamp()
        taken: set[int] = set()
        live: list[datetime] = []
        rank = 0

        def offer(index: int, status: str, sent_at: datetime, responded: datetime | None) -> int:
            nonlocal rank
            rank += 1
            info = self.workers[index]
            km = _distance_km(info.latitude, info.longitude, site.latitude, site.longitude)
            return w.add(
                Offer,
                shift_id=shift_id,
                worker_id=info.id,
                status=status,
                wave=1 if sent_at - posted_at < timedelta(minutes=15) else 2,
                rank=rank,
                distance_km=Decimal(f"{km:.1f}"),
                reasons=[f"{km:.1f} km away", f"holds {role.name.lower()} role"],
                sent_at=sent_at,
                expires_at=sent_at + self.offer_ttl,
                responded_at=responded,
                decline_reason=_choice(rng, DECLINE_REASONS) if status == "declined" else "",
            )

        def book(at: datetime) -> tuple[int, int] | None:
            index = self._find_worker(role.pk, site, start_ts, taken)
            if index is None:
                return None
            taken.add(index)
            sent_at = max(posted_at, at - timedelta(minutes=_randint(rng, 1, 25)))
            offer_id = offer(index, Offer.Status.ACCEPTED, sent_at, at)
            return index, offer_id

        if not cancelled:
            for _place in range(headcount):
                if rng.random() > fill_chance:
                    continue
                window = (start - posted_at).total_seconds() / 60 - 5
                ttf = min(max(1.0, rng.lognormvariate(math.log(35), 1.1)), max(window, 1.0))
                at = posted_at + timedelta(minutes=ttf)
                if not past:
                    at = min(at, self.anchor - timedelta(minutes=1))
                got = book(at)
                if got is None:
                    continue
                index, offer_id = got
                outcome = self._booking(shift_id, index, offer_id, site, start, end, at, past)
                if outcome == "live":
                    live.append(at)
                    self.workers[index].free_from = end_ts + 3600 * (11 + _randint(rng, 0, 48))
                elif outcome == "cancelled" and rng.random() < 0.5:
                    # The place goes back out and someone else takes it.
                    at2 = at + timedelta(minutes=_randint(rng, 20, 600))
                    if at2 < start - timedelta(minutes=30) and (past or at2 < self.anchor):
                        got = book(at2)
                        if got is not None:
                            index2, offer2 = got
                            if (
                                self._booking(
                                    shift_id,
                                    index2,
                                    offer2,
                                    site,
                                    start,
                                    end,
                                    at2,
                                    past,
                                    may_cancel=False,
                                )  # fmt: skip
                                == "live"
                            ):
                                live.append(at2)
                                self.workers[index2].free_from = end_ts + 3600 * 11
            for _ in range(_choice(rng, [0, 0, 1, 1, 2, 3])):
                extra = self._find_worker(role.pk, site, math.inf, taken)
                if extra is None:
                    break
                taken.add(extra)
                sent_at = posted_at + timedelta(minutes=_randint(rng, 1, 30))
                state = _pick(
                    rng, [(Offer.Status.DECLINED, 50), (Offer.Status.EXPIRED, 40),
                          (Offer.Status.WITHDRAWN, 10)]
                )  # fmt: skip
                if not past and sent_at + self.offer_ttl > self.anchor:
                    state = Offer.Status.DECLINED
                responded = (
                    sent_at + timedelta(minutes=_randint(rng, 1, 50))
                    if state == Offer.Status.DECLINED
                    else None
                )
                offer(extra, state, sent_at, responded)

        booked = len(live)
        if cancelled:
            status, outcome = ShiftRequest.Status.CANCELLED, ""
        elif booked == headcount:
            status, outcome = ShiftRequest.Status.FILLED, ""
        elif past:
            status = ShiftRequest.Status.EXPIRED
            outcome = _pick(rng, [("agency", 55), ("covered_elsewhere", 30), ("", 15)])
        else:
            status, outcome = ShiftRequest.Status.OPEN, ""
        open_now = status == ShiftRequest.Status.OPEN
        w.add(
            ShiftRequest,
            id=shift_id,
            pool_id=self.pool.pk,
            provider_id=site.provider_id,
            site_id=site.id,
            role_id=role.pk,
            start=start,
            end=end,
            headcount=headcount,
            booked_count=booked,
            agency_hourly_rate=agency_rate,
            notes="",
            is_critical=False,
            status=status,
            outcome=outcome,
            created_by_id=site.manager_id,
            posted_at=posted_at,
            filled_at=max(live) if status == ShiftRequest.Status.FILLED else None,
            cancelled_at=(
                posted_at + (start - posted_at) * rng.uniform(0.1, 0.9) if cancelled else None
            ),
            wave=0 if open_now else 1,
            next_wave_at=self.anchor if open_now else None,
            matched_at=None if open_now else posted_at + timedelta(seconds=_randint(rng, 5, 90)),
            escalated_at=(
                start - timedelta(hours=self.pool.escalate_within_hours)
                if status == ShiftRequest.Status.EXPIRED and lead_hours > 6
                else None
            ),
        )

    def _booking(
        self,
        shift_id: int,
        index: int,
        offer_id: int,
        site: _SiteInfo,
        start: datetime,
        end: datetime,
        booked_at: datetime,
        past: bool,
        *,
        may_cancel: bool = True,
    ) -> str:
        """Write one booking (and its timesheet and rating); say whether it is 'live'
        (holds a place), 'cancelled' or 'no_show'."""
        rng = self.rng
        w = self.writer
        worker_id = self.workers[index].id
        roll = rng.random()
        values: dict[str, Any] = {}
        if may_cancel and roll < 0.06 and (past or start - booked_at > timedelta(hours=2)):
            cancelled_at = booked_at + (start - booked_at) * rng.uniform(0.2, 0.98)
            if not past:
                cancelled_at = min(cancelled_at, self.anchor - timedelta(minutes=1))
            who = _pick(
                rng,
                [(Booking.CancelledBy.WORKER, 65), (Booking.CancelledBy.PROVIDER, 30),
                 (Booking.CancelledBy.POOL, 5)],
            )  # fmt: skip
            values = {
                "status": Booking.Status.CANCELLED,
                "cancelled_at": cancelled_at,
                "cancelled_by": who,
                "cancel_reason": _choice(rng, CANCEL_REASONS[who]),
                "late_cancellation": start - cancelled_at < timedelta(hours=self.late_hours),
            }
            result = "cancelled"
        elif past and roll < 0.075:
            values = {"status": Booking.Status.NO_SHOW}
            result = "no_show"
        else:
            values = {"status": Booking.Status.ATTENDED if past else Booking.Status.BOOKED}
            result = "live"
        booking_id = w.add(
            Booking,
            shift_id=shift_id,
            worker_id=worker_id,
            offer_id=offer_id,
            start=start,
            end=end,
            booked_at=booked_at,
            confirmed_at=booked_at + timedelta(minutes=_randint(rng, 1, 120))
            if result == "live" and (past or rng.random() < 0.6)
            else None,
            **values,
        )
        if result == "live" and past:
            hours = (end - start).total_seconds() / 3600
            kind = _pick(
                rng, [(Timesheet.Status.APPROVED, 85), (Timesheet.Status.CORRECTED, 5),
                      (Timesheet.Status.AUTO_APPROVED, 10)]
            )  # fmt: skip
            manager = site.manager_id if kind != Timesheet.Status.AUTO_APPROVED else None
            w.add(
                Timesheet,
                booking_id=booking_id,
                clock_in=start + timedelta(minutes=_randint(rng, -10, 10)),
                clock_out=end + timedelta(minutes=_randint(rng, -5, 25)),
                break_minutes=30 if hours >= 6 else 0,
                status=kind,
                correction_note=(
                    "Left early: agreed with the nurse in charge"
                    if kind == Timesheet.Status.CORRECTED
                    else ""
                ),
                reviewed_by_id=manager,
                reviewed_at=end + timedelta(hours=_randint(rng, 2, 70)),
            )
            if rng.random() < 0.35:
                w.add(
                    Rating,
                    booking_id=booking_id,
                    punctuality=_choice(rng, [3, 4, 5, 5, 5]),
                    care=_choice(rng, [3, 4, 4, 5, 5]),
                    skills_as_listed=_choice(rng, [4, 5, 5]),
                    comment="",
                    created_by_id=site.manager_id,
                )
        return result
