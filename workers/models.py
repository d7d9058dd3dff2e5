"""Flex workers: profile, roles and skills, where they live and how far they travel,
availability, vetting status and compliance documents."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from pools.models import DocumentType, Pool, Role, Skill

WORKING_TIME_LIMIT_HOURS = 48  # a week, averaged over the reference period
WORKING_TIME_REFERENCE_WEEKS = 17


def working_time_opted_out(
    *, signed_on: date | None, withdrawn_on: date | None, notice_days: int, day: date
) -> bool:
    """An opt-out holds from the day it was signed until ``notice_days`` after it was
    withdrawn (the notice the pool sets, at most three months under the Regulations)."""
    if signed_on is None or signed_on > day:
        return False
    return withdrawn_on is None or day < withdrawn_on + timedelta(days=notice_days)


class Worker(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        DOCUMENTS_SUBMITTED = "documents_submitted", "Documents submitted"
        CHECKS = "checks", "Checks in progress"
        APPROVED = "approved", "Approved"
        SUSPENDED = "suspended", "Suspended"
        LEFT = "left", "Left"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="worker",
    )
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="workers")
    extra_pools = models.ManyToManyField(
        Pool,
        blank=True,
        related_name="visiting_workers",
        help_text="Neighbouring pools the worker has opted in to.",
    )
    display_name = models.CharField(max_length=120)
    phone = models.CharField(max_length=20, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    district = models.CharField(max_length=4, blank=True, db_index=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    travel_radius_km = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(200)],
        help_text="Empty means the pool's default radius.",
    )
    drives = models.BooleanField(default=False)
    roles = models.ManyToManyField(Role, blank=True, related_name="workers")
    skills = models.ManyToManyField(Skill, blank=True, related_name="workers")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.APPLIED, db_index=True
    )
    weekly_hours_cap = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Empty means the pool's default weekly hours cap.",
    )
    # The Working Time Regulations 1998 opt-out from the 48-hour average week: signed in
    # writing on a date; a withdrawal takes effect after the pool's notice period.
    opt_out_signed_on = models.DateField(null=True, blank=True)
    opt_out_withdrawn_on = models.DateField(null=True, blank=True)
    ready_now_until = models.DateTimeField(null=True, blank=True)
    calendar_token = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="Secret in the worker's private calendar feed URL; reset to revoke it.",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the worker left (closed their account, or a coordinator marked them left), and
    # when their personal data was erased: at once on closing, else after the pool's
    # ``leaver_retention_days`` (``pools.services.workers_erase_after_retention``).
    left_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        indexes = [
            models.Index(fields=["pool", "status"]),
            # Matching's distance box (shifts.matching.rules._distance_box): the workers
            # living in a box around a site, and the largest personal radius, which sizes it.
            models.Index(fields=["latitude", "longitude"], name="worker_home"),
            models.Index(fields=["travel_radius_km"], name="worker_radius"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_vetted(self) -> bool:
        return self.status == self.Status.APPROVED

    def is_opted_out_on(self, day: date) -> bool:
        """Whether the worker's written opt-out from the 48-hour average week holds on
        ``day`` (see ``working_time_opted_out``)."""
        return working_time_opted_out(
            signed_on=self.opt_out_signed_on,
            withdrawn_on=self.opt_out_withdrawn_on,
            notice_days=self.pool.opt_out_notice_days,
            day=day,
        )

    def is_ready_now(self, at: datetime) -> bool:
        return self.ready_now_until is not None and self.ready_now_until > at


class DocumentQuerySet(models.QuerySet["Document"]):
    def valid_between(self, first_day: date, last_day: date) -> Self:
        """Approved, issued by ``first_day`` and (if it expires) still in date on the whole of
        ``last_day``: valid from a shift's first day to its last. The one definition of a
        document being valid for work; ``Document.is_valid_on`` is its one-day case."""
        return self.filter(status=Document.Status.APPROVED, issued_on__lte=first_day).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gt=last_day)
        )


class Document(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    reference = models.CharField(max_length=60, blank=True, help_text="e.g. DBS certificate number")
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    rejection_reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["doc_type__name", "-issued_on"]
        indexes = [models.Index(fields=["doc_type", "status", "expires_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("issued_on")),
                name="document_expires_after_issue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.doc_type} for {self.worker}"

    def is_valid_on(self, day: date) -> bool:
        """Approved, and (if it expires) still in date on ``day``, the whole of that day
        (``DocumentQuerySet.valid_between`` in Python, for a document already loaded)."""
        return self.is_valid_between(day, day)

    def is_valid_between(self, first_day: date, last_day: date) -> bool:
        if self.status != self.Status.APPROVED or self.issued_on > first_day:
            return False
        return self.expires_on is None or self.expires_on > last_day


class AvailabilityRule(models.Model):
    """A weekly pattern: on ``weekday`` the worker is free from ``start_minute`` to
    ``end_minute`` (minutes after local midnight; 1440 is the end of the day)."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])
    start_minute = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(1439)])
    end_minute = models.PositiveSmallIntegerField(
        default=1440, validators=[MaxValueValidator(1440)]
    )

    class Meta:
        ordering = ["weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="weekday_0_to_6"),
            models.CheckConstraint(
                condition=Q(end_minute__gt=models.F("start_minute")) & Q(end_minute__lte=1440),
                name="availability_end_after_start",
            ),
        ]

    @property
    def start_time(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)

    @property
    def end_time(self) -> time:
        if self.end_minute >= 1440:
            return time(23, 59)
        return time(self.end_minute // 60, self.end_minute % 60)


class AvailabilityException(models.Model):
    """A one-off date: available (extra hours) or unavailable (the whole day or part)."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="exceptions")
    day = models.DateField()
    available = models.BooleanField()
    start_minute = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(1439)])
    end_minute = models.PositiveSmallIntegerField(
        default=1440, validators=[MaxValueValidator(1440)]
    )

    class Meta:
        ordering = ["day", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_minute__gt=models.F("start_minute")) & Q(end_minute__lte=1440),
                name="exception_end_after_start",
            ),
        ]

    @property
    def span(self) -> timedelta:
        return timedelta(minutes=self.end_minute - self.start_minute)


class WorkerBlock(models.Model):
    """A worker asks not to be offered shifts at this provider."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="provider_blocks")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["worker", "provider"], name="worker_block_once")
        ]


class BookingReminder(models.Model):
    """A reminder sent before a booked shift, remembered so each goes once only."""

    class Kind(models.TextChoices):
        DAY_BEFORE = "day_before", "The day before"
        TWO_HOURS = "two_hours", "Two hours before"

    booking = models.ForeignKey("shifts.Booking", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "kind"], name="booking_reminder_once")
        ]
