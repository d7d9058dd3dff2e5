"""A stored lab run: what was asked (inputs and seed), by which code (the git commit),
and what came out, so a run can be reproduced and compared with another."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from pools.models import Pool


class LabRun(models.Model):
    class Kind(models.TextChoices):
        SIMULATE = "simulate", "Simulation"
        COMPARE = "compare", "Policy what-if"
        RECRUIT = "recruit", "Recruitment moves"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SIMULATE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(default=dict, help_text="Range, policy changes, added workers.")
    seed = models.BigIntegerField(default=0)
    code_version = models.CharField(max_length=64, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.pool})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
