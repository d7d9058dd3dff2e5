"""Posting several requests in one step — the same shift on several dates, or last week's
requests copied to this week. Each request goes through ``shift_post`` (the one way a
shift is posted, with every check); all of them are posted, or none."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from pools.models import Role, Skill
from providers.models import Provider, ShiftTemplate, Site
from shifts.models import ShiftRequest
from shifts.services.posting import shift_post
from workers.models import Worker

LONDON = ZoneInfo("Europe/London")


def _on_day(moment: datetime, day: date) -> datetime:
    """The same London wall-clock time as ``moment`` on ``day`` (DST-safe)."""
    local = moment.astimezone(LONDON)
    return datetime.combine(day, time(local.hour, local.minute), tzinfo=LONDON)


@transaction.atomic
def shifts_post_on_dates(
    *,
    provider: Provider,
    site: Site,
    role: Role,
    skills: Iterable[Skill],
    start: datetime,
    end: datetime,
    dates: Sequence[date],
    headcount: int,
    agency_hourly_rate: Decimal | None = None,
    notes: str = "",
    created_by: User | None = None,
    direct_worker: Worker | None = None,
    is_critical: bool = False,
    critical_reason: str = "",
) -> list[ShiftRequest]:
    """The shift from ``start`` to ``end``, and the same times on each of ``dates``."""
    skills = list(skills)
    length = end - start
    first_day = start.astimezone(LONDON).date()
    posted = []
    for day in [first_day, *sorted(set(dates) - {first_day})]:
        day_start = start if day == first_day else _on_day(start, day)
        day_end = (
            end
            if day == first_day
            else _on_day(day_start + length, (day_start + length).astimezone(LONDON).date())
        )
        try:
            posted.append(
                shift_post(
                    provider=provider,
                    site=site,
                    role=role,
                    skills=skills,
                    start=day_start,
                    end=day_end,
                    headcount=headcount,
                    agency_hourly_rate=agency_hourly_rate,
                    notes=notes,
                    created_by=created_by,
                    direct_worker=direct_worker,
                    is_critical=is_critical,
                    critical_reason=critical_reason,
                )  # fmt: skip
            )
        except ValidationError as exc:
            raise ValidationError(
                {"also_on": [f"{day:%a %d %b}: {m}" for m in exc.messages]}
            ) from exc
    return posted


def provider_week_requests(*, provider: Provider, monday: date) -> list[ShiftRequest]:
    """The provider's requests (not cancelled) starting in the week from ``monday``."""
    start = datetime.combine(monday, time(0), tzinfo=LONDON)
    return list(
        ShiftRequest.objects.filter(
            provider=provider, start__gte=start, start__lt=start + timedelta(days=7)
        )
        .exclude(status=ShiftRequest.Status.CANCELLED)
        .select_related("site", "role")
        .prefetch_related("skills")
        .order_by("start", "pk")
    )


@transaction.atomic
def shifts_copy_week(
    *, provider: Provider, sources: Sequence[ShiftRequest], created_by: User | None
) -> list[ShiftRequest]:
    """Post each chosen request again a week later (same site, role, skills, times,
    headcount, rate and notes). One that would already have started is refused."""
    now = timezone.now()
    posted = []
    for source in sources:
        if source.provider_id != provider.pk:
            raise ValidationError({"shifts": ["Choose your own requests."]})
        local_start = source.start.astimezone(LONDON)
        new_start = _on_day(source.start, local_start.date() + timedelta(days=7))
        local_end = source.end.astimezone(LONDON)
        new_end = _on_day(source.end, local_end.date() + timedelta(days=7))
        if new_start <= now:
            raise ValidationError(
                {"shifts": [f"{local_start:%a %d %b %H:%M} a week on has already started."]}
            )
        posted.append(
            shift_post(
                provider=provider,
                site=source.site,
                role=source.role,
                skills=list(source.skills.all()),
                start=new_start,
                end=new_end,
                headcount=source.headcount,
                agency_hourly_rate=source.agency_hourly_rate,
                notes=source.notes,
                created_by=created_by,
            )  # fmt: skip
        )
    return posted


def shift_post_from_template(
    *, template: ShiftTemplate, day: date, created_by: User | None
) -> ShiftRequest:
    """Post the template's shift on ``day`` (an end at or before the start is the next
    morning, as on the form)."""
    start = datetime.combine(day, template.start_time, tzinfo=LONDON)
    end_day = day + timedelta(days=1) if template.end_time <= template.start_time else day
    return shift_post(
        provider=template.provider, site=template.site, role=template.role,
        skills=list(template.skills.all()), start=start,
        end=datetime.combine(end_day, template.end_time, tzinfo=LONDON),
        headcount=template.headcount, notes=template.notes, created_by=created_by,
    )  # fmt: skip
