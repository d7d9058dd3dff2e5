"""``manage.py seed_demo`` builds the demo borough: the same seed gives the same data,
building twice changes nothing, and the three demo logins work as the README says."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from pools.demo import (
    COORDINATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_REVIEW_NOTE,
    DEMO_TOTP_SECRET,
    PROVIDER_EMAIL,
    WORKER_EMAIL,
    _distance_km,
    demo_fingerprint,
)
from pools.models import Coordinator, DocumentType, Pool
from providers.models import Provider, ProviderMember, Site
from shifts.models import Booking, Offer, ShiftRequest, Timesheet
from tests.authenticator import code_now
from workers.models import Document, Worker

pytestmark = pytest.mark.django_db

SMALL = {"providers": 8, "workers": 40, "days": 7, "history_shifts": 150, "future_days": 2}


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Provider, Site, Worker, Document, ShiftRequest, Offer, Booking)
    }


def test_the_same_seed_builds_the_same_borough_and_another_seed_does_not():
    seed(seed=11)
    first = demo_fingerprint()
    seed(seed=11, reset=True)
    assert demo_fingerprint() == first
    seed(seed=12, reset=True)
    assert demo_fingerprint() != first


def test_running_it_twice_changes_nothing():
    seed()
    before, fingerprint = counts(), demo_fingerprint()
    output = seed()
    assert "already built" in output
    assert counts() == before
    assert demo_fingerprint() == fingerprint


def test_it_refuses_to_build_over_a_borough_built_with_other_parameters():
    seed()
    with pytest.raises(CommandError, match="--reset"):
        seed(workers=41)


def test_the_scale_options_set_how_much_is_built():
    seed(workers=50, history_shifts=500, providers=9, days=10)
    bury = Pool.objects.get(slug="bury")
    midnight = datetime.combine(
        timezone.localdate(), datetime.min.time(), tzinfo=timezone.get_current_timezone()
    )
    assert Provider.objects.filter(pool=bury).count() == 9
    # The generated workers plus the demo worker.
    assert Worker.objects.filter(pool=bury).count() == 51
    history = ShiftRequest.objects.filter(pool=bury, start__lt=midnight)
    # The history option counts the history; the demo login's three shifts waiting for
    # review come on top.
    assert history.exclude(notes=DEMO_REVIEW_NOTE).count() == 500
    first_day = midnight - timedelta(days=10)
    assert not ShiftRequest.objects.filter(start__lt=first_day).exists()


def test_the_borough_looks_like_bury_with_a_believable_history():
    seed(providers=21, workers=150, days=20, history_shifts=900)
    bury = Pool.objects.get(slug="bury")
    assert {p.name for p in bury.neighbours.all()} == {
        "Bolton",
        "Manchester",
        "Rochdale",
        "Salford",
    }
    assert Pool.objects.count() == 10
    sizes = dict(Provider.objects.values_list("size").annotate(n=Count("id")))
    assert sizes["small"] == 14  # two thirds
    districts = set(Site.objects.values_list("district", flat=True))
    assert districts == {"BL0", "BL8", "BL9", "M25", "M26", "M45"}
    assert set(Site.objects.values_list("site_type", flat=True)) == {
        "residential",
        "non_residential",
    }
    for site in Site.objects.all():
        site.full_clean()  # CQC location IDs and the rest are valid

    today = timezone.localdate()
    statuses = set(Worker.objects.values_list("status", flat=True))
    assert {"approved", "applied", "checks"} <= statuses
    assert Document.objects.filter(
        status="approved", expires_on__gt=today, expires_on__lte=today + timedelta(days=30)
    ).exists()
    assert Document.objects.filter(status="pending").exists()

    past = ShiftRequest.objects.filter(start__lt=timezone.now() - timedelta(days=1))
    assert past.filter(status="filled").count() > past.count() / 2
    assert past.filter(outcome="agency").exists()
    assert past.filter(outcome="covered_elsewhere").exists()
    assert past.filter(status="cancelled").exists()
    assert past.filter(status="expired", booked_count__gt=0).exists()  # partly filled
    assert Booking.objects.filter(late_cancellation=True).exists()
    assert Booking.objects.filter(status="no_show").exists()
    assert Timesheet.objects.filter(status="approved").exists()
    for shift in past.filter(status="filled")[:50]:
        assert shift.posted_at < shift.filled_at <= shift.start
        assert shift.booked_count == shift.headcount
        live = shift.bookings.filter(status__in=Booking.LIVE_STATUSES).count()
        assert live == shift.booked_count
    # Nobody is booked on two overlapping shifts (PostgreSQL also forbids it outright).
    for worker_id in Booking.objects.values_list("worker_id", flat=True).distinct()[:40]:
        spans = list(
            Booking.objects.filter(worker_id=worker_id, status__in=Booking.LIVE_STATUSES)
            .order_by("start")
            .values_list("start", "end")
        )
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end
    assert ShiftRequest.objects.filter(status="open", start__gt=timezone.now()).exists()


def test_the_demo_worker_is_vetted_available_always_near_the_provider_and_unbooked():
    seed()
    worker = Worker.objects.get(user__email=WORKER_EMAIL)
    assert worker.status == Worker.Status.APPROVED
    assert list(worker.roles.values_list("slug", flat=True)) == ["care-worker"]
    assert not worker.bookings.exists()
    assert not worker.offers.exists()
    rules = sorted(worker.availability.values_list("weekday", "start_minute", "end_minute"))
    assert rules == [(day, 0, 1440) for day in range(7)]
    today = timezone.localdate()
    held = {
        d.doc_type.slug for d in worker.documents.all() if d.is_valid_on(today + timedelta(days=90))
    }
    assert held == set(DocumentType.objects.values_list("slug", flat=True))

    member = ProviderMember.objects.get(user__email=PROVIDER_EMAIL)
    assert member.is_admin
    nearest = min(
        _distance_km(s.latitude, s.longitude, worker.latitude, worker.longitude)
        for s in member.provider.sites.filter(district="BL9")
    )
    assert nearest < 1.0
    assert Coordinator.objects.get(user__email=COORDINATOR_EMAIL).pool.slug == "bury"


def sign_in(client, email: str) -> object:
    return client.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})


@pytest.mark.parametrize("email", [PROVIDER_EMAIL, WORKER_EMAIL])
def test_the_provider_and_worker_logins_sign_in_with_the_demo_password(client, email):
    seed()
    response = sign_in(client, email)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


def test_the_coordinator_signs_in_with_the_demo_password_and_a_totp_code(client, settings):
    # allauth remembers used codes in the cache: a private one, so no earlier run's entry
    # for the same user id and code can refuse this sign-in.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mfa"}
    }
    seed()
    response = sign_in(client, COORDINATOR_EMAIL)
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    code = code_now(DEMO_TOTP_SECRET)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert response.url == reverse("home")
    coordinator = User.objects.get(email=COORDINATOR_EMAIL)
    assert client.session["_auth_user_id"] == str(coordinator.pk)


def test_a_wrong_password_does_not_sign_in(client):
    seed()
    response = client.post(
        reverse("account_login"), {"login": WORKER_EMAIL, "password": "not-the-password"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_demo_provider_has_past_shifts_waiting_for_attendance_timesheet_and_rating():
    from providers.selectors import provider_reviews_due

    seed()
    provider = ProviderMember.objects.get(user__email="provider@flexpool.test").provider
    due = provider_reviews_due(provider=provider)
    assert any(b.status == Booking.Status.BOOKED for b in due)  # attendance to confirm
    assert any(
        getattr(b, "timesheet", None) and b.timesheet.status == Timesheet.Status.SUBMITTED
        for b in due
    )
    assert Booking.objects.filter(
        shift__provider=provider, status=Booking.Status.ATTENDED, rating__isnull=True,
        timesheet__status=Timesheet.Status.APPROVED,
    ).exists()  # fmt: skip
