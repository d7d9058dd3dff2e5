"""Every way a coordinator changes the pool: vetting workers and their documents, onboarding
providers, the pool's settings, stepping in on a shift, and the expiry reminders. Each
action is written to the pool's append-only audit log in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import User
from notifications.services import notification_send
from pools.models import AuditEntry, DocumentReminder, Pool, Role, RoleRate
from providers.models import Provider, ProviderMember, Site, cqc_location_id_validator
from shifts.models import Offer, ShiftRequest
from workers.models import Document, Worker

REMINDER_DAYS = (30, 60, 90)


def audit_record(
    *, pool: Pool, actor: User | None, action: str, target: models.Model, reason: str = ""
) -> AuditEntry:
    """Append one line to the pool's audit log. There is no update or delete path."""
    return AuditEntry.objects.create(
        pool=pool,
        actor=actor,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_label=str(target)[:200],
        reason=reason,
    )


# --- Vetting --------------------------------------------------------------------------------


def _tell_worker(worker: Worker, *, kind: str, subject: str, body: str, url: str = "") -> None:
    if worker.user is not None:
        notification_send(user=worker.user, kind=kind, subject=subject, body=body, url=url)


def document_approve(*, document: Document, by: User) -> Document:
    """Accept a worker's document as valid evidence."""
    with transaction.atomic():
        doc = (
            Document.objects.select_for_update()
            .select_related("worker", "doc_type")
            .get(pk=document.pk)
        )
        doc.status = Document.Status.APPROVED
        doc.rejection_reason = ""
        doc.reviewed_by = by
        doc.reviewed_at = timezone.now()
        doc.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
        audit_record(pool=doc.worker.pool, actor=by, action="document.approve", target=doc)
    return doc


