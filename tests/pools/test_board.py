from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from pools.models import AuditEntry
from shifts.models import MatchRun, Offer
from tests import factories as f
from workers.models import Worker


def test_the_board_lists_open_shifts_soonest_first_with_escalated_ones_marked(
    client, coordinator, site
):
    later = f.ShiftFactory(site=site, notes="later")
    sooner = f.ShiftFactory(
        site=site,
        start=later.start - timedelta(hours=4),
        end=later.start - timedelta(hours=1),
        escalated_at=timezone.now(),
    )
    MatchRun.objects.create(
        shift=sooner, wave=2, ran_at=timezone.now(), eligible_count=7, offered_count=5
    )
    client.force_login(coordinator)
    page = client.get(reverse("pools:board")).content.decode()
    assert page.index(f"/pool/shifts/{sooner.pk}/") < page.index(f"/pool/shifts/{later.pk}/")
    assert "Escalated" in page and "flexpool-row--alert" in page
    assert "Wave 2: 7 eligible, 5 offered" in page


def test_a_coordinator_offers_a_shift_directly_to_an_eligible_worker(
    client, coordinator, site, worker
):
    shift = f.ShiftFactory(site=site)
    client.force_login(coordinator)
    page = client.get(reverse("pools:shift", kwargs={"pk": shift.pk})).content.decode()
    assert f"Offer to {worker.display_name}" in page
    response = client.post(
        reverse("pools:shift_offer", kwargs={"pk": shift.pk}), {"worker": worker.pk}
    )
    assert response.status_code == 302
    assert Offer.objects.filter(shift=shift, worker=worker, status="pending").exists()
    assert AuditEntry.objects.filter(action="shift.offer_direct", target_id=shift.pk).exists()


def test_a_direct_offer_to_an_ineligible_worker_says_why(client, coordinator, site, pool):
    suspended = f.WorkerFactory(pool=pool, status=Worker.Status.SUSPENDED)
    shift = f.ShiftFactory(site=site)
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:shift_offer", kwargs={"pk": shift.pk}), {"worker": suspended.pk}
    )
    assert response.status_code == 400
    assert "cannot take this shift" in response.content.decode()
    assert not Offer.objects.filter(shift=shift).exists()


def test_widening_the_radius_and_marking_critical_are_audited(client, coordinator, site):
    shift = f.ShiftFactory(site=site)
    client.force_login(coordinator)
    client.post(reverse("pools:shift_widen", kwargs={"pk": shift.pk}), {"extra_km": "5"})
    client.post(
        reverse("pools:shift_critical", kwargs={"pk": shift.pk}),
        {"reason": "Hospital discharge waiting"},
    )
    shift.refresh_from_db()
    assert shift.radius_bonus_km == Decimal("5.0")
    assert shift.is_critical and shift.critical_reason == "Hospital discharge waiting"
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {
        "shift.widen_radius",
        "shift.mark_critical",
    }


def test_widening_by_nonsense_is_a_field_error(client, coordinator, site):
    shift = f.ShiftFactory(site=site)
    client.force_login(coordinator)
    response = client.post(reverse("pools:shift_widen", kwargs={"pk": shift.pk}), {"extra_km": "x"})
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    response = client.post(reverse("pools:shift_critical", kwargs={"pk": shift.pk}), {"reason": ""})
    assert response.status_code == 400
