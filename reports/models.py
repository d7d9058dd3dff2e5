"""What the dashboards read instead of the shift table: figures pre-added by day, week and
month (built by reports.rollups). The tables keep the names they had when they lived in
``pools`` (``db_table``), so moving the models moved no data."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from pools.models import Pool, Role


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
    dashboards and the stats API (see reports.rollups). Two levels share the table: rows
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
        db_table = "pools_shiftrollup"
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
        db_table = "pools_demandrollup"
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
        db_table = "pools_workerrollup"
        indexes = [
            models.Index(fields=["pool", "day"], name="worker_rollup_pool_day"),
            models.Index(fields=["pool", "period", "day"], name="worker_rollup_pool_period_day"),
        ]


class RollupState(models.Model):
    """When each pool's rollups were last rebuilt (shown on the dashboards) and the run of
    days they have counted: a report reads rollups only inside ``covers_from``–``covers_to``;
    the days outside are counted from the shift table before it reads (see
    reports.rollups.rollups_ensure), so a page never shows a partial figure as a whole."""

    pool = models.OneToOneField(Pool, on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField()
    covers_from = models.DateField(null=True, blank=True)
    covers_to = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "pools_rollupstate"


class PoolDayTtf(models.Model):
    """Time-to-fill histogram of all of a pool's filled shifts starting on one day: what
    unfiltered reports read for their percentiles (far fewer rows than ShiftRollup's)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    period = models.CharField(max_length=7, choices=Period.choices, default=Period.DAY)
    ttf_histogram = models.JSONField(default=dict)

    class Meta:
        db_table = "pools_pooldayttf"
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
        db_table = "pools_providerttftodate"
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "month", "provider"], name="one_ttf_to_date_per_provider_month"
            )
        ]


# --- Quarterly workforce returns ------------------------------------------------------------


class WorkforceReturn(models.Model):
    """One provider's workforce return for one calendar quarter (``quarter`` = "2026-Q3").
    Provider-wide figures live here, figures by role in ``ReturnLine``. Money is in whole
    pence. A submitted return is changed only through a correction with a reason, which
    the pool's audit log keeps (reports.services.return_correct)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    class Evidence(models.TextChoices):
        NONE = "", "Not recorded"
        WRITTEN_REQUEST = "written_request", "The worker's written request"
        SURVEY = "survey", "A staff survey"
        SUPERVISION = "supervision", "Recorded in supervision"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.CASCADE, related_name="workforce_returns"
    )
    quarter = models.CharField(max_length=7)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hours_worked = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    agency_hours = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    agency_spend_pence = models.BigIntegerField(default=0)
    lowest_hourly_pay_pence = models.IntegerField(null=True, blank=True)
    sickness_days = models.DecimalField(max_digits=10, decimal_places=1, default=Decimal("0"))
    zero_hours_evidence = models.CharField(
        max_length=20, choices=Evidence.choices, blank=True, default=""
    )
    chased_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "quarter"], name="one_return_per_quarter"),
            models.CheckConstraint(
                condition=models.Q(agency_spend_pence__gte=0, agency_hours__gte=0),
                name="return_agency_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["pool", "quarter"], name="return_pool_quarter")]

    def __str__(self) -> str:
        return f"Workforce return {self.quarter} ({self.provider_id})"


class ReturnLine(models.Model):
    """Headcount figures of one role in a return (FTE beside headcount for posts)."""

    workforce_return = models.ForeignKey(
        WorkforceReturn, on_delete=models.CASCADE, related_name="lines"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    headcount_start = models.PositiveIntegerField(default=0)
    posts = models.PositiveIntegerField(default=0)
    filled = models.PositiveIntegerField(default=0)
    posts_fte = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0"))
    filled_fte = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0"))
    starters = models.PositiveIntegerField(default=0)
    leavers = models.PositiveIntegerField(default=0)
    leavers_to_care = models.PositiveIntegerField(default=0)
    zero_hours = models.PositiveIntegerField(default=0)
    zero_hours_by_choice = models.PositiveIntegerField(default=0)
    qualified_level2 = models.PositiveIntegerField(default=0)
    qualified_level3 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workforce_return", "role"], name="one_line_per_role"),
            models.CheckConstraint(
                condition=models.Q(filled__lte=models.F("posts")), name="filled_within_posts"
            ),
            models.CheckConstraint(
                condition=models.Q(leavers__lte=models.F("headcount_start") + models.F("starters")),
                name="leavers_within_staff",
            ),
        ]


class ReturnReminder(models.Model):
    """A reminder sent for a provider's return (remembered so beat never sends it twice)."""

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="+")
    quarter = models.CharField(max_length=7)
    kind = models.CharField(max_length=20)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "quarter", "kind"], name="one_reminder_per_kind"
            )
        ]


class LivingWageRate(models.Model):
    """The Real Living Wage a pool compares providers' lowest pay with, per calendar year."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    hourly_pence = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "year"], name="one_living_wage_per_year")
        ]


class Benchmark(models.Model):
    """A comparison figure a coordinator entered (region or England) with its source."""

    class Area(models.TextChoices):
        REGION = "region", "Region"
        ENGLAND = "england", "England"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    quarter = models.CharField(max_length=7)
    figure = models.CharField(max_length=40)
    area = models.CharField(max_length=10, choices=Area.choices)
    value = models.DecimalField(max_digits=12, decimal_places=4)
    source = models.CharField(max_length=300)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "quarter", "figure", "area"], name="one_benchmark_per_figure"
            )
        ]


class CommitteeReport(models.Model):
    """The committee report of a pool for a quarter. Once published its figures are stored
    (``figures``, with the definitions version they were computed with) and never change."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    quarter = models.CharField(max_length=7)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    officer_notes = models.TextField(blank=True)
    definitions_version = models.PositiveIntegerField(null=True, blank=True)
    figures = models.JSONField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "quarter"], name="one_report_per_quarter")
        ]
