"""/metrics for an operations team: behind a bearer token; request latency, outbox
backlog and age, deliveries by channel, first-wave latency, queue depth; JSON logs."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import Delivery, Notification
from outbox.models import OutboxMessage
from outbox.services import outbox_consume
from pools.models import Role
from shifts.services.posting import shift_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    return settings.METRICS_TOKEN


def test_metrics_are_hidden_without_the_token(token, client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


def test_metrics_are_off_when_no_token_is_set(settings, client):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_show_requests_outbox_deliveries_and_first_waves(token, provider, site, worker):
    start = timezone.now() + timedelta(days=1)
    shift_post(
        provider=provider,
        site=site,
        role=Role.objects.get(slug="care-worker"),
        skills=[],
        start=start,
        end=start + timedelta(hours=8),
        headcount=1,
    )
    outbox_consume(message_id=OutboxMessage.objects.get().pk)  # the first wave
    note = Notification.objects.create(user=worker.user, kind="k", subject="s", body="b")
    Delivery.objects.create(notification=note, channel="sms", status="failed", attempts=2)
    Delivery.objects.create(notification=note, channel="email", status="sent", attempts=1)

    client = Client()
    client.get("/healthz")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert "flexpool_outbox_backlog 1.0" in text  # the wave's offer message
    assert "flexpool_outbox_oldest_age_seconds" in text
    assert 'flexpool_delivery_attempts_total{channel="sms"} 2.0' in text
    assert 'flexpool_delivery_failures_total{channel="sms"} 2.0' in text
    assert 'flexpool_delivery_failures_total{channel="email"} 0.0' in text
    assert "flexpool_matching_first_waves_last_hour 1.0" in text
    assert 'flexpool_matching_first_wave_seconds{quantile="0.95"}' in text
    assert "flexpool_celery_queue_depth" in text
    assert "flexpool_shifts_waiting_first_wave 0.0" in text


def test_json_logs_carry_the_ids(capsys):
    from flexpool.logs import JsonFormatter

    record = logging.makeLogRecord(
        {"name": "flexpool.offers", "msg": "offer accepted", "levelname": "INFO"}
    )
    record.shift_id = 7
    record.offer_id = 42
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "offer accepted"
    assert line["shift_id"] == 7 and line["offer_id"] == 42


def test_errors_go_to_sentry_when_a_dsn_is_set_and_not_otherwise():
    import os
    import subprocess
    import sys

    probe = (
        "import django; django.setup(); import sentry_sdk; c = sentry_sdk.get_client(); "
        "print(c.is_active(), c.options.get('send_default_pii'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flexpool.settings"}
    env.pop("SENTRY_DSN", None)
    off = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert off.stdout.split()[:1] == ["False"], off.stderr
    # A DSN on a loopback port nothing listens on: initialised, nothing leaves the machine.
    env["SENTRY_DSN"] = "http://public@127.0.0.1:9119/1"
    on = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert on.stdout.split() == ["True", "False"], on.stderr
