"""Shift requests, the offers matching makes for them, bookings, timesheets and ratings.

A shift's places are scarce: ``booked_count`` may never exceed ``headcount`` (a check
constraint), a worker is offered a shift at most once and booked on it at most once
(unique constraints), and on PostgreSQL a worker's live bookings can never overlap in
time (an exclusion constraint added by migration 0002).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from pools.models import Pool, Role, Skill
from providers.models import Provider, Site
from workers.models import Worker

HOUR = Decimal(3600)


def hours_between(start: datetime, end: datetime) -> Decimal:
    return (Decimal((end - start).total_seconds()) / HOUR).quantize(Decimal("0.01"))


class ShiftRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FILLED = "filled", "Filled"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class Outcome(models.TextChoices):
        """What became of places the pool did not fill, as the provider tells us."""

        NONE = "", "Not recorded"
        COVERED_ELSEWHERE = "covered_elsewhere", "Covered elsewhere"
        AGENCY = "agency", "Went to an agency"

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="shifts")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="shifts")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="shifts")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    skills = models.ManyToManyField(Skill, blank=True, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    headcount = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    booked_count = models.PositiveSmallIntegerField(default=0)
    agency_hourly_rate = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    notes = models.TextField(blank=True)
    is_critical = models.BooleanField(default=False)
    critical_reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_at = models.DateTimeField(db_index=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # Matching state: the next wave's time lives here, driven by a periodic sweep.
    direct_worker = models.ForeignKey(
        Worker,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Offered to this worker first, before anyone else.",
    )
    radius_bonus_km = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        help_text="Coordinators may widen the search beyond workers' own radius.",
    )
    wave = models.PositiveSmallIntegerField(default=0)
    next_wave_at = models.DateTimeField(null=True, blank=True, db_index=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["provider", "-start"]),
            models.Index(fields=["pool", "start"]),
            models.Index(fields=["status", "next_wave_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start"),
            models.CheckConstraint(
                condition=Q(headcount__gte=1) & Q(headcount__lte=50), name="shift_headcount_1_to_50"
            ),
            models.CheckConstraint(
                condition=Q(booked_count__lte=F("headcount")), name="shift_never_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(agency_hourly_rate__gte=0), name="shift_agency_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} at {self.site.name}, {self.start:%a %d %b %H:%M}"

    @property
    def hours(self) -> Decimal:
        return hours_between(self.start, self.end)

    @property
    def places_left(self) -> int:
        return self.headcount - self.booked_count

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    # --- Predicates: the one answer templates, selectors and services all ask ----------

    @property
    def escalate_at(self) -> datetime:
        """When an open shift that is not filling goes to the pool's coordinators."""
        pool = self.pool
        hours = (
            pool.critical_escalate_within_hours if self.is_critical else pool.escalate_within_hours
        )
        return self.start - timedelta(hours=hours)

    def is_with_coordinators(self, now: datetime) -> bool:
        """Open, and escalated (or past its escalation time, whether or not beat ran yet)."""
        return self.is_open and (self.escalated_at is not None or self.escalate_at <= now)

    def can_change(self, now: datetime) -> bool:
        """The provider may still change or cancel it: open or filled, and not started."""
        return self.status in (self.Status.OPEN, self.Status.FILLED) and self.start > now

    def needs_outcome(self, now: datetime) -> bool:
        """Places the pool did not fill, once that is settled (the shift has started or
        closed), and no one has said what became of them yet."""
        settled = self.start <= now or self.status == self.Status.EXPIRED
        return (
            settled
            and self.status != self.Status.CANCELLED
            and self.booked_count < self.headcount
            and not self.outcome
        )

    def is_late_cancellation(self, now: datetime) -> bool:
        """Cancelling a booking on it now is late (within the pool's window of the start),
        whoever cancels and whether one booking or the whole shift."""
        return self.start - now < timedelta(hours=self.pool.late_cancellation_hours)

    def is_urgent(self, now: datetime) -> bool:
        """Urgent: marked critical, or starting within the pool's urgent window. An urgent
        shift goes to every eligible worker at once, and to workers who said they are ready
        now whatever their weekly pattern. The one meaning of "urgent"."""
        return self.is_critical or self.start - now <= timedelta(
            hours=self.pool.urgent_within_hours
        )


class Offer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # No index of their own on the shift, the worker or the status: the unique constraint
    # (shift, worker) and the indexes (worker, status) and (status, expires_at) answer every
    # look-up by each of them, and an urgent wave inserts a thousand offers at once, each
    # paying for every index (four fewer: about a third of the insert).
    shift = models.ForeignKey(
        ShiftRequest, on_delete=models.CASCADE, related_name="offers", db_index=False
    )
    worker = models.ForeignKey(
        Worker, on_delete=models.CASCADE, related_name="offers", db_index=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    wave = models.PositiveSmallIntegerField()
    rank = models.PositiveIntegerField()
    distance_km = models.DecimalField(max_digits=6, decimal_places=1)
    reasons = models.JSONField(
        default=list, help_text="Why this worker was ranked where they were."
    )
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    viewed_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-sent_at", "id"]
        indexes = [
            models.Index(fields=["worker", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "worker"], name="one_offer_per_worker_per_shift"
            )
        ]

    def __str__(self) -> str:
        return f"Offer of {self.shift} to {self.worker}"


class MatchRun(models.Model):
    """One pass of matching over a shift: who was eligible, who was excluded and by which
    rule, and who was offered in which wave. Kept so a coordinator can answer
    "why wasn't I offered this?"."""

    shift = models.ForeignKey(ShiftRequest, on_delete=models.CASCADE, related_name="match_runs")
    wave = models.PositiveSmallIntegerField()
    ran_at = models.DateTimeField()
    eligible_count = models.PositiveIntegerField()
    offered_count = models.PositiveIntegerField()
    excluded = models.JSONField(
        default=dict, help_text="Rule name to the ids of the workers that rule excluded."
    )
    not_reached = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Workers who passed the SQL rules but were not examined: the wave had "
        "enough before reaching them (counted, not listed; later waves examine them).",
    )
    searched_km = models.FloatField(
        null=True,
        blank=True,
        help_text="Set when the wave read only the workers within this distance of the site "
        "(and the provider's favourites): not_reached then counts those within it, not all.",
    )

    class Meta:
        ordering = ["-ran_at", "-id"]


