"""Forms for provider pages. They turn what a manager types into the arguments of a
service; the rules themselves live in the services."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from flexpool.input import Form
from pools.models import Role, Skill
from providers.models import Favourite, Provider, Site
from shifts.models import ShiftRequest
from workers.models import Worker

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")

TEXT = {"class": "govuk-input"}


def london_datetime(day: date, at: time) -> datetime | None:
    """``day`` at wall-clock ``at`` in London as an aware UTC datetime, or None when that
    time does not exist (the hour the clocks go forward). In the hour the clocks go back,
    the first (summer-time) occurrence is meant."""
    local = datetime.combine(day, at).replace(tzinfo=LONDON, fold=0)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return as_utc


def shift_span(day: date, start: time, end: time) -> tuple[datetime | None, datetime | None]:
    """Start and end of a shift from a date and two wall-clock times. An end earlier than the
    start means the next morning (a night shift)."""
    end_day = day + timedelta(days=1) if end <= start else day
    return london_datetime(day, start), london_datetime(end_day, end)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(attrs={"class": "govuk-input govuk-input--width-10"}, format="%Y-%m-%d")


class GovukDateWidget(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes (never the browser's own picker,
    which shows the user's locale order, e.g. mm/dd/yyyy). A single ISO ``name`` value
    is read too, for scripts that post ``2026-12-01``."""

    template_name = "django/forms/widgets/multiwidget.html"

    def __init__(self) -> None:
        def box(width: str) -> forms.TextInput:
            return forms.TextInput(
                attrs={"class": f"govuk-input govuk-date-input__input govuk-input--width-{width}",
                       "inputmode": "numeric"}
            )  # fmt: skip

        super().__init__({"day": box("2"), "month": box("2"), "year": box("4")})

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        parts = super().value_from_datadict(data, files, name)
        if not any(parts) and data.get(name):
            try:
                day = date.fromisoformat(str(data.get(name)))
            except ValueError:
                return ["", "", str(data.get(name))]
            return [str(day.day), str(day.month), str(day.year)]
        return parts


class GovukDateField(forms.MultiValueField):
    """A date in three fields, with the GOV.UK pattern's error messages."""

    widget = GovukDateWidget

    def __init__(self, **kwargs: Any) -> None:
        fields = tuple(forms.CharField(required=False) for _ in range(3))
        kwargs.setdefault("error_messages", {})
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[str]) -> date | None:
        if not data_list or not any(data_list):
            return None
        day, month, year = (str(v or "").strip() for v in data_list)
        missing = [n for n, v in (("day", day), ("month", month), ("year", year)) if not v]
        if missing:
            raise forms.ValidationError(f"The date must include a {' and a '.join(missing)}.")
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise forms.ValidationError("The date must be a real date, like 27 3 2026.")
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError("The date must be a real date, like 27 3 2026.") from None


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(attrs={"class": "govuk-input govuk-input--width-10"}, format="%H:%M")


