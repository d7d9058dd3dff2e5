"""Coordinator forms: they check input; the services in pools.services do the work."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from flexpool.input import Form, ModelForm
from pools.models import Pool, Role, RoleRate
from pools.services import POLICY_FIELDS
from providers.models import Provider, Site


class ReasonForm(Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "Give a reason."},
    )


class OptionalReasonForm(Form):
    reason = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )


class ProviderOnboardForm(Form):
    name = forms.CharField(
        label="Provider name",
        max_length=160,
        error_messages={"required": "Enter the provider's name."},
    )
    size = forms.ChoiceField(label="Size", choices=Provider.Size.choices)
    admin_first_name = forms.CharField(
        label="First name",
        max_length=150,
        error_messages={"required": "Enter the admin's first name."},
    )
    admin_last_name = forms.CharField(
        label="Last name",
        max_length=150,
        error_messages={"required": "Enter the admin's last name."},
    )
    admin_email = forms.EmailField(
        label="E-mail address",
        error_messages={
            "required": "Enter the admin's e-mail address.",
            "invalid": "Enter an e-mail address like name@example.org.",
        },
    )


class SiteForm(Form):
    name = forms.CharField(
        label="Site name", max_length=160, error_messages={"required": "Enter the site's name."}
    )
    cqc_location_id = forms.CharField(
        label="CQC location ID",
        max_length=13,
        help_text="'1-' followed by 9 to 11 digits.",
        error_messages={"required": "Enter the site's CQC location ID."},
    )
    site_type = forms.ChoiceField(label="Type of care", choices=Site.SiteType.choices)
    address = forms.CharField(
        label="Address",
        max_length=255,
        error_messages={"required": "Enter the site's address."},
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=8,
        error_messages={"required": "Enter the site's postcode."},
    )
    parking_notes = forms.CharField(
        label="Parking (workers see this with an offer)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    travel_notes = forms.CharField(
        label="Public transport (workers see this with an offer)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    latitude = forms.FloatField(
        label="Latitude (only if we do not know the postcode)",
        required=False,
        min_value=49.0,
        max_value=61.0,
    )
    longitude = forms.FloatField(
        label="Longitude (only if we do not know the postcode)",
        required=False,
        min_value=-9.0,
        max_value=2.5,
    )


class OptOutForm(Form):
    signed_on = forms.DateField(label="Signed on")


class PoolSettingsForm(ModelForm):
    class Meta:
        model = Pool
        fields = list(POLICY_FIELDS)
        labels = {
            "rest_hours": "Rest between shifts (hours)",
            "default_radius_km": "Default travel radius (km)",
            "first_wave_size": "First wave size (workers)",
            "wave_growth": "Wave growth (times)",
            "wave_interval_minutes": "Minutes between waves",
            "urgent_within_hours": "Urgent when starting within (hours)",
            "offer_ttl_minutes": "An offer lasts (minutes)",
            "escalate_within_hours": "Escalate open shifts starting within (hours)",
            "critical_escalate_within_hours": "Escalate critical shifts starting within (hours)",
            "late_cancellation_hours": "Late cancellation within (hours of the start)",
            "default_weekly_hours_cap": "Default weekly hours cap",
            "opt_out_notice_days": "Notice before a 48-hour opt-out withdrawal takes effect (days)",
            "leaver_retention_days": "Keep a leaver's documents and personal details for (days)",
        }


class RoleRatesForm(Form):
    """A benchmark agency rate and the pool's own hourly cost for every role."""

    def __init__(self, *args: Any, pool: Pool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rates = {r.role_id: r for r in RoleRate.objects.filter(pool=pool)}
        self.roles = list(Role.objects.order_by("name"))
        for role in self.roles:
            current = rates.get(role.pk)
            self.fields[f"agency_{role.slug}"] = forms.DecimalField(
                label=f"{role.name}: agency benchmark (£ an hour)",
                min_value=Decimal("0"),
                max_digits=8,
                decimal_places=2,
                initial=current.benchmark_agency_rate if current else None,
            )
            self.fields[f"cost_{role.slug}"] = forms.DecimalField(
                label=f"{role.name}: pool's own cost (£ an hour)",
                min_value=Decimal("0"),
                max_digits=8,
                decimal_places=2,
                initial=current.pool_hourly_cost if current else None,
            )

    def rates(self) -> list[tuple[Role, Decimal, Decimal]]:
        return [
            (r, self.cleaned_data[f"agency_{r.slug}"], self.cleaned_data[f"cost_{r.slug}"])
            for r in self.roles
        ]


class WidenForm(Form):
    extra_km = forms.DecimalField(
        label="Widen the search by (km)",
        min_value=Decimal("0.5"),
        max_value=Decimal("50"),
        max_digits=4,
        decimal_places=1,
        initial=Decimal("5"),
    )


class DirectOfferForm(Form):
    worker = forms.IntegerField(widget=forms.HiddenInput)
