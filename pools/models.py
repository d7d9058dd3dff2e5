"""Pools (boroughs), what their work is made of (roles, skills, document types), the
pool's policy that matching and reports use, its coordinators and its audit log."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Pool(models.Model):
    """A borough's flex pool. Its policy fields are the rules matching applies; they are
    the pool's to set, not constants in code."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    neighbours = models.ManyToManyField("self", blank=True, symmetrical=True)

    # Working Time Regulations: 11 hours' rest in each 24 (a pool may ask for more).
    rest_hours = models.PositiveSmallIntegerField(
        default=11, validators=[MinValueValidator(11), MaxValueValidator(24)]
    )
    default_radius_km = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("200"))],
    )
    first_wave_size = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    wave_growth = models.PositiveSmallIntegerField(
        default=2,
        help_text="Each later wave offers to this many times as many workers.",
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    wave_interval_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    urgent_within_hours = models.PositiveSmallIntegerField(
        default=2,
        help_text="A shift starting within this many hours goes to everyone eligible at once.",
        validators=[MaxValueValidator(72)],
    )
    offer_ttl_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)]
    )
    escalate_within_hours = models.PositiveSmallIntegerField(
        default=6,
        help_text="An open shift starting within this many hours is escalated to coordinators.",
        validators=[MaxValueValidator(168)],
    )
    critical_escalate_within_hours = models.PositiveSmallIntegerField(
        default=12, validators=[MaxValueValidator(168)]
    )
    late_cancellation_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MaxValueValidator(168)]
    )
    default_weekly_hours_cap = models.PositiveSmallIntegerField(
        default=48, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DocumentType(models.Model):
    """A pre-employment check or training a worker must hold (CQC Regulation 19)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    expires = models.BooleanField(default=True)
    required_for_all = models.BooleanField(
        default=False, help_text="Every worker needs it, whatever the role or shift."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    required_documents = models.ManyToManyField(DocumentType, blank=True, related_name="roles")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    required_documents = models.ManyToManyField(DocumentType, blank=True, related_name="skills")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleRate(models.Model):
    """What an hour of a role costs: the agency benchmark (for 'spend avoided') and the
    pool's own cost (workers are paid by the pool)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="role_rates")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+")
    benchmark_agency_rate = models.DecimalField(max_digits=8, decimal_places=2)
    pool_hourly_cost = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "role"], name="one_rate_per_pool_role"),
            models.CheckConstraint(
                condition=Q(benchmark_agency_rate__gte=0) & Q(pool_hourly_cost__gte=0),
                name="role_rate_not_negative",
            ),
        ]


class Coordinator(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinator"
    )
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="coordinators")
    is_regional = models.BooleanField(default=False, help_text="May see the region view.")

    def __str__(self) -> str:
        return f"{self.user} ({self.pool})"