class ShiftFieldsForm(Form):
    """Role, skills, when, how many, notes and the agency rate: shared by post and edit."""

    role = forms.ModelChoiceField(
        queryset=Role.objects.order_by("name"),
        empty_label=None,
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only workers with every skill you tick will be offered the shift.",
    )
    date = GovukDateField(
        help_text="The day the shift starts. For example, 27 3 2026.",
        error_messages={"required": "Enter the date the shift starts."},
    )
    start_time = forms.TimeField(
        label="Start time",
        widget=TimeInput(),
        help_text="For example, 07:30 for half past seven in the morning.",
    )
    end_time = forms.TimeField(
        label="End time",
        widget=TimeInput(),
        help_text="An end earlier than the start means the next morning (a night shift).",
    )
    headcount = forms.IntegerField(
        label="How many workers",
        min_value=1,
        max_value=50,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-3"}),
        error_messages={
            "min_value": "Ask for at least 1 worker.",
            "max_value": "Ask for at most 50 workers; post another request for more.",
            "required": "Enter how many workers you need.",
        },
    )
    agency_hourly_rate = forms.DecimalField(
        label="Agency hourly rate you would otherwise pay (£)",
        required=False,
        min_value=Decimal("0"),
        max_digits=8,
        decimal_places=2,
        help_text="Pre-filled with the pool's benchmark for the role. Leave empty to use it.",
        widget=forms.TextInput(
            attrs={"class": "govuk-input govuk-input--width-5", "inputmode": "decimal"}
        ),
    )
    notes = forms.CharField(
        label="Notes for workers",
        required=False,
        max_length=2000,
        help_text="Workers see these with the offer. For example, where to report, the "
        "residents' needs. Do not write the address: workers get it once booked.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, start_t, end_t = data.get("date"), data.get("start_time"), data.get("end_time")
        if day is None or start_t is None or end_t is None:
            return data
        if start_t == end_t:
            self.add_error("end_time", "The end time must be different from the start time.")
            return data
        start, end = shift_span(day, start_t, end_t)
        if start is None:
            self.add_error(
                "start_time",
                f"{start_t:%H:%M} does not exist on {day:%d %B %Y}: the clocks go forward. "
                "Choose a time an hour later.",
            )
        if end is None:
            self.add_error(
                "end_time",
                f"{end_t:%H:%M} does not exist that night: the clocks go forward. "
                "Choose a time an hour later.",
            )
        data["start"], data["end"] = start, end
        return data


class FavouriteChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} first (a favourite), then the pool"


