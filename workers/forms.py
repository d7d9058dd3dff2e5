"""Forms for the worker's pages: they check and convert input, then views call services."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from flexpool.input import Form
from geo.services import UnknownPostcode, postcode_locate
from pools.models import DocumentType, Pool, Role, Skill
from workers.models import Worker
from workers.services import AVAILABILITY_PRESETS, document_file_check


class ProfileForm(Form):
    display_name = forms.CharField(
        label="Full name",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    phone = forms.RegexField(
        label="Mobile phone number",
        regex=r"^\+?[0-9 ()-]{10,20}$",
        max_length=20,
        error_messages={"invalid": "Enter a phone number, like 07700 900 982."},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        help_text="For text messages about shifts, if you want them.",
    )
    postcode = forms.CharField(
        label="Home postcode",
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "class": "govuk-input--width-10"}
        ),
        help_text="We use it to work out how far shifts are from you. Providers never see it.",
    )
    travel_radius_km = forms.DecimalField(
        label="How far will you travel, in kilometres?",
        required=False,
        min_value=Decimal("1"),
        max_value=Decimal("200"),
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-4"}),
        help_text="Leave empty to use the pool's usual distance.",
    )
    drives = forms.TypedChoiceField(
        label="Do you drive and have a car for work?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    roles = forms.ModelMultipleChoiceField(
        label="Which roles can you work in?",
        queryset=Role.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one role."},
    )
    skills = forms.ModelMultipleChoiceField(
        label="Skills",
        queryset=Skill.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. You will be asked for training certificates.",
    )
    weekly_hours_cap = forms.IntegerField(
        label="Most hours you want to work in a week",
        help_text=(
            "Leave empty for the pool's usual limit. More than 48 needs a signed opt-out "
            "from the 48-hour week."
        ),
        required=False,
        min_value=1,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
    )
    extra_pools = forms.ModelMultipleChoiceField(
        label="Neighbouring pools you would also work for",
        queryset=Pool.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, worker: Worker | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extra_pools = self.fields["extra_pools"]
        assert isinstance(extra_pools, forms.ModelMultipleChoiceField)
        if worker is None or not worker.pool.neighbours.exists():
            # An applicant's pool follows from their postcode; neighbours come later.
            del self.fields["extra_pools"]
        else:
            extra_pools.queryset = worker.pool.neighbours.order_by("name")

    @classmethod
    def initial_for(cls, worker: Worker) -> dict[str, object]:
        return {
            "display_name": worker.display_name,
            "phone": worker.phone,
            "postcode": worker.postcode,
            "travel_radius_km": worker.travel_radius_km,
            "drives": "yes" if worker.drives else "no",
            "roles": list(worker.roles.all()),
            "skills": list(worker.skills.all()),
            "weekly_hours_cap": worker.weekly_hours_cap,
            "extra_pools": list(worker.extra_pools.all()),
        }

    def clean_postcode(self) -> str:
        raw: str = self.cleaned_data["postcode"]
        try:
            self.location = postcode_locate(raw)
        except UnknownPostcode as exc:
            raise ValidationError(exc.message) from None
        return self.location.postcode


class DocumentRowForm(Form):
    """One outstanding document on the documents page; a row without a file is left out."""

    file = forms.FileField(
        label="File",
        required=False,
        help_text="PDF, JPG or PNG, smaller than 5 MB. A clear photo is fine.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    reference = forms.CharField(label="Reference number (optional)", required=False, max_length=60)
    issued_on = forms.DateField(
        label="Date issued", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    expires_on = forms.DateField(
        label="Expiry date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, doc_type: DocumentType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.doc_type = doc_type
        if not doc_type.expires:
            del self.fields["expires_on"]

    @property
    def filled(self) -> bool:
        return bool(self.is_bound and self.files.get(self.add_prefix("file")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if not upload:
            return data
        try:
            document_file_check(file=upload)
        except ValidationError as exc:
            self.add_error("file", ValidationError(exc.message_dict["file"]))
        if data.get("issued_on") is None and "issued_on" not in self.errors:
            self.add_error("issued_on", f"Enter the date your {self.doc_type.name} was issued.")
        return data


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def _minutes(value: time | None, *, end: bool = False) -> int:
    if value is None:
        return 1440 if end else 0
    minutes = value.hour * 60 + value.minute
    # "Until 00:00" means until midnight, the end of the day.
    return 1440 if end and minutes == 0 else minutes


class _TimeSpanForm(Form):
    """A part of one day: both times empty means the whole day; "until 00:00" means midnight.
    ``cleaned_data`` gains ``start_minute`` and ``end_minute``."""

    start = forms.TimeField(
        label="From", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label="Until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Leave both empty for the whole day.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["start_minute"] = _minutes(data.get("start"))
        data["end_minute"] = _minutes(data.get("end"), end=True)
        if data["end_minute"] <= data["start_minute"]:
            self.add_error("end", "The end time must be after the start time.")
        return data


class AvailabilityRuleForm(_TimeSpanForm):
    weekday = forms.TypedChoiceField(label="Day", choices=WEEKDAYS, coerce=int)
    field_order = ["weekday", "start", "end"]


class AvailabilityExceptionForm(_TimeSpanForm):
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    available = forms.TypedChoiceField(
        label="On that date",
        choices=[("no", "I cannot work"), ("yes", "I can work")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    field_order = ["day", "available", "start", "end"]


class AvailabilityPresetForm(Form):
    preset = forms.ChoiceField(
        label="Choose a pattern",
        choices=[(key, label) for key, (label, _spans) in AVAILABILITY_PRESETS.items()],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a pattern."},
    )


class ReadyNowForm(Form):
    hours = forms.TypedChoiceField(
        label="I can start work now, for the next",
        choices=[(2, "2 hours"), (4, "4 hours"), (8, "8 hours"), (0, "Switch off")],
        coerce=int,
        widget=forms.RadioSelect,
    )


class DeclineForm(Form):
    reason = forms.ChoiceField(
        label="Why are you declining? (optional)",
        required=False,
        choices=[
            ("", "Rather not say"),
            ("Not available then", "Not available then"),
            ("Too far to travel", "Too far to travel"),
            ("Not the right role or skills for me", "Not the right role or skills for me"),
            ("Other", "Other"),
        ],
        widget=forms.RadioSelect,
    )


class CancelBookingForm(Form):
    reason = forms.CharField(
        label="Why are you cancelling?",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why you are cancelling."},
    )


class ClockOutForm(Form):
    break_minutes = forms.IntegerField(
        label="Unpaid break, in minutes",
        min_value=0,
        max_value=600,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
    )


class PreferencesForm(Form):
    email = forms.BooleanField(label="E-mail", required=False)
    sms = forms.BooleanField(label="Text message (SMS)", required=False)
    quiet_start = forms.TimeField(
        label="Quiet from", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_end = forms.TimeField(
        label="Quiet until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Messages that arrive in your quiet hours wait until they end.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            self.add_error("quiet_end", "Enter both times, or neither.")
        return data


class CloseAccountForm(Form):
    confirm = forms.BooleanField(
        label="I understand my account and personal details will be deleted",
        error_messages={"required": "Confirm that you want to close your account."},
    )
