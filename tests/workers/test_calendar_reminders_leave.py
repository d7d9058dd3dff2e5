from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification
from shifts.models import Booking, Offer
from tests.workers.conftest import make_booking, make_offer, shift_at
from workers.models import BookingReminder, Document, Worker
from workers.services import booking_reminders_send

pytestmark = pytest.mark.django_db


# --- Calendar feed ----------------------------------------------------------------------


def test_the_calendar_feed_lists_bookings_and_can_be_revoked(worker_client, worker, shift):
    make_booking(shift, worker)
    worker_client.post(reverse("workers:calendar_manage"), {"action": "reset"})
    worker.refresh_from_db()
    url = reverse("workers:calendar_feed", args=[worker.calendar_token])
    assert url in worker_client.get(reverse("workers:shifts")).content.decode()

    worker_client.logout()  # a calendar app has no session: the token is the key
    response = worker_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    start = shift.start.astimezone(UTC)
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in body
    assert "SUMMARY:Care worker at Oak House" in body
    assert "LOCATION:" in body and "Bolton Street\\, Bury\\, BL9 0AA" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))

    worker_client.force_login(worker.user)
    worker_client.post(reverse("workers:calendar_manage"), {"action": "reset"})
    assert worker_client.get(url).status_code == 404  # the old link stops working
    worker.refresh_from_db()
    worker_client.post(reverse("workers:calendar_manage"), {"action": "revoke"})
    assert (
        worker_client.get(
            reverse("workers:calendar_feed", args=[worker.calendar_token or "x"])
        ).status_code
        == 404
    )


def test_a_calendar_feed_shows_only_its_own_workers_shifts(client, worker, other_worker, site):
    make_booking(shift_at(site, timezone.now() + timedelta(days=2)), other_worker)
    from workers.services import worker_calendar_token_reset

    token = worker_calendar_token_reset(worker=worker)
    body = client.get(reverse("workers:calendar_feed", args=[token])).content.decode()
    assert "BEGIN:VEVENT" not in body
    assert client.get(reverse("workers:calendar_feed", args=["guess"])).status_code == 404


# --- Reminders --------------------------------------------------------------------------


def test_reminders_go_the_day_before_and_two_hours_before_once_each(worker, site):
    start = timezone.localtime().replace(hour=14, minute=0, second=0, microsecond=0)
    start += timedelta(days=2)
    booking = make_booking(shift_at(site, start), worker)
    Booking.objects.filter(pk=booking.pk).update(booked_at=start - timedelta(days=3))
    with time_machine.travel(start - timedelta(hours=30)):
        assert booking_reminders_send() == 0
    with time_machine.travel(start - timedelta(hours=23)):
        assert booking_reminders_send() == 1
        assert booking_reminders_send() == 0
    with time_machine.travel(start - timedelta(hours=3)):
        assert booking_reminders_send() == 0
    with time_machine.travel(start - timedelta(hours=1, minutes=55)):
        assert booking_reminders_send() == 1
        assert booking_reminders_send() == 0
    kinds = set(BookingReminder.objects.values_list("kind", flat=True))
    assert kinds == {"day_before", "two_hours"}
    notes = Notification.objects.filter(user=worker.user, kind__startswith="booking_reminder")
    assert notes.count() == 2
    assert "Please confirm you are still coming" in notes.first().body
    assert notes.last().subject.startswith("Your shift tomorrow at ")
    assert notes.first().url == reverse("workers:shift", args=[booking.pk])


def test_a_cancelled_booking_gets_no_reminder(worker, site):
    start = timezone.now() + timedelta(hours=10)
    booking = make_booking(shift_at(site, start), worker)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    assert booking_reminders_send() == 0


def test_someone_who_booked_inside_the_window_is_not_asked_again(worker, site):
    make_booking(shift_at(site, timezone.now() + timedelta(hours=10)), worker)
    assert booking_reminders_send() == 0


