"""Pools (boroughs), what their work is made of (roles, skills, document types), the
pool's policy that matching and reports use, its coordinators and its audit log."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Self

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
    distance_unit = models.CharField(
        "Distances shown to workers in",
        max_length=2,
        choices=[("mi", "miles"), ("km", "kilometres")],
        default="mi",
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
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Applies to a worker who has not set their own.",
    )
    opt_out_notice_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(90)],
        help_text="Days after a worker withdraws their 48-hour opt-out before it stops.",
    )
    leaver_retention_days = models.PositiveSmallIntegerField(
        default=183,
        validators=[MinValueValidator(30), MaxValueValidator(2190)],
        help_text=(
            "Days a worker's documents and personal details are kept after they leave, then "
            "deleted. The DBS code of practice asks for certificate information to be kept "
            "no longer than six months unless there is a reason to."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DocumentTypeQuerySet(models.QuerySet["DocumentType"]):
    def needed_for(
        self, *, role_ids: Iterable[int], skill_ids: Iterable[int] | models.QuerySet[Any]
    ) -> Self:
        """The documents work in these roles with these skills needs: those every worker
        needs, and those the roles and skills bring. The one definition matching, the
        provider's view of a booked worker and the worker's own pages share. ``skill_ids``
        may be a queryset of ids (asked as a subquery)."""
        skills = skill_ids if isinstance(skill_ids, models.QuerySet) else list(skill_ids)
        return self.filter(
            Q(required_for_all=True) | Q(roles__in=list(role_ids)) | Q(skills__in=skills)
        ).distinct()


class DocumentType(models.Model):
    """A pre-employment check or training a worker must hold (CQC Regulation 19)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    expires = models.BooleanField(default=True)
    required_for_all = models.BooleanField(
        default=False, help_text="Every worker needs it, whatever the role or shift."
    )

    objects = DocumentTypeQuerySet.as_manager()

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