def document_reject(*, document: Document, by: User, reason: str) -> Document:
    """Refuse a document; the worker is told why and can upload a better one."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the document is rejected: the worker sees it."]})
    with transaction.atomic():
        doc = (
            Document.objects.select_for_update()
            .select_related("worker", "doc_type")
            .get(pk=document.pk)
        )
        doc.status = Document.Status.REJECTED
        doc.rejection_reason = reason
        doc.reviewed_by = by
        doc.reviewed_at = timezone.now()
        doc.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
        audit_record(
            pool=doc.worker.pool, actor=by, action="document.reject", target=doc, reason=reason
        )
        _tell_worker(
            doc.worker,
            kind="document_rejected",
            subject=f"Your {doc.doc_type.name} needs another look",
            body=f"We could not accept your {doc.doc_type.name}: {reason}",
        )
    return doc


def worker_status_set(*, worker: Worker, status: str, by: User, reason: str = "") -> Worker:
    """Move a worker along the vetting pipeline (applied → documents submitted → checks)."""
    if status not in (
        Worker.Status.APPLIED,
        Worker.Status.DOCUMENTS_SUBMITTED,
        Worker.Status.CHECKS,
    ):
        raise ValidationError({"status": ["Use approve or suspend for that."]})
    with transaction.atomic():
        locked = Worker.objects.select_for_update().get(pk=worker.pk)
        locked.status = status
        locked.save(update_fields=["status"])
        audit_record(
            pool=locked.pool,
            actor=by,
            action=f"worker.stage.{status}",
            target=locked,
            reason=reason,
        )
    return locked


def worker_approve(*, worker: Worker, by: User, reason: str = "") -> Worker:
    """Approve a worker to take shifts (matching still checks each document per shift)."""
    from pools.selectors import worker_documents_outstanding

    with transaction.atomic():
        locked = Worker.objects.select_for_update().get(pk=worker.pk)
        if locked.status == Worker.Status.LEFT:
            raise ValidationError({"status": ["This worker has left the pool."]})
        outstanding = worker_documents_outstanding(worker=locked, today=timezone.localdate())
        if outstanding:
            listed = "; ".join(f"{doc_type.name} ({state})" for doc_type, state in outstanding)
            raise ValidationError(
                {
                    "documents": [
                        "Every document the pool requires for this worker's roles must be "
                        f"approved first. Still outstanding: {listed}."
                    ]
                }
            )
        locked.status = Worker.Status.APPROVED
        locked.approved_at = timezone.now()
        locked.save(update_fields=["status", "approved_at"])
        audit_record(
            pool=locked.pool, actor=by, action="worker.approve", target=locked, reason=reason
        )
        _tell_worker(
            locked,
            kind="worker_approved",
            subject="You are approved to work with the pool",
            body="Your checks are complete. You will now get offers for shifts that suit you.",
        )
    return locked


def document_view_record(*, document: Document, by: User) -> AuditEntry:
    """A member of staff opened a worker's document file: recorded in the pool's audit
    log (who, whose and which document, when), which coordinators can read."""
    return audit_record(
        pool=document.worker.pool, actor=by, action="document.view", target=document
    )


def worker_opt_out_record(*, worker: Worker, signed_on: date, by: User) -> Worker:
    """Record the worker's written opt-out from the 48-hour average week, signed on
    ``signed_on`` (a new opt-out replaces a withdrawn one)."""
    today = timezone.localdate()
    if signed_on > today:
        raise ValidationError({"signed_on": ["The date it was signed cannot be in the future."]})
    with transaction.atomic():
        worker.opt_out_signed_on = signed_on
        worker.opt_out_withdrawn_on = None
        worker.save(update_fields=["opt_out_signed_on", "opt_out_withdrawn_on"])
        audit_record(
            pool=worker.pool,
            actor=by,
            action="worker.opt_out",
            target=worker,
            reason=f"Opt-out from the 48-hour week signed on {signed_on:%d %B %Y}",
        )
    return worker


def worker_suspend(*, worker: Worker, by: User, reason: str) -> Worker:
    """Stop a worker getting offers: their pending offers are withdrawn at once."""
    from shifts.services.lifecycle import offers_withdraw_for_worker

    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the worker is suspended."]})
    with transaction.atomic():
        locked = Worker.objects.select_for_update().get(pk=worker.pk)
        locked.status = Worker.Status.SUSPENDED
        locked.save(update_fields=["status"])
        withdrawn = offers_withdraw_for_worker(worker=locked, reason="The worker was suspended.")
        audit_record(
            pool=locked.pool,
            actor=by,
            action="worker.suspend",
            target=locked,
            reason=f"{reason} ({withdrawn} pending offer(s) withdrawn)",
        )
        _tell_worker(
            locked,
            kind="worker_suspended",
            subject="Your work with the pool is paused",
            body=f"A coordinator has suspended your account: {reason}",
        )
    return locked


def worker_mark_left(*, worker: Worker, by: User, reason: str) -> Worker:
    """A coordinator records that a worker has left the pool (moved away, stopped caring,
    dismissed). They get no more offers; their documents and personal details are kept
    for the pool's ``leaver_retention_days`` and then erased by
    ``workers_erase_after_retention``."""
    from shifts.services.lifecycle import offers_withdraw_for_worker
    from workers.services import worker_has_upcoming_bookings

    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the worker has left."]})
    now = timezone.now()
    with transaction.atomic():
        locked = Worker.objects.select_for_update().get(pk=worker.pk)
        if locked.status == Worker.Status.LEFT:
            raise ValidationError({"reason": ["This worker has already left the pool."]})
        if worker_has_upcoming_bookings(worker=locked, now=now):
            raise ValidationError(
                {"reason": ["Cancel the worker's upcoming shifts before marking them left."]}
            )
        locked.status = Worker.Status.LEFT
        locked.left_at = now
        locked.ready_now_until = None
        locked.calendar_token = None
        locked.save(update_fields=["status", "left_at", "ready_now_until", "calendar_token"])
        withdrawn = offers_withdraw_for_worker(worker=locked, reason="The worker left the pool.")
        erase_on = (now + timedelta(days=locked.pool.leaver_retention_days)).date()
        audit_record(
            pool=locked.pool,
            actor=by,
            action="worker.left",
            target=locked,
            reason=(
                f"{reason} ({withdrawn} pending offer(s) withdrawn; documents and personal "
                f"details to be deleted on {erase_on:%d %B %Y})"
            ),
        )
    return locked


def workers_erase_after_retention(*, now: datetime | None = None) -> int:
    """Erase the documents and personal details of every worker who left longer ago than
    their pool keeps leavers' data (``Pool.leaver_retention_days``), each in its own
    transaction and each recorded in the pool's audit log. Idempotent: an erased worker is
    never picked again. Returns how many were erased."""
    from workers.services import worker_has_upcoming_bookings, worker_personal_data_erase

    now = now or timezone.now()
    erased = 0
    for pool in Pool.objects.all():
        cutoff = now - timedelta(days=pool.leaver_retention_days)
        due = Worker.objects.filter(
            pool=pool, status=Worker.Status.LEFT, erased_at__isnull=True, left_at__lte=cutoff
        ).values_list("pk", flat=True)
        for pk in list(due):
            with transaction.atomic():
                locked = (
                    Worker.objects.select_for_update(of=("self",), skip_locked=True)
                    .select_related("user")
                    .filter(pk=pk, status=Worker.Status.LEFT, erased_at__isnull=True)
                    .first()
                )
                if locked is None or worker_has_upcoming_bookings(worker=locked, now=now):
                    continue
                left_at = locked.left_at
                documents = Document.objects.filter(worker=locked).count()
                worker_personal_data_erase(worker=locked, now=now)
                audit_record(
                    pool=pool,
                    actor=None,
                    action="worker.erase",
                    target=locked,
                    reason=(
                        f"Left on {left_at:%d %B %Y}; the pool keeps a leaver's data "
                        f"{pool.leaver_retention_days} days. Deleted: {documents} document(s), "
                        "name, contact details, home location, availability, free text and "
                        "sign-in."
                    ),
                )
                erased += 1
    return erased


# --- Compliance reminders ---------------------------------------------------------------------


def documents_send_expiry_reminders(*, today: date | None = None) -> int:
    """Remind workers of approved documents expiring within 90, 60 or 30 days.

    Each document gets at most one reminder per threshold (and per expiry date, so a
    renewed document starts afresh); a document first seen at 25 days gets the 30-day one
    only. Safe to run any number of times a day: what was sent is remembered."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=max(REMINDER_DAYS))
    documents = (
        Document.objects.filter(
            status=Document.Status.APPROVED,
            expires_on__gte=today,
            expires_on__lte=horizon,
            worker__user__isnull=False,
        )
        .exclude(worker__status=Worker.Status.LEFT)
        .select_related("worker__user", "doc_type")
    )
    sent = 0
    now = timezone.now()
    for doc in documents.iterator():
        assert doc.expires_on is not None
        days_left = (doc.expires_on - today).days
        threshold = min(d for d in REMINDER_DAYS if days_left <= d)
        try:
            with transaction.atomic():
                DocumentReminder.objects.create(
                    document=doc, expires_on=doc.expires_on, days_before=threshold, sent_at=now
                )
                _tell_worker(
                    doc.worker,
                    kind="document_expiring",
                    subject=f"Your {doc.doc_type.name} expires on {doc.expires_on:%d %B %Y}",
                    body=(
                        f"Your {doc.doc_type.name} expires in {days_left} day(s). Upload the "
                        "renewed document before then to keep getting offers."
                    ),
                )
        except IntegrityError:
            continue  # already sent
        sent += 1
    return sent


