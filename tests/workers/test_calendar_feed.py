"""The calendar feed: UIDs from SITE_URL, cancelled bookings kept two weeks as
cancelled with a higher SEQUENCE, and a reminder alarm on live ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from shifts.services.lifecycle import booking_cancel
from tests.workers.conftest import make_booking, shift_at
from workers.services import worker_calendar_token_reset

pytestmark = pytest.mark.django_db


def _events(body: str) -> list[str]:
    return body.split("BEGIN:VEVENT")[1:]


def _feed(client, worker) -> str:
    token = worker_calendar_token_reset(worker=worker)
    return client.get(reverse("workers:calendar_feed", args=[token])).content.decode()


def test_uids_come_from_site_url_not_the_host_asked(client, worker, shift, settings):
    settings.SITE_URL = "https://flex.bury.example"
    settings.ALLOWED_HOSTS = ["*"]
    booking = make_booking(shift, worker)
    token = worker_calendar_token_reset(worker=worker)
    url = reverse("workers:calendar_feed", args=[token])
    one = client.get(url, HTTP_HOST="10.0.0.7:8000").content.decode()
    two = client.get(url, HTTP_HOST="localhost").content.decode()
    uid = f"UID:booking-{booking.pk}@flex.bury.example"
    assert uid in one and uid in two


def test_a_live_booking_has_a_reminder_alarm_two_hours_before(client, worker, shift):
    make_booking(shift, worker)
    [event] = _events(_feed(client, worker))
    assert "STATUS:CONFIRMED" in event and "SEQUENCE:0" in event
    assert "BEGIN:VALARM" in event and "TRIGGER:-PT2H" in event and "ACTION:DISPLAY" in event


def test_a_cancelled_booking_stays_two_weeks_as_cancelled_with_a_higher_sequence(
    client, worker, site
):
    shift = shift_at(site, timezone.now() + timedelta(days=20))
    booking = make_booking(shift, worker)
    booking_cancel(booking=booking, by=worker.user, reason="Unwell")
    [event] = _events(_feed(client, worker))
    assert f"UID:booking-{booking.pk}@" in event
    assert "STATUS:CANCELLED" in event and "SEQUENCE:1" in event
    assert "VALARM" not in event
    assert "LOCATION:" not in event  # no address for a shift they no longer go to
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert _events(_feed(client, worker)) == []