def test_the_reminder_task_is_queued_after_commit(worker, site, django_capture_on_commit_callbacks):
    from workers.tasks import bookings_send_reminders

    booking = make_booking(shift_at(site, timezone.now() + timedelta(hours=10)), worker)
    Booking.objects.filter(pk=booking.pk).update(booked_at=timezone.now() - timedelta(days=2))
    with django_capture_on_commit_callbacks() as callbacks:
        assert bookings_send_reminders() == 1
    assert len(callbacks) == 1  # the notification's delivery, queued after commit


# --- Leaving ----------------------------------------------------------------------------


def test_closing_an_account_erases_personal_data_and_keeps_the_bookings(
    client, worker, site, tmp_path, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    past = make_booking(shift_at(site, timezone.now() - timedelta(days=3)), worker)
    Booking.objects.filter(pk=past.pk).update(status=Booking.Status.ATTENDED)
    offer = make_offer(shift_at(site, timezone.now() + timedelta(days=4)), worker)
    doc = Document.objects.filter(worker=worker).first()
    doc.file.save("x.pdf", ContentFile(b"%PDF-1.4 secret"))
    path = tmp_path / doc.file.name
    assert path.exists()
    user_pk = worker.user.pk

    client.force_login(worker.user)
    response = client.post(reverse("workers:leave"), {"confirm": "on"})
    assert response["Location"] == reverse("workers:left")

    worker = Worker.objects.get(pk=worker.pk)
    assert worker.status == Worker.Status.LEFT
    assert worker.user is None
    assert (worker.phone, worker.postcode, worker.district, worker.latitude) == ("", "", "", None)
    assert "Wendy" not in worker.display_name
    assert not Document.objects.filter(worker=worker).exists()
    assert not path.exists()
    user = User.objects.get(pk=user_pk)
    assert user.email == f"closed-{user_pk}@flexpool.invalid"
    assert (user.first_name, user.last_name, user.is_active) == ("", "", False)
    assert not user.has_usable_password()
    assert Booking.objects.get(pk=past.pk).status == Booking.Status.ATTENDED
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    # the browser's session is over
    assert client.get(reverse("workers:offers")).status_code == 302


def test_a_worker_with_an_upcoming_booking_must_cancel_it_before_leaving(
    worker_client, worker, shift
):
    make_booking(shift, worker)
    response = worker_client.post(reverse("workers:leave"), {"confirm": "on"})
    assert "Cancel your upcoming shifts" in response.content.decode()
    worker.refresh_from_db()
    assert worker.status == Worker.Status.APPROVED


def test_leaving_needs_the_box_ticked(worker_client, worker):
    response = worker_client.post(reverse("workers:leave"), {})
    assert "Confirm that you want to close your account." in response.content.decode()


# --- Every page: the worker gets it, others do not --------------------------------------

PAGES = [
    "workers:offers",
    "workers:shifts",
    "workers:availability",
    "workers:documents",
    "workers:profile",
    "workers:account",
    "workers:record",
    "workers:notifications",
    "workers:leave",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_worker_page_loads_for_the_worker_and_404s_for_other_areas(
    client, worker, manager, coordinator, name
):
    client.force_login(worker.user)
    assert client.get(reverse(name)).status_code == 200
    for user in (manager, coordinator):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 404
    client.logout()
    assert client.get(reverse(name)).status_code == 302


@pytest.mark.parametrize("name", PAGES)
def test_a_departed_worker_has_no_pages(client, worker, name):
    Worker.objects.filter(pk=worker.pk).update(status=Worker.Status.LEFT)
    client.force_login(worker.user)
    assert client.get(reverse(name)).status_code == 302  # back to apply


def test_pwa_manifest_and_service_worker_are_served_from_the_root(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == reverse("workers:offers")
    sw = client.get("/sw.js")
    assert sw["Content-Type"].startswith("text/javascript")
    assert sw["Service-Worker-Allowed"] == "/"
    assert reverse("workers:shifts").encode() in sw.content


def test_worker_pages_link_the_manifest(worker_client):
    body = worker_client.get(reverse("workers:shifts")).content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in body
