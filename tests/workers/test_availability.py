from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from workers.models import AvailabilityException, AvailabilityRule

pytestmark = pytest.mark.django_db


def test_a_worker_adds_and_removes_a_weekly_time(client, pool):
    from tests import factories as f

    worker = f.WorkerFactory(pool=pool, availability=False)
    client.force_login(worker.user)
    url = reverse("workers:availability")
    response = client.post(
        url,
        {"action": "rule", "rule-weekday": "2", "rule-start": "07:30", "rule-end": "00:00"},
    )
    assert response.status_code == 302
    rule = AvailabilityRule.objects.get(worker=worker)
    assert (rule.weekday, rule.start_minute, rule.end_minute) == (2, 450, 1440)
    assert "07:30–midnight" in client.get(url).content.decode()
    client.post(url, {"action": "remove-rule", "id": rule.pk})
    assert not AvailabilityRule.objects.filter(worker=worker).exists()


def test_an_end_before_the_start_is_a_field_error(worker_client, worker):
    url = reverse("workers:availability")
    count = AvailabilityRule.objects.filter(worker=worker).count()
    response = worker_client.post(
        url, {"action": "rule", "rule-weekday": "1", "rule-start": "18:00", "rule-end": "09:00"}
    )
    assert response.status_code == 200
    assert "The end time must be after the start time." in response.content.decode()
    assert AvailabilityRule.objects.filter(worker=worker).count() == count


def test_a_worker_marks_a_date_they_cannot_work(worker_client, worker):
    day = timezone.localdate() + timedelta(days=3)
    response = worker_client.post(
        reverse("workers:availability"),
        {"action": "exception", "exception-day": day.isoformat(), "exception-available": "no"},
    )
    assert response.status_code == 302
    exception = AvailabilityException.objects.get(worker=worker)
    assert (exception.day, exception.available) == (day, False)
    assert (exception.start_minute, exception.end_minute) == (0, 1440)


def test_a_date_in_the_past_is_refused(worker_client, worker):
    day = timezone.localdate() - timedelta(days=1)
    response = worker_client.post(
        reverse("workers:availability"),
        {"action": "exception", "exception-day": day.isoformat(), "exception-available": "yes"},
    )
    assert "must be today or in the future" in response.content.decode()
    assert not AvailabilityException.objects.exists()


def test_ready_now_switches_on_for_some_hours_and_off(worker_client, worker):
    url = reverse("workers:availability")
    before = timezone.now()
    worker_client.post(url, {"action": "ready", "ready-hours": "4"})
    worker.refresh_from_db()
    assert worker.ready_now_until is not None
    assert (
        timedelta(hours=3, minutes=59)
        < worker.ready_now_until - before
        <= timedelta(hours=4, seconds=5)
    )
    worker_client.post(url, {"action": "ready", "ready-hours": "0"})
    worker.refresh_from_db()
    assert worker.ready_now_until is None


def test_a_worker_cannot_remove_another_workers_times(client, worker, other_worker):
    rule = AvailabilityRule.objects.filter(worker=other_worker).first()
    client.force_login(worker.user)
    client.post(reverse("workers:availability"), {"action": "remove-rule", "id": rule.pk})
    assert AvailabilityRule.objects.filter(pk=rule.pk).exists()
