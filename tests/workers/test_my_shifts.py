from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from shifts.models import Booking, Timesheet
from tests import factories as f
from tests.workers.conftest import make_booking, shift_at

pytestmark = pytest.mark.django_db


def test_my_shifts_lists_upcoming_with_address_and_map_link(worker_client, worker, shift):
    booking = make_booking(shift, worker)
    body = worker_client.get(reverse("workers:shifts")).content.decode()
    assert shift.site.address in body
    assert "https://www.openstreetmap.org/?mlat=53.59300&amp;mlon=-2.29800" in body
    assert reverse("workers:shift", args=[booking.pk]) in body
    assert "Please confirm" in body


def test_another_workers_booking_answers_404_everywhere(client, worker, other_worker, shift):
    booking = make_booking(shift, other_worker)
    client.force_login(worker.user)
    for name in ("shift", "shift_cancel"):
        assert client.get(reverse(f"workers:{name}", args=[booking.pk])).status_code == 404
    for name in ("shift_confirm", "shift_clock_in", "shift_clock_out", "shift_cancel"):
        assert client.post(reverse(f"workers:{name}", args=[booking.pk])).status_code == 404
    assert shift.site.address not in client.get(reverse("workers:shifts")).content.decode()
    booking.refresh_from_db()
    assert booking.confirmed_at is None and booking.status == Booking.Status.BOOKED


def test_confirming_sets_confirmed_at_once(worker_client, worker, shift):
    booking = make_booking(shift, worker)
    worker_client.post(reverse("workers:shift_confirm", args=[booking.pk]))
    booking.refresh_from_db()
    first = booking.confirmed_at
    assert first is not None
    worker_client.post(reverse("workers:shift_confirm", args=[booking.pk]))
    booking.refresh_from_db()
    assert booking.confirmed_at == first


def test_clocking_in_and_out_submits_a_timesheet_and_counts_hours_and_pay(
    worker_client, worker, site
):
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=30)
    shift = shift_at(site, start, hours=8)
    booking = make_booking(shift, worker)
    page = worker_client.get(reverse("workers:shift", args=[booking.pk])).content.decode()
    assert "Clock in" in page
    worker_client.post(reverse("workers:shift_clock_in", args=[booking.pk]))
    timesheet = Timesheet.objects.get(booking=booking)
    assert timesheet.status == Timesheet.Status.OPEN
    with time_machine.travel(start + timedelta(hours=8, minutes=30)):
        response = worker_client.post(
            reverse("workers:shift_clock_out", args=[booking.pk]), {"break_minutes": "30"}
        )
        assert response.status_code == 302
        timesheet.refresh_from_db()
        assert timesheet.status == Timesheet.Status.SUBMITTED
        assert timesheet.break_minutes == 30
        assert timesheet.hours == Decimal("8.50")
        body = worker_client.get(reverse("workers:shifts")).content.decode()
    assert "£120.70" in body  # 8.5 hours at £14.20


def test_clocking_in_a_day_early_is_refused_with_a_message(worker_client, worker, shift):
    booking = make_booking(shift, worker)
    response = worker_client.post(reverse("workers:shift_clock_in", args=[booking.pk]), follow=True)
    assert "You can clock in from an hour before the shift starts." in response.content.decode()
    assert not Timesheet.objects.exists()


def test_cancelling_needs_a_reason_and_warns_when_late(worker_client, worker, site):
    shift = shift_at(site, timezone.now() + timedelta(hours=5))
    booking = make_booking(shift, worker)
    url = reverse("workers:shift_cancel", args=[booking.pk])
    page = worker_client.get(url).content.decode()
    assert "late cancellation" in page
    response = worker_client.post(url, {"reason": ""})
    assert "Enter why you are cancelling." in response.content.decode()
    response = worker_client.post(url, {"reason": "My child is ill"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.late_cancellation is True
    assert booking.cancelled_by == Booking.CancelledBy.WORKER
    record = worker_client.get(reverse("workers:record")).content.decode()
    assert "Late cancellations" in record


def test_the_record_counts_shifts_worked_late_cancellations_and_no_shows(client, pool, site):
    worker = f.WorkerFactory(pool=pool)
    for days, status, late in [
        (-3, Booking.Status.ATTENDED, False),
        (-5, Booking.Status.ATTENDED, False),
        (-7, Booking.Status.NO_SHOW, False),
        (-9, Booking.Status.CANCELLED, True),
    ]:
        booking = make_booking(shift_at(site, timezone.now() + timedelta(days=days)), worker)
        Booking.objects.filter(pk=booking.pk).update(
            status=status,
            late_cancellation=late,
            cancelled_by=Booking.CancelledBy.WORKER if late else "",
        )
    client.force_login(worker.user)
    response = client.get(reverse("workers:record"))
    rows = response.context["record"]
    assert (rows.shifts_worked, rows.late_cancellations, rows.no_shows) == (2, 1, 1)