# --- Providers --------------------------------------------------------------------------------


def provider_onboard(
    *, pool: Pool, name: str, size: str = Provider.Size.SMALL, by: User
) -> Provider:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Enter the provider's name."]})
    if Provider.objects.filter(pool=pool, name__iexact=name).exists():
        raise ValidationError({"name": ["A provider with this name is already in the pool."]})
    with transaction.atomic():
        provider = Provider.objects.create(pool=pool, name=name, size=size)
        audit_record(pool=pool, actor=by, action="provider.onboard", target=provider)
    return provider


@dataclass(frozen=True)
class SitePlace:
    postcode: str
    district: str
    latitude: float
    longitude: float


def site_locate(
    *, postcode: str, latitude: float | None = None, longitude: float | None = None
) -> SitePlace:
    """Where a site is: from its postcode, or the coordinates given when the postcode
    is not one we know."""
    from geo.services import UnknownPostcode, postcode_locate, postcode_normalise

    try:
        loc = postcode_locate(postcode)
        return SitePlace(loc.postcode, loc.district, loc.latitude, loc.longitude)
    except UnknownPostcode as exc:
        if latitude is None or longitude is None:
            raise ValidationError(
                {"postcode": [f"{exc.message} Or give the site's latitude and longitude."]}
            ) from exc
        full, district = postcode_normalise(postcode)
        return SitePlace(full, district, latitude, longitude)


