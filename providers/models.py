"""Care providers, their sites (CQC locations), their members, and whom they favour or block."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from pools.models import Pool

cqc_location_id_validator = RegexValidator(
    r"^1-\d{9,11}$", "A CQC location ID is '1-' followed by 9 to 11 digits, e.g. 1-123456789."
)


class Provider(models.Model):
    class Size(models.TextChoices):
        SMALL = "small", "Small"
        MEDIUM = "medium", "Medium"
        LARGE = "large", "Large"

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="providers")
    name = models.CharField(max_length=160)
    size = models.CharField(max_length=10, choices=Size.choices, default=Size.SMALL)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "name"], name="provider_name_unique_in_pool")
        ]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    class SiteType(models.TextChoices):
        RESIDENTIAL = "residential", "Residential (care home)"
        NON_RESIDENTIAL = "non_residential", "Non-residential (home care, supported living)"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=160)
    cqc_location_id = models.CharField(
        "CQC location ID", max_length=13, unique=True, validators=[cqc_location_id_validator]
    )
    site_type = models.CharField(max_length=20, choices=SiteType.choices)
    address = models.CharField(max_length=255)
    postcode = models.CharField(max_length=8)
    district = models.CharField(max_length=4, db_index=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    # Shown to workers with an offer (before they know the street address).
    parking_notes = models.TextField("Parking", blank=True)
    travel_notes = models.TextField("Public transport", blank=True)

    class Meta:
        ordering = ["provider__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.district})"


class ProviderMember(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_membership"
    )
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="members")
    is_admin = models.BooleanField(default=False)
    job_title = models.CharField(max_length=80, blank=True)

    def __str__(self) -> str:
        return f"{self.user} at {self.provider}"


class Favourite(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="favourites")
    worker = models.ForeignKey("workers.Worker", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "worker"], name="favourite_once")
        ]


class ProviderBlock(models.Model):
    """A provider asks not to be sent this worker again; coordinators see the reason."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="blocks")
    worker = models.ForeignKey("workers.Worker", on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "worker"], name="provider_block_once")
        ]


class ShiftTemplate(models.Model):
    """A shift a provider posts again and again (site, role, skills, times, how many,
    notes), saved once and posted from in one step with a date."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=80)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey("pools.Role", on_delete=models.PROTECT, related_name="+")
    skills = models.ManyToManyField("pools.Skill", blank=True, related_name="+")
    start_time = models.TimeField()
    end_time = models.TimeField()
    headcount = models.PositiveSmallIntegerField(default=1)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="template_name_per_provider")
        ]

    def __str__(self) -> str:
        return self.name
