"""Closing an account erases what identifies the person beyond the pool's statistics:
push subscriptions, authenticators, and the free text they wrote (decline and
cancellation reasons)."""

from __future__ import annotations

from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.utils import timezone

from notifications.models import PushSubscription
from shifts.models import Booking, Offer
from tests import factories as f
from tests.pools.conftest import give_totp
from tests.workers.conftest import make_booking, make_offer
from workers.services import worker_close_account


def test_closing_an_account_erases_push_subscriptions_authenticators_and_own_words(
    worker, other_worker, site
):
    user = worker.user
    PushSubscription.objects.create(
        user=user, endpoint="https://push.example/abc", p256dh="k", auth="a"
    )
    PushSubscription.objects.create(
        user=other_worker.user, endpoint="https://push.example/other", p256dh="k", auth="a"
    )
    give_totp(user)
    declined = make_offer(f.ShiftFactory(site=site), worker)
    Offer.objects.filter(pk=declined.pk).update(
        status=Offer.Status.DECLINED, decline_reason="My daughter is ill this week"
    )
    past = f.ShiftFactory(site=site, start=timezone.now() - timedelta(days=3))
    booking = make_booking(past, worker)
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.WORKER,
        cancel_reason="Hospital appointment",
    )

    worker_close_account(worker=worker)

    assert not PushSubscription.objects.filter(user=user).exists()
    assert PushSubscription.objects.filter(user=other_worker.user).exists()
    assert not Authenticator.objects.filter(user=user).exists()
    declined.refresh_from_db()
    assert declined.status == Offer.Status.DECLINED and declined.decline_reason == ""
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancel_reason == ""