def site_add(
    *,
    provider: Provider,
    name: str,
    cqc_location_id: str,
    site_type: str,
    address: str,
    postcode: str,
    by: User,
    latitude: float | None = None,
    longitude: float | None = None,
    parking_notes: str = "",
    travel_notes: str = "",
) -> Site:
    """Add a CQC-registered location to a provider."""
    errors: dict[str, list[str]] = {}
    cqc_location_id = cqc_location_id.strip()
    try:
        cqc_location_id_validator(cqc_location_id)
    except ValidationError as exc:
        errors["cqc_location_id"] = list(exc.messages)
    if not errors and Site.objects.filter(cqc_location_id=cqc_location_id).exists():
        errors["cqc_location_id"] = ["A site with this CQC location ID is already registered."]
    if site_type not in Site.SiteType.values:
        errors["site_type"] = ["Choose residential or non-residential."]
    if not name.strip():
        errors["name"] = ["Enter the site's name."]
    try:
        place = site_locate(postcode=postcode, latitude=latitude, longitude=longitude)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        site = Site.objects.create(
            provider=provider,
            name=name.strip(),
            cqc_location_id=cqc_location_id,
            site_type=site_type,
            address=address.strip(),
            postcode=place.postcode,
            district=place.district,
            latitude=place.latitude,
            longitude=place.longitude,
            parking_notes=parking_notes.strip(),
            travel_notes=travel_notes.strip(),
        )
        audit_record(pool=provider.pool, actor=by, action="site.add", target=site)
    return site