class Booking(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"

    class CancelledBy(models.TextChoices):
        NONE = "", "—"
        WORKER = "worker", "Worker"
        PROVIDER = "provider", "Provider"
        POOL = "pool", "Pool"

    LIVE_STATUSES = (Status.BOOKED, Status.ATTENDED)

    shift = models.ForeignKey(ShiftRequest, on_delete=models.PROTECT, related_name="bookings")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="bookings")
    offer = models.OneToOneField(
        Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="booking"
    )
    # Copied from the shift so the database can forbid a worker's overlapping bookings.
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.BOOKED, db_index=True
    )
    booked_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(
        max_length=10, choices=CancelledBy.choices, blank=True, default=""
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    late_cancellation = models.BooleanField(default=False)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["worker", "start"]),
            # A worker's attendance by status, from this index alone (the worker's page);
            # matching reads the counts kept in ``WorkerRecord`` instead.
            models.Index(fields=["worker", "status"], name="booking_worker_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "worker"], name="one_booking_per_worker_per_shift"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="booking_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} on {self.shift}"

    @property
    def hours(self) -> Decimal:
        return hours_between(self.start, self.end)

    @property
    def is_live(self) -> bool:
        """Booked or attended: the worker needs to know where the shift is."""
        return self.status in self.LIVE_STATUSES


class WorkerRecord(models.Model):
    """Each worker's offer answers and attendance, counted: what matching's reliability
    reads (``shifts.matching.ranking``), instead of counting the worker's whole history
    on every wave.

    The database keeps the counts, as it keeps a constraint: triggers on ``shifts_offer``
    and ``shifts_booking`` (migration 0004, PostgreSQL and SQLite) add or take one whenever
    a row enters or leaves a counted status, is inserted or deleted, on every path that
    writes (the services, bulk updates, cascades, the demo builder, the admin). So the
    counts always equal counting the history (``worker_records_recount`` writes them from
    it, as the migration did). A worker with no counted offer or live booking has no row."""

    worker = models.OneToOneField(
        Worker, on_delete=models.CASCADE, primary_key=True, related_name="record"
    )
    offers_accepted = models.IntegerField(db_default=0)
    offers_declined = models.IntegerField(db_default=0)
    offers_expired = models.IntegerField(db_default=0)
    shifts_attended = models.IntegerField(db_default=0)
    no_shows = models.IntegerField(db_default=0)
    # Seconds of all the worker's live bookings (booked or attended), ever: an upper bound
    # on their hours over any stretch of weeks, which lets matching's working-time rule pass
    # most workers without reading their bookings (migration 0009's triggers).
    live_seconds = models.BigIntegerField(db_default=0)

    # What each column counts: (table, status, column).
    COUNTED = (
        ("shifts_offer", Offer.Status.ACCEPTED, "offers_accepted"),
        ("shifts_offer", Offer.Status.DECLINED, "offers_declined"),
        ("shifts_offer", Offer.Status.EXPIRED, "offers_expired"),
        ("shifts_booking", Booking.Status.ATTENDED, "shifts_attended"),
        ("shifts_booking", Booking.Status.NO_SHOW, "no_shows"),
    )

    def __str__(self) -> str:
        return f"Record of {self.worker_id}"


class Timesheet(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Clocked in"
        SUBMITTED = "submitted", "Awaiting approval"
        APPROVED = "approved", "Approved"
        CORRECTED = "corrected", "Corrected and approved"
        AUTO_APPROVED = "auto_approved", "Approved automatically"

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="timesheet")
    clock_in = models.DateTimeField()
    clock_out = models.DateTimeField(null=True, blank=True)
    break_minutes = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    correction_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(clock_out__isnull=True) | Q(clock_out__gt=F("clock_in")),
                name="timesheet_out_after_in",
            )
        ]

    @property
    def hours(self) -> Decimal:
        if self.clock_out is None:
            return Decimal("0")
        worked = hours_between(self.clock_in, self.clock_out) - Decimal(self.break_minutes) / 60
        return max(worked, Decimal("0")).quantize(Decimal("0.01"))


class Rating(models.Model):
    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="rating")
    punctuality = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    care = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    skills_as_listed = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(punctuality__range=(1, 5))
                & Q(care__range=(1, 5))
                & Q(skills_as_listed__range=(1, 5)),
                name="rating_1_to_5",
            )
        ]
