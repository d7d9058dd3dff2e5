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