def provider_admin_invite(
    *,
    provider: Provider,
    email: str,
    first_name: str,
    last_name: str,
    by: User,
) -> ProviderMember:
    """Create the provider's first admin and e-mail them a link to set their password.

    The e-mail is the same invitation a provider's admin sends a colleague
    (``providers.services.member_invite_send``), written to the outbox in this transaction:
    a mail server that is down delays it and never fails the onboarding."""
    from allauth.account.models import EmailAddress

    from outbox.services import outbox_put

    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": ["Someone with this e-mail address already has an account."]}
        )
    with transaction.atomic():
        user = User.objects.create_user(
            email, None, first_name=first_name.strip(), last_name=last_name.strip()
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        member = ProviderMember.objects.create(user=user, provider=provider, is_admin=True)
        audit_record(
            pool=provider.pool,
            actor=by,
            action="provider.invite_admin",
            target=provider,
            reason=email,
        )
        outbox_put(
            handler="providers.tasks.member_invite_send",
            payload={"member_id": member.pk, "inviter": by.get_full_name() or by.email},
        )
    return member


# --- Settings -------------------------------------------------------------------------------

POLICY_FIELDS = (
    "rest_hours",
    "default_radius_km",
    "distance_unit",
    "first_wave_size",
    "wave_growth",
    "wave_interval_minutes",
    "urgent_within_hours",
    "offer_ttl_minutes",
    "escalate_within_hours",
    "critical_escalate_within_hours",
    "late_cancellation_hours",
    "default_weekly_hours_cap",
    "opt_out_notice_days",
    "leaver_retention_days",
)


def pool_settings_update(*, pool: Pool, by: User, **values: Any) -> Pool:
    """Change the pool's policy; each changed field is written to the audit log."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({f: ["Not a pool setting."] for f in unknown})
    with transaction.atomic():
        locked = Pool.objects.select_for_update().get(pk=pool.pk)
        changes = []
        for name, value in values.items():
            old = getattr(locked, name)
            if old != value:
                setattr(locked, name, value)
                changes.append(f"{name}: {old} → {value}")
        if changes:
            locked.full_clean()
            locked.save(update_fields=[c.split(":")[0] for c in changes])
            audit_record(
                pool=locked,
                actor=by,
                action="pool.settings",
                target=locked,
                reason="; ".join(changes),
            )
    return locked


def role_rate_set(
    *, pool: Pool, role: Role, benchmark_agency_rate: Decimal, pool_hourly_cost: Decimal, by: User
) -> RoleRate:
    if benchmark_agency_rate < 0 or pool_hourly_cost < 0:
        raise ValidationError({"rate": ["Rates cannot be negative."]})
    with transaction.atomic():
        rate, created = RoleRate.objects.select_for_update().get_or_create(
            pool=pool,
            role=role,
            defaults={
                "benchmark_agency_rate": benchmark_agency_rate,
                "pool_hourly_cost": pool_hourly_cost,
            },
        )
        old = (rate.benchmark_agency_rate, rate.pool_hourly_cost)
        new = (benchmark_agency_rate, pool_hourly_cost)
        if created or old != new:
            rate.benchmark_agency_rate, rate.pool_hourly_cost = new
            rate.save(update_fields=["benchmark_agency_rate", "pool_hourly_cost"])
            audit_record(
                pool=pool,
                actor=by,
                action="pool.role_rate",
                target=role,
                reason=(
                    f"agency £{old[0]} → £{new[0]}, pool cost £{old[1]} → £{new[1]}"
                    if not created
                    else f"agency £{new[0]}, pool cost £{new[1]}"
                ),
            )
    return rate


# --- Stepping in on a shift -------------------------------------------------------------------


def pool_shift_offer_direct(*, shift: ShiftRequest, worker: Worker, by: User) -> Offer:
    """Offer a shift straight to a worker the coordinator chose (if they may take it)."""
    from shifts.services.offers import offer_send_direct

    with transaction.atomic():
        offer = offer_send_direct(shift=shift, worker=worker, by=by)
        audit_record(
            pool=shift.pool,
            actor=by,
            action="shift.offer_direct",
            target=shift,
            reason=f"offered to {worker}",
        )
    return offer


def pool_shift_widen(*, shift: ShiftRequest, extra_km: Decimal, by: User) -> ShiftRequest:
    from shifts.services.posting import shift_widen_radius

    with transaction.atomic():
        shift = shift_widen_radius(shift=shift, extra_km=extra_km, by=by)
        audit_record(
            pool=shift.pool,
            actor=by,
            action="shift.widen_radius",
            target=shift,
            reason=f"+{extra_km} km",
        )
    return shift


def pool_shift_mark_critical(*, shift: ShiftRequest, reason: str, by: User) -> ShiftRequest:
    from shifts.services.posting import shift_mark_critical

    with transaction.atomic():
        shift = shift_mark_critical(shift=shift, reason=reason, by=by)
        audit_record(
            pool=shift.pool, actor=by, action="shift.mark_critical", target=shift, reason=reason
        )
    return shift