class AuditEntry(models.Model):
    """Who did what, when and why. Rows are only ever added (see ``audit_record``)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60)
    target_id = models.BigIntegerField()
    target_label = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class DocumentReminder(models.Model):
    """A reminder already sent to a worker that a document is about to expire, so the
    daily task never sends the same reminder twice (one per document, expiry date and
    threshold: 90, 60, 30 days)."""

    document = models.ForeignKey("workers.Document", on_delete=models.CASCADE, related_name="+")
    expires_on = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "expires_on", "days_before"], name="one_reminder_per_threshold"
            )
        ]


class Period(models.TextChoices):
    """How many days a rollup row adds up: one day, a week from its Monday or a month from
    its first day (``day`` is the first day covered). Long ranges read the coarse rows for
    the weeks or months they cover whole and daily rows for the ragged edges."""

    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    # ShiftRollup only, rows adding up every provider: time-to-fill histogram of every shift
    # from the pool's first day to the end of the month ``day`` starts (other columns 0).
    TO_DATE = "to_date", "Running total to the month's end"


class ShiftRollup(models.Model):
    """Pre-added figures of the shift requests starting (UK time) on one day, for the
    dashboards and the stats API (see pools.rollups). Two levels share the table: rows
    with a provider, and rows with ``provider`` empty that add up every provider, so a
    report without a provider filter reads a few rows a day instead of hundreds."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    period = models.CharField(max_length=7, choices=Period.choices, default=Period.DAY)
    provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+")
    site_type = models.CharField(max_length=20)

    shifts_requested = models.IntegerField(default=0)
    places_requested = models.IntegerField(default=0)
    minutes_requested = models.BigIntegerField(default=0)
    shifts_filled = models.IntegerField(default=0)
    places_filled = models.IntegerField(default=0)
    minutes_filled = models.BigIntegerField(default=0)
    places_unfilled = models.IntegerField(default=0)
    minutes_unfilled = models.BigIntegerField(default=0)
    places_to_agency = models.IntegerField(default=0)
    minutes_to_agency = models.BigIntegerField(default=0)
    spend_minutes = models.DecimalField(max_digits=20, decimal_places=2, default=Decimal("0"))
    ttf_histogram = models.JSONField(
        default=dict, help_text="Minutes to fill → number of filled shifts (exact, whole minutes)."
    )
    requests_withdrawn = models.IntegerField(default=0)
    bookings = models.IntegerField(default=0)
    cancelled_by_worker = models.IntegerField(default=0)
    cancelled_by_provider = models.IntegerField(default=0)
    cancelled_by_pool = models.IntegerField(default=0)
    late_by_worker = models.IntegerField(default=0)
    late_by_provider = models.IntegerField(default=0)
    turned_away = models.IntegerField(default=0)
    no_shows = models.IntegerField(default=0)
    timesheets_reviewed = models.IntegerField(default=0)
    timesheets_auto_approved = models.IntegerField(default=0)
    approval_lag_minutes = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["pool", "provider", "day"], name="rollup_pool_provider_day"),
            # Reports by provider read every provider's rows for a span of days.
            models.Index(fields=["pool", "day"], name="rollup_pool_day"),
            # Long ranges read a few week or month rows and the daily rows at the edges.
            models.Index(fields=["pool", "period", "day"], name="rollup_pool_period_day"),
        ]


class DemandRollup(models.Model):
    """Unfilled places and hours of one day's shift requests by skill, postcode district
    or time-of-day band (same two levels as ShiftRollup)."""

    class Dimension(models.TextChoices):
        SKILL = "skill", "Skill"
        DISTRICT = "district", "District"
        BAND = "band", "Time of day"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+")
    site_type = models.CharField(max_length=20)
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.CharField(max_length=80)
    places = models.IntegerField(default=0)
    minutes = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["pool", "provider", "dimension", "day"], name="demand_pool_dim_day"
            )
        ]


class WorkerRollup(models.Model):
    """Booked-and-not-cancelled minutes a worker has on shifts starting on one day."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    period = models.CharField(max_length=7, choices=Period.choices, default=Period.DAY)
    worker = models.ForeignKey("workers.Worker", on_delete=models.CASCADE, related_name="+")
    minutes = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["pool", "day"], name="worker_rollup_pool_day"),
            models.Index(fields=["pool", "period", "day"], name="worker_rollup_pool_period_day"),
        ]


class RollupState(models.Model):
    """When each pool's rollups were last rebuilt (shown on the dashboards)."""

    pool = models.OneToOneField(Pool, on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField()


class PoolDayTtf(models.Model):
    """Time-to-fill histogram of all of a pool's filled shifts starting on one day: what
    unfiltered reports read for their percentiles (far fewer rows than ShiftRollup's)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    period = models.CharField(max_length=7, choices=Period.choices, default=Period.DAY)
    ttf_histogram = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "period", "day"], name="one_ttf_row_per_pool_period_day"
            )
        ]


class ProviderTtfToDate(models.Model):
    """Time-to-fill histogram of every filled shift of a provider starting on or before
    the last day of ``month`` (a running total, one row per provider and month from the
    pool's first month). Two rows subtracted give any run of whole months, so percentiles
    by provider over years read two rows per provider, not one per month."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month the running total ends with.")
    ttf_histogram = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "month", "provider"], name="one_ttf_to_date_per_provider_month"
            )
        ]
