"""The dashboards' filter: a date range (two years at most) and optional pool, provider,
role and type of care."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from flexpool.input import Form
from pools.models import Pool, Role
from providers.models import Provider, Site

MAX_RANGE_DAYS = 731


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last 12 full weeks plus this week so far."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=12), today


def standard_ranges(today: date | None = None) -> dict[str, tuple[date, date]]:
    """The ranges the dashboards offer as one-click links, by label: beat computes each
    pool's pages for these right after every rollup refresh (reports.dashboards)."""
    today = today or timezone.localdate()
    return {
        "Last 13 weeks": default_range(today),
        "Last 12 months": (today - timedelta(days=365), today),
        "Last 2 years": (today - timedelta(days=730), today),
    }


class DashboardFilterForm(Form):
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    pool = forms.ChoiceField(label="Pool", required=False)
    provider = forms.ChoiceField(label="Provider", required=False)
    role = forms.ChoiceField(label="Role", required=False)
    site_type = forms.ChoiceField(
        label="Type of care", required=False, choices=[("", "All")] + list(Site.SiteType.choices)
    )

    def __init__(self, *args: Any, pools: list[Pool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pools = pools
        choices: dict[str, list[tuple[str, str]]] = {
            "pool": ([("", "All my pools")] if len(pools) > 1 else [])
            + [(str(p.pk), p.name) for p in pools],
            "provider": [("", "All")]
            + [
                (str(pk), name)
                for pk, name in Provider.objects.filter(pool__in=pools)
                .order_by("name")
                .values_list("pk", "name")
            ],
            "role": [("", "All")]
            + [
                (str(pk), name)
                for pk, name in Role.objects.order_by("name").values_list("pk", "name")
            ],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = default_range()
        data["start"] = data.get("start") or start
        data["end"] = data.get("end") or end
        if data["end"] < data["start"]:
            self.add_error("end", "The end date must be on or after the start date.")
        elif (data["end"] - data["start"]).days > MAX_RANGE_DAYS:
            self.add_error("end", "Choose a range of two years or less.")
        return data
