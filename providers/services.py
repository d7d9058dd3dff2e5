"""Every way a provider's membership, favourites and block list change."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from flexpool.input import text_check
from outbox.services import outbox_put
from pools.services import audit_record
from providers.models import Favourite, Provider, ProviderBlock, ProviderMember, ShiftTemplate
from shifts.models import Booking, ShiftRequest
from workers.models import Worker


def _require_member(*, user: User, provider: Provider, admin: bool = False) -> ProviderMember:
    member = ProviderMember.objects.filter(user=user, provider=provider).first()
    if member is None or (admin and not member.is_admin):
        raise PermissionDenied("Only the provider's administrators may do this.")
    return member


def _require_worked_here(*, provider: Provider, worker: Worker) -> None:
    """A provider may only favour or block someone it has had booked: it knows no one else."""
    if not Booking.objects.filter(shift__provider=provider, worker=worker).exists():
        raise ValidationError({"worker": ["This worker has not been booked at your organisation."]})


# --- Members ---------------------------------------------------------------------------------


def member_set_password_url(*, user: User) -> str:
    """An absolute link to allauth's set-a-new-password page for ``user`` (single use)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def member_invite(
    *,
    provider: Provider,
    by: User,
    email: str,
    first_name: str,
    last_name: str,
    job_title: str = "",
    is_admin: bool = False,
) -> ProviderMember:
    """Create a colleague's account and e-mail them a link to choose a password."""
    from allauth.account.models import EmailAddress

    _require_member(user=by, provider=provider, admin=True)
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": ["This e-mail address already has a FlexPool account. Use another."]}
        )
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=None,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
            )
    except IntegrityError as exc:  # the same address, invited twice at once
        raise ValidationError({"email": ["This e-mail address already has an account."]}) from exc
    # The set-password link goes only to this address, so using it proves the address.
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    member = ProviderMember.objects.create(
        user=user, provider=provider, is_admin=is_admin, job_title=job_title.strip()
    )
    audit_record(pool=provider.pool, actor=by, action="provider_member_invited", target=member)
    # The invitation is an outbox row in this transaction: a mail server that is down
    # delays it (retried with back-off) and never fails the request that added her.
    outbox_put(
        handler="providers.tasks.member_invite_send",
        payload={"member_id": member.pk, "inviter": by.get_full_name() or by.email},
    )
    return member


def member_invite_send(*, member_id: int, inviter: str) -> None:
    """E-mail a new colleague the link to choose a password (the outbox's handler)."""
    member = ProviderMember.objects.select_related("user", "provider").filter(pk=member_id).first()
    if member is None or member.user.has_usable_password():
        return  # removed meanwhile, or she has already chosen a password
    user, provider = member.user, member.provider
    send_mail(
        subject=f"{inviter} invited you to FlexPool for {provider.name}",
        message=(
            f"Hello {user.first_name or user.email},\n\n"
            f"{inviter} has added you to {provider.name} on FlexPool, the council's shared "
            "care-worker pool. Choose a password to sign in:\n\n"
            f"{member_set_password_url(user=user)}\n\n"
            "The link works once. If it has expired, use 'Forgotten your password?' on the "
            "sign-in page."
        ),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def member_remove(*, member: ProviderMember, by: User) -> None:
    """Take a colleague off the provider; their account can no longer sign in."""
    _require_member(user=by, provider=member.provider, admin=True)
    if member.user_id == by.pk:
        raise ValidationError(
            {"member": ["You cannot remove yourself. Ask another administrator."]}
        )
    audit_record(
        pool=member.provider.pool, actor=by, action="provider_member_removed", target=member
    )
    user = member.user
    member.delete()
    if not user.is_coordinator and not user.is_worker:
        user.is_active = False
        user.save(update_fields=["is_active"])


# --- Favourites and blocks ------------------------------------------------------------------


def favourite_add(*, provider: Provider, worker: Worker, by: User) -> Favourite:
    """Remember a worker the provider would like back (idempotent)."""
    _require_member(user=by, provider=provider)
    _require_worked_here(provider=provider, worker=worker)
    if ProviderBlock.objects.filter(provider=provider, worker=worker).exists():
        raise ValidationError({"worker": ["You have blocked this worker."]})
    try:
        with transaction.atomic():
            favourite, _ = Favourite.objects.get_or_create(provider=provider, worker=worker)
    except IntegrityError:
        favourite = Favourite.objects.get(provider=provider, worker=worker)
    return favourite


def favourite_remove(*, provider: Provider, worker: Worker, by: User) -> int:
    _require_member(user=by, provider=provider)
    deleted, _ = Favourite.objects.filter(provider=provider, worker=worker).delete()
    return deleted


@transaction.atomic
def worker_block(*, provider: Provider, worker: Worker, by: User, reason: str) -> ProviderBlock:
    """Ask the pool not to send this worker again. Coordinators see the reason (audit log)."""
    _require_member(user=by, provider=provider)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why, for the pool's coordinators."]})
    _require_worked_here(provider=provider, worker=worker)
    if ProviderBlock.objects.filter(provider=provider, worker=worker).exists():
        raise ValidationError({"worker": ["You have already blocked this worker."]})
    try:
        with transaction.atomic():
            block = ProviderBlock.objects.create(
                provider=provider, worker=worker, reason=reason, created_by=by
            )
    except IntegrityError as exc:  # a colleague blocked them a moment ago
        raise ValidationError({"worker": ["You have already blocked this worker."]}) from exc
    Favourite.objects.filter(provider=provider, worker=worker).delete()
    audit_record(
        pool=provider.pool, actor=by, action="provider_blocked_worker", target=worker, reason=reason
    )
    return block


def shift_template_save(
    *, provider: Provider, name: str, shift: ShiftRequest, by: User
) -> ShiftTemplate:
    """Keep one of the provider's requests as a template (its site, role, skills, times,
    headcount and notes) under a name of its own."""
    from django.utils import timezone

    _require_member(user=by, provider=provider)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the template a name, like 'Weekday early'."]})
    text_check(name, multiline=False, field="name")
    if shift.provider_id != provider.pk:
        raise ValidationError({"name": ["That request is not your own."]})
    try:
        with transaction.atomic():
            template = ShiftTemplate.objects.create(
                provider=provider,
                name=name[:80],
                site=shift.site,
                role=shift.role,
                start_time=timezone.localtime(shift.start).time().replace(second=0),
                end_time=timezone.localtime(shift.end).time().replace(second=0),
                headcount=shift.headcount,
                notes=shift.notes,
            )
            template.skills.set(shift.skills.all())
    except IntegrityError:
        raise ValidationError({"name": [f"You already have a template called {name}."]}) from None
    return template


def shift_template_delete(*, provider: Provider, template_id: int) -> bool:
    deleted, _ = ShiftTemplate.objects.filter(provider=provider, pk=template_id).delete()
    return deleted > 0
