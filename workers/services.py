"""Every way a worker's own record changes: applying, profile, documents, availability,
the calendar feed and leaving. Coordinators' vetting lives in ``pools.services``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from geo.services import Location
from pools.models import DocumentType, Pool, Role, Skill
from shifts.models import Booking, Offer
from shifts.services.lifecycle import offers_withdraw_for_worker
from workers.models import (
    WORKING_TIME_LIMIT_HOURS,
    AvailabilityException,
    AvailabilityRule,
    BookingReminder,
    Document,
    Worker,
    working_time_opted_out,
)

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# What a file must start with to be what it says it is.
DOCUMENT_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
READY_NOW_MAX_HOURS = 12


def pool_for_district(*, district: str) -> Pool:
    """The pool with providers in ``district``, else the first pool (Bury, in a fresh install)."""
    pool = Pool.objects.filter(providers__sites__district=district).order_by("pk").first()
    pool = pool or Pool.objects.order_by("pk").first()
    if pool is None:
        raise ValidationError({"postcode": ["There is no flex pool to join yet."]})
    return pool


def _profile_apply(
    worker: Worker,
    *,
    display_name: str,
    phone: str,
    location: Location,
    travel_radius_km: Decimal | None,
    drives: bool,
    weekly_hours_cap: int | None,
) -> None:
    worker.display_name = display_name.strip()
    worker.phone = phone.strip()
    worker.postcode = location.postcode
    worker.district = location.district
    worker.latitude = location.latitude
    worker.longitude = location.longitude
    worker.travel_radius_km = travel_radius_km
    worker.drives = drives
    worker.weekly_hours_cap = weekly_hours_cap_check(worker=worker, cap=weekly_hours_cap)


def weekly_hours_cap_check(
    *, worker: Worker, cap: int | None, today: date | None = None
) -> int | None:
    """A worker may set their own weekly cap (empty: the pool's default), but above 48 hours
    only with a written opt-out from the 48-hour week on record. Raises a field error."""
    if cap is None or cap <= WORKING_TIME_LIMIT_HOURS:
        return cap
    today = today or timezone.localdate()
    opted_out = worker.pk is not None and working_time_opted_out(
        signed_on=worker.opt_out_signed_on,
        withdrawn_on=worker.opt_out_withdrawn_on,
        notice_days=worker.pool.opt_out_notice_days,
        day=today,
    )
    if not opted_out:
        raise ValidationError(
            {
                "weekly_hours_cap": [
                    f"You can set more than {WORKING_TIME_LIMIT_HOURS} hours a week only after "
                    "you have signed the opt-out from the 48-hour week; ask the pool's "
                    "coordinators for the form."
                ]
            }
        )
    return cap


def worker_opt_out_withdraw(*, worker: Worker, today: date | None = None) -> Worker:
    """The worker withdraws their opt-out from the 48-hour week. It keeps holding for the
    pool's notice period, then the 17-week average applies again (and a cap above 48 is
    brought down to 48 from then on by the Working Time rule, whatever the cap says)."""
    if worker.opt_out_signed_on is None or worker.opt_out_withdrawn_on is not None:
        raise ValidationError({"opt_out": ["You have no opt-out to withdraw."]})
    worker.opt_out_withdrawn_on = today or timezone.localdate()
    worker.save(update_fields=["opt_out_withdrawn_on"])
    return worker


@transaction.atomic
def worker_apply(
    *,
    user: User,
    display_name: str,
    phone: str,
    location: Location,
    travel_radius_km: Decimal | None,
    drives: bool,
    roles: Iterable[Role],
    skills: Iterable[Skill],
    weekly_hours_cap: int | None,
    extra_pools: Iterable[Pool] = (),
) -> Worker:
    """Create the applicant's worker record (status *applied*) in the pool for their
    postcode district. A person applies once."""
    if Worker.objects.filter(user=user).exists():
        raise ValidationError({"__all__": ["You have already applied."]})
    pool = pool_for_district(district=location.district)
    return worker_profile_update(
        worker=Worker(user=user, pool=pool, status=Worker.Status.APPLIED),
        display_name=display_name,
        phone=phone,
        location=location,
        travel_radius_km=travel_radius_km,
        drives=drives,
        roles=roles,
        skills=skills,
        weekly_hours_cap=weekly_hours_cap,
        extra_pools=extra_pools,
    )


@transaction.atomic
def worker_profile_update(
    *,
    worker: Worker,
    display_name: str,
    phone: str,
    location: Location,
    travel_radius_km: Decimal | None,
    drives: bool,
    roles: Iterable[Role],
    skills: Iterable[Skill],
    weekly_hours_cap: int | None,
    extra_pools: Iterable[Pool] = (),
) -> Worker:
    _profile_apply(
        worker,
        display_name=display_name,
        phone=phone,
        location=location,
        travel_radius_km=travel_radius_km,
        drives=drives,
        weekly_hours_cap=weekly_hours_cap,
    )
    worker.save()
    worker.roles.set(roles)
    worker.skills.set(skills)
    worker.extra_pools.set([p for p in extra_pools if p.pk != worker.pool_id])
    return worker


def document_file_check(*, file: UploadedFile) -> str:
    """Refuse anything but a PDF, JPEG or PNG of at most 5 MB, judged by its first bytes
    (not its name or the browser's word). Returns the content type."""
    if file.size is None or file.size == 0:
        raise ValidationError({"file": ["The selected file is empty."]})
    if file.size > MAX_DOCUMENT_BYTES:
        raise ValidationError({"file": ["The selected file must be smaller than 5 MB."]})
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    for content_type, signatures in DOCUMENT_SIGNATURES.items():
        if head.startswith(signatures):
            return content_type
    raise ValidationError({"file": ["The selected file must be a PDF, JPG or PNG."]})


@transaction.atomic
def document_upload(
    *,
    worker: Worker,
    doc_type: DocumentType,
    file: UploadedFile,
    issued_on: date,
    expires_on: date | None,
    reference: str = "",
) -> Document:
    """Store a document for review. An applicant's first upload moves them on to
    *documents submitted*."""
    content_type = document_file_check(file=file)
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if issued_on > today:
        errors["issued_on"] = ["The issue date must be today or in the past."]
    if doc_type.expires and expires_on is None:
        errors["expires_on"] = [f"Enter the expiry date of your {doc_type.name.lower()}."]
    if expires_on is not None and expires_on <= issued_on:
        errors["expires_on"] = ["The expiry date must be after the issue date."]
    if errors:
        raise ValidationError(errors)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[content_type]
    document = Document(
        worker=worker,
        doc_type=doc_type,
        issued_on=issued_on,
        expires_on=expires_on,
        reference=reference.strip(),
    )
    # A random name: the worker's own file name may carry personal data.
    document.file.save(f"{secrets.token_hex(16)}.{extension}", file, save=False)
    document.save()
    Worker.objects.filter(pk=worker.pk, status=Worker.Status.APPLIED).update(
        status=Worker.Status.DOCUMENTS_SUBMITTED
    )
    return document


@dataclass(frozen=True)
class DocumentUpload:
    doc_type: DocumentType
    file: UploadedFile
    issued_on: date
    expires_on: date | None = None
    reference: str = ""


def documents_upload(*, worker: Worker, uploads: list[DocumentUpload]) -> list[Document]:
    """Store several documents at once: all of them, or (on any error) none. Errors come
    back keyed ``<doc type pk>-<field>`` so each reaches its own row."""
    errors: dict[str, list[str]] = {}
    saved: list[Document] = []
    with transaction.atomic():
        for item in uploads:
            try:
                saved.append(
                    document_upload(
                        worker=worker,
                        doc_type=item.doc_type,
                        file=item.file,
                        issued_on=item.issued_on,
                        expires_on=item.expires_on,
                        reference=item.reference,
                    )
                )
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    errors[f"{item.doc_type.pk}-{name}"] = messages
        if errors:
            transaction.set_rollback(True)
    if errors:
        for document in saved:  # the files are outside the rolled-back transaction
            document.file.delete(save=False)
        raise ValidationError(errors)
    return saved


def availability_rule_add(
    *, worker: Worker, weekday: int, start_minute: int, end_minute: int
) -> AvailabilityRule:
    if not 0 <= weekday <= 6:
        raise ValidationError({"weekday": ["Choose a day of the week."]})
    if not 0 <= start_minute < end_minute <= 1440:
        raise ValidationError({"end": ["The end time must be after the start time."]})
    return AvailabilityRule.objects.create(
        worker=worker, weekday=weekday, start_minute=start_minute, end_minute=end_minute
    )


# The weekly patterns most workers want, each set in one step: (label, [(weekday, start
# minute, end minute)]). Nights are two spans a day, so a 20:00-08:00 shift is covered.
AVAILABILITY_PRESETS: dict[str, tuple[str, list[tuple[int, int, int]]]] = {
    "every_day": ("Every day, any time", [(d, 0, 1440) for d in range(7)]),
    "weekdays": ("Weekdays (Monday to Friday), any time", [(d, 0, 1440) for d in range(5)]),
    "nights": (
        "Nights (20:00 to 08:00), every day",
        [span for d in range(7) for span in ((d, 0, 8 * 60), (d, 20 * 60, 1440))],
    ),
    "weekends": ("Weekends (Saturday and Sunday), any time", [(d, 0, 1440) for d in (5, 6)]),
}


@transaction.atomic
def availability_preset_apply(*, worker: Worker, preset: str) -> list[AvailabilityRule]:
    """Replace the worker's weekly pattern with one of ``AVAILABILITY_PRESETS``."""
    if preset not in AVAILABILITY_PRESETS:
        raise ValidationError({"preset": ["Choose one of the patterns."]})
    AvailabilityRule.objects.filter(worker=worker).delete()
    return AvailabilityRule.objects.bulk_create(
        AvailabilityRule(worker=worker, weekday=d, start_minute=start, end_minute=end)
        for d, start, end in AVAILABILITY_PRESETS[preset][1]
    )


def availability_rule_remove(*, worker: Worker, rule_id: int) -> bool:
    deleted, _ = AvailabilityRule.objects.filter(worker=worker, pk=rule_id).delete()
    return deleted > 0


def availability_exception_add(
    *, worker: Worker, day: date, available: bool, start_minute: int = 0, end_minute: int = 1440
) -> AvailabilityException:
    if day < timezone.localdate():
        raise ValidationError({"day": ["The date must be today or in the future."]})
    if not 0 <= start_minute < end_minute <= 1440:
        raise ValidationError({"end": ["The end time must be after the start time."]})
    return AvailabilityException.objects.create(
        worker=worker,
        day=day,
        available=available,
        start_minute=start_minute,
        end_minute=end_minute,
    )


def availability_exception_remove(*, worker: Worker, exception_id: int) -> bool:
    deleted, _ = AvailabilityException.objects.filter(worker=worker, pk=exception_id).delete()
    return deleted > 0


def worker_ready_now_set(*, worker: Worker, hours: int, now: datetime | None = None) -> Worker:
    """Say "I can work now" for the next ``hours`` (0 switches it off)."""
    if not 0 <= hours <= READY_NOW_MAX_HOURS:
        raise ValidationError({"hours": [f"Choose up to {READY_NOW_MAX_HOURS} hours."]})
    now = now or timezone.now()
    worker.ready_now_until = now + timedelta(hours=hours) if hours else None
    worker.save(update_fields=["ready_now_until"])
    return worker


def worker_calendar_token_reset(*, worker: Worker) -> str:
    """Issue a new secret for the calendar feed; the old URL stops working at once."""
    worker.calendar_token = secrets.token_urlsafe(32)
    worker.save(update_fields=["calendar_token"])
    return worker.calendar_token


def worker_calendar_revoke(*, worker: Worker) -> Worker:
    worker.calendar_token = None
    worker.save(update_fields=["calendar_token"])
    return worker


@transaction.atomic
def worker_close_account(*, worker: Worker, now: datetime | None = None) -> Worker:
    """The worker leaves and asks to be forgotten: everything ``worker_personal_data_erase``
    removes goes at once. Upcoming bookings must be cancelled first, so no provider is left
    waiting for someone who has gone."""
    now = now or timezone.now()
    worker = Worker.objects.select_for_update(of=("self",)).select_related("user").get(pk=worker.pk)
    if worker_has_upcoming_bookings(worker=worker, now=now):
        raise ValidationError(
            {"__all__": ["Cancel your upcoming shifts before you close your account."]}
        )
    return worker_personal_data_erase(worker=worker, now=now)


def worker_has_upcoming_bookings(*, worker: Worker, now: datetime) -> bool:
    """A worker with a booking still to come cannot leave until it is cancelled (one rule
    for the worker closing their account and a coordinator marking them left)."""
    return Booking.objects.filter(worker=worker, status=Booking.Status.BOOKED, end__gt=now).exists()


def worker_personal_data_erase(*, worker: Worker, now: datetime) -> Worker:
    """Erase what identifies a worker: name, contact details, home location, documents
    (files and records), availability, free text they wrote, and their sign-in (e-mail
    addresses, second factors, push subscriptions, messages). The worker row stays,
    anonymised and marked left, so the pool's bookings and statistics still add up.
    Call inside a transaction with the worker row locked."""
    offers_withdraw_for_worker(worker=worker, reason="The worker left the pool.")
    # Free text the worker wrote about themselves: why they declined offers, why they
    # cancelled bookings (the facts, declined or cancelled, stay for the statistics).
    Offer.objects.filter(worker=worker).exclude(decline_reason="").update(decline_reason="")
    Booking.objects.filter(worker=worker, cancelled_by=Booking.CancelledBy.WORKER).exclude(
        cancel_reason=""
    ).update(cancel_reason="")
    for document in Document.objects.filter(worker=worker).exclude(file=""):
        document.file.delete(save=False)
    Document.objects.filter(worker=worker).delete()
    AvailabilityRule.objects.filter(worker=worker).delete()
    AvailabilityException.objects.filter(worker=worker).delete()

    worker.display_name = f"Former worker {worker.pk}"
    worker.phone = ""
    worker.postcode = ""
    worker.district = ""
    worker.latitude = None
    worker.longitude = None
    worker.status = Worker.Status.LEFT
    worker.ready_now_until = None
    worker.calendar_token = None
    worker.closed_at = worker.closed_at or now
    worker.left_at = worker.left_at or now
    worker.erased_at = now
    user = worker.user
    worker.user = None
    worker.save()

    if user is not None:
        from allauth.account.models import EmailAddress
        from allauth.mfa.models import Authenticator

        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        user.push_subscriptions.all().delete()  # type: ignore[attr-defined]
        user.notifications.all().delete()
        user.email = f"closed-{user.pk}@flexpool.invalid"
        user.first_name = ""
        user.last_name = ""
        user.is_active = False
        # A new (unusable) password also ends every other session: Django checks a
        # session against the password hash.
        user.set_unusable_password()
        user.save()
    return worker


# When each reminder goes: the first window is "within a day", the second "within two hours".
REMINDER_WINDOWS: list[tuple[str, timedelta, timedelta]] = [
    (BookingReminder.Kind.DAY_BEFORE, timedelta(hours=2), timedelta(hours=24)),
    (BookingReminder.Kind.TWO_HOURS, timedelta(0), timedelta(hours=2)),
]


def booking_reminders_send(*, now: datetime | None = None) -> int:
    """Remind each booked worker the day before and two hours before a shift, asking them
    to confirm they are still coming. Each reminder goes once (``BookingReminder`` is
    unique per booking and kind), however often this runs. Returns how many went."""
    from django.urls import reverse

    from notifications.services import notification_send

    now = now or timezone.now()
    sent = 0
    for kind, lead_from, lead_to in REMINDER_WINDOWS:
        due = (
            Booking.objects.filter(
                status=Booking.Status.BOOKED,
                start__gt=now + lead_from,
                start__lte=now + lead_to,
                # Someone who booked inside the window has just said yes: no need to ask.
                booked_at__lte=F("start") - lead_to,
                worker__user__isnull=False,
            )
            .exclude(pk__in=BookingReminder.objects.filter(kind=kind).values("booking_id"))
            .select_related("worker__user", "shift__site", "shift__role")
        )
        for booking in due:
            with transaction.atomic():
                _, created = BookingReminder.objects.get_or_create(
                    booking=booking, kind=kind, defaults={"sent_at": now}
                )
                if not created:
                    continue
                user = booking.worker.user
                assert user is not None
                start = timezone.localtime(booking.start)
                days = (start.date() - timezone.localtime(now).date()).days
                when = {0: "today", 1: "tomorrow"}.get(days, f"on {start:%A}")
                ask = (
                    "Thank you for confirming."
                    if booking.confirmed_at
                    else "Please confirm you are still coming, or cancel so we can find cover."
                )
                notification_send(
                    user=user,
                    kind=f"booking_reminder_{kind}",
                    subject=f"Your shift {when} at {start:%H:%M}",
                    body=(
                        f"{booking.shift.role} at {booking.shift.site.name}, "
                        f"{start:%A %d %B, %H:%M}. {ask}"
                    ),
                    url=reverse("workers:shift", kwargs={"pk": booking.pk}),
                )
                sent += 1
    return sent