class ShiftPostForm(ShiftFieldsForm):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(),
        empty_label="Choose a site",
        widget=forms.Select(attrs={"class": "govuk-select"}),
        error_messages={"invalid_choice": "Choose one of your own sites."},
    )
    offer_first = FavouriteChoiceField(
        label="Who should be offered it first?",
        queryset=Worker.objects.none(),
        required=False,
        empty_label="Everyone suitable in the pool, at once",
        widget=forms.RadioSelect,
    )
    is_critical = forms.BooleanField(
        label="This is critical: residents are unsafe without cover",
        required=False,
        help_text="Critical requests reach the pool's coordinators sooner.",
    )
    critical_reason = forms.CharField(
        label="Why is it critical?",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
    )

    also_on = forms.TypedMultipleChoiceField(
        label="Post the same shift on other days too (optional)",
        required=False,
        coerce=date.fromisoformat,
        widget=forms.CheckboxSelectMultiple,
        help_text="Same times, site and role; each day is its own request.",
    )

    field_order = [
        "site", "role", "skills", "date", "start_time", "end_time", "also_on", "headcount",
        "agency_hourly_rate", "notes", "offer_first", "is_critical", "critical_reason",
    ]  # fmt: skip

    def __init__(self, *args: Any, provider: Provider, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ModelChoiceField)
        site_field.queryset = Site.objects.filter(provider=provider).order_by("name")
        if not self.is_bound and site_field.queryset.count() == 1:
            site_field.empty_label = None
        # A queryset, not a list: a post that offers to the pool at once never runs it.
        offer_field = self.fields["offer_first"]
        assert isinstance(offer_field, forms.ModelChoiceField)
        offer_field.queryset = Worker.objects.filter(
            pk__in=Favourite.objects.filter(provider=provider).values("worker_id")
        ).order_by("display_name")
        today = timezone.localdate()
        also = self.fields["also_on"]
        assert isinstance(also, forms.TypedMultipleChoiceField)
        also.choices = [
            ((today + timedelta(days=i)).isoformat(), f"{today + timedelta(days=i):%a %-d %b}")
            for i in range(15)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["direct_worker"] = data.get("offer_first")
        if data.get("is_critical") and not (data.get("critical_reason") or "").strip():
            self.add_error("critical_reason", "Say why the shift is critical.")
        return data


class ShiftEditForm(ShiftFieldsForm):
    def __init__(self, *args: Any, shift: ShiftRequest | None = None, **kwargs: Any) -> None:
        if shift is not None and "initial" not in kwargs:
            kwargs["initial"] = shift_initial(shift)
        super().__init__(*args, **kwargs)


def shift_initial(shift: ShiftRequest, *, day: date | None = None) -> dict[str, Any]:
    """Form values that describe ``shift`` (for editing it, or starting a new one from it)."""
    start = timezone.localtime(shift.start)
    end = timezone.localtime(shift.end)
    return {
        "site": shift.site_id,
        "role": shift.role_id,
        "skills": [s.pk for s in shift.skills.all()],
        "date": day or start.date(),
        "start_time": start.time().replace(second=0, microsecond=0),
        "end_time": end.time().replace(second=0, microsecond=0),
        "headcount": shift.headcount,
        "agency_hourly_rate": shift.agency_hourly_rate,
        "notes": shift.notes,
    }


class CancelForm(Form):
    reason = forms.CharField(
        label="Why are you cancelling? (optional)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
    )


class OutcomeForm(Form):
    outcome = forms.ChoiceField(
        label="What happened to the places we did not fill?",
        choices=[
            (ShiftRequest.Outcome.COVERED_ELSEWHERE.value, "We covered it ourselves"),
            (ShiftRequest.Outcome.AGENCY.value, "It went to an agency"),
        ],
        widget=forms.RadioSelect,
    )


class TimesheetCorrectForm(Form):
    start_time = forms.TimeField(label="Actual start", widget=TimeInput())
    end_time = forms.TimeField(
        label="Actual finish",
        widget=TimeInput(),
        help_text="A finish earlier than the start means the next day.",
    )
    break_minutes = forms.IntegerField(
        label="Unpaid break (minutes)",
        min_value=0,
        max_value=240,
        initial=0,
        widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-3"}),
    )
    note = forms.CharField(
        label="Why are you correcting the hours?",
        help_text="The worker will see this.",
        max_length=1000,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.day = day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start_t, end_t = data.get("start_time"), data.get("end_time")
        if start_t is None or end_t is None:
            return data
        if start_t == end_t:
            self.add_error("end_time", "The finish must be different from the start.")
            return data
        start, end = shift_span(self.day, start_t, end_t)
        if start is None:
            self.add_error("start_time", "That time does not exist: the clocks went forward.")
        if end is None:
            self.add_error("end_time", "That time does not exist: the clocks went forward.")
        data["clock_in"], data["clock_out"] = start, end
        return data


SCORES = [(str(n), str(n)) for n in range(5, 0, -1)]


class RatingForm(Form):
    punctuality = forms.TypedChoiceField(
        label="Punctuality", choices=SCORES, coerce=int, widget=forms.RadioSelect,
        help_text="5 is on time and ready; 1 is very late.",
    )  # fmt: skip
    care = forms.TypedChoiceField(
        label="Quality of care", choices=SCORES, coerce=int, widget=forms.RadioSelect,
        help_text="5 is excellent; 1 is unacceptable.",
    )  # fmt: skip
    skills_as_listed = forms.TypedChoiceField(
        label="Skills as listed", choices=SCORES, coerce=int, widget=forms.RadioSelect,
        help_text="Did they have the skills their profile and the request said? 5 is fully.",
    )  # fmt: skip
    comment = forms.CharField(
        label="Anything else? (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )


class BlockForm(Form):
    reason = forms.CharField(
        label="Why should the pool not send this worker again?",
        help_text="The pool's coordinators read this. Stick to facts.",
        max_length=1000,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 4}),
    )


class InviteForm(Form):
    first_name = forms.CharField(max_length=150, widget=forms.TextInput(attrs=TEXT))
    last_name = forms.CharField(max_length=150, widget=forms.TextInput(attrs=TEXT))
    email = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={**TEXT, "autocomplete": "off", "spellcheck": "false"}),
    )
    job_title = forms.CharField(
        label="Job title (optional)", required=False, max_length=80,
        widget=forms.TextInput(attrs=TEXT),
    )  # fmt: skip
    is_admin = forms.BooleanField(
        label="They can invite and remove colleagues (administrator)", required=False
    )
