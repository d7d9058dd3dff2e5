"""The Matching lab's forms: one per kind of run, each checked before anything is queued."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from flexpool.input import Form
from lab.models import LabRun
from lab.simulator import POLICY_LIMITS, ScenarioError, workers_parse

MAX_DAYS = 120
ALTERNATIVES = 2
# Form field -> pool policy name, label
POLICY_INPUTS = [
    ("wave_size", "first_wave_size", "First wave size"),
    ("wave_interval", "wave_interval_minutes", "Minutes between waves"),
    ("offer_ttl", "offer_ttl_minutes", "Offer lifetime, minutes"),
    ("radius", "default_radius_km", "Default travel radius, km"),
]


def _policy_field(name: str, label: str) -> forms.Field:
    low, high = POLICY_LIMITS[name]
    if name == "default_radius_km":
        return forms.DecimalField(
            label=label, required=False, min_value=Decimal(str(low)), max_value=Decimal(high),
            decimal_places=1,
        )  # fmt: skip
    return forms.IntegerField(label=label, required=False, min_value=int(low), max_value=int(high))


class RunForm(Form):
    """``kind`` decides which fields count: the policy alternatives for a what-if, the
    recruits for a recruitment what-if, the number of moves for the ranked list."""

    start = forms.DateField(label="From", help_text="For example, 2026-10-01")
    end = forms.DateField(label="To (inclusive)", help_text="Before today")
    seed = forms.IntegerField(
        label="Seed", initial=0, min_value=0, max_value=2**31 - 1,
        help_text="The same seed and inputs give the same figures.",
    )  # fmt: skip
    add_workers = forms.CharField(
        label="Workers to add, one group a line",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A count, a role, any skills and a postcode district, "
        "like: 10 senior-carer medication M26",
    )
    moves = forms.IntegerField(
        label="Moves to measure", initial=3, min_value=1, max_value=10, required=False,
        help_text="Each is a batch of 5 workers, measured by its own simulation.",
    )  # fmt: skip

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == LabRun.Kind.COMPARE:
            for i in range(1, ALTERNATIVES + 1):
                for field, policy, label in POLICY_INPUTS:
                    self.fields[f"alt{i}_{field}"] = _policy_field(
                        policy, f"Alternative {i}: {label.lower()}"
                    )
        if kind != LabRun.Kind.SIMULATE:
            del self.fields["add_workers"]
        if kind != LabRun.Kind.RECRUIT:
            del self.fields["moves"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end must be on or after the start.")
            elif end >= timezone.localdate():
                self.add_error("end", "Choose a day before today: the lab replays history.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", f"Choose at most {MAX_DAYS} days.")
        if self.kind == LabRun.Kind.SIMULATE:
            lines = [x.strip() for x in (data.get("add_workers") or "").splitlines() if x.strip()]
            try:
                workers_parse(lines)
            except ScenarioError as exc:
                self.add_error("add_workers", str(exc))
            if not lines:
                self.add_error("add_workers", "Enter at least one group of workers to add.")
            data["add_workers"] = lines
        if self.kind == LabRun.Kind.COMPARE:
            policies = self.policies()
            if not any(policies):
                self.add_error(None, "Enter at least one setting for an alternative.")
        return data

    def policies(self) -> list[dict[str, Any]]:
        data = getattr(self, "cleaned_data", {})
        out = []
        for i in range(1, ALTERNATIVES + 1):
            policy = {}
            for field, name, _label in POLICY_INPUTS:
                value = data.get(f"alt{i}_{field}")
                if value is not None:
                    policy[name] = float(value) if isinstance(value, Decimal) else value
            out.append(policy)
        return out

    def inputs(self) -> dict[str, Any]:
        data = self.cleaned_data
        inputs: dict[str, Any] = {"from": data["start"].isoformat(), "to": data["end"].isoformat()}
        if self.kind == LabRun.Kind.COMPARE:
            inputs["policies"] = [p for p in self.policies() if p]
        if self.kind == LabRun.Kind.SIMULATE:
            inputs["add_workers"] = data["add_workers"]
        if self.kind == LabRun.Kind.RECRUIT:
            inputs["moves"] = data.get("moves") or 3
        return inputs


def default_range() -> tuple[date, date]:
    end = timezone.localdate() - timedelta(days=1)
    return end - timedelta(days=13), end
