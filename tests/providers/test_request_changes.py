"""Cancel, change and record the outcome of a request (H1's shift services underneath)."""

from __future__ import annotations

import importlib.util
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shifts.models import ShiftRequest

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        importlib.util.find_spec("shifts.services.posting") is None,
        reason="shifts.services.posting (H1) has not landed yet",
    ),
]


def test_she_cancels_a_request(client, manager, upcoming, django_capture_on_commit_callbacks):
    client.force_login(manager)
    response = client.post(
        reverse("providers:shift_cancel", kwargs={"pk": upcoming.pk}), {"reason": "Back from sick"}
    )
    assert response.status_code == 302
    upcoming.refresh_from_db()
    assert upcoming.status == ShiftRequest.Status.CANCELLED


def test_she_records_that_a_request_went_to_an_agency(client, manager, upcoming):
    started = timezone.now() - timedelta(hours=1)
    ShiftRequest.objects.filter(pk=upcoming.pk).update(
        start=started, end=started + timedelta(hours=8)
    )
    client.force_login(manager)
    client.post(
        reverse("providers:shift_outcome", kwargs={"pk": upcoming.pk}), {"outcome": "agency"}
    )
    upcoming.refresh_from_db()
    assert upcoming.outcome == ShiftRequest.Outcome.AGENCY


def test_she_is_not_asked_what_happened_before_the_shift_starts(client, manager, upcoming):
    client.force_login(manager)
    page = client.get(reverse("providers:shift_detail", kwargs={"pk": upcoming.pk}))
    assert "It went to an agency" not in page.content.decode()
    client.post(
        reverse("providers:shift_outcome", kwargs={"pk": upcoming.pk}), {"outcome": "agency"}
    )
    upcoming.refresh_from_db()
    assert upcoming.outcome == ""


def test_an_outcome_must_be_chosen(client, manager, upcoming):
    client.force_login(manager)
    client.post(reverse("providers:shift_outcome", kwargs={"pk": upcoming.pk}), {"outcome": "x"})
    upcoming.refresh_from_db()
    assert upcoming.outcome == ""


def test_she_changes_the_time_of_a_request(client, manager, upcoming):
    client.force_login(manager)
    day = timezone.localtime(upcoming.start).date()
    response = client.post(
        reverse("providers:shift_edit", kwargs={"pk": upcoming.pk}),
        {
            "role": upcoming.role_id,
            "date": day.isoformat(),
            "start_time": "09:00",
            "end_time": "17:30",
            "headcount": "1",
            "agency_hourly_rate": "24.50",
            "notes": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    upcoming.refresh_from_db()
    assert timezone.localtime(upcoming.start).hour == 9
    assert upcoming.end - upcoming.start == timedelta(hours=8, minutes=30)


def test_a_change_that_breaks_a_rule_is_shown_on_the_form(client, manager, upcoming):
    client.force_login(manager)
    response = client.post(
        reverse("providers:shift_edit", kwargs={"pk": upcoming.pk}),
        {
            "role": upcoming.role_id,
            "date": timezone.localtime(upcoming.start).date().isoformat(),
            "start_time": "06:00",
            "end_time": "23:00",
            "headcount": "1",
        },
    )
    assert response.status_code == 200
    assert "end_time" in response.context["form"].errors


def test_cancelling_tells_the_booked_worker(client, manager, upcoming, worker):
    from notifications.models import Notification
    from tests.providers.conftest import book

    booking = book(upcoming, worker)
    client.force_login(manager)
    client.post(reverse("providers:shift_cancel", kwargs={"pk": upcoming.pk}), {"reason": ""})
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert Notification.objects.filter(user=worker.user, kind="booking_cancelled").exists()
