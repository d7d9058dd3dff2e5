"""The outbox: after-commit work is a row in the same transaction, published at once,
republished by the relay, done only when its effect is recorded."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from outbox.models import OutboxMessage
from outbox.services import ATOMIC_HEADER, outbox_consume, outbox_publish, outbox_relay
from pools.models import Role, Skill
from shifts.models import MatchRun, ShiftRequest
from shifts.services.posting import shift_post
from tests.faults import OwnRedis, celery_app_broker, celery_worker
from tests.outbox import handlers

HANDLERS = handlers.__name__


def _post(provider, site, **extra):
    start = timezone.now() + timedelta(days=1)
    return shift_post(
        provider=provider,
        site=site,
        role=Role.objects.get(slug="care-worker"),
        skills=[],
        start=start,
        end=start + timedelta(hours=8),
        headcount=1,
        **extra,
    )


@pytest.mark.django_db
def test_posting_a_shift_writes_its_matching_intent_in_the_same_transaction(provider, site):
    shift = _post(provider, site)
    row = OutboxMessage.objects.get()
    assert row.handler == "shifts.tasks.shift_match_due"
    assert row.payload == {"shift_id": shift.pk} and row.done_at is None


@pytest.mark.django_db
def test_a_rolled_back_posting_leaves_no_intent(provider, site):
    with pytest.raises(RuntimeError), transaction.atomic():
        _post(provider, site)
        raise RuntimeError("the request failed after saving")
    assert not ShiftRequest.objects.exists()
    assert not OutboxMessage.objects.exists()


# ``atomic``: whether the Celery message said the row's handler is atomic (messages
# published before that header existed say nothing).
@pytest.mark.parametrize("atomic", [True, False], ids=["said-atomic", "said-nothing"])
@pytest.mark.django_db
def test_consuming_runs_the_wave_marks_the_row_done_and_a_second_consume_does_nothing(
    provider, site, worker, atomic
):
    shift = _post(provider, site)
    row = OutboxMessage.objects.get()
    assert outbox_consume(message_id=row.pk, atomic=atomic) is True
    row.refresh_from_db()
    assert row.done_at is not None
    assert MatchRun.objects.filter(shift=shift, wave=1, offered_count=1).exists()
    assert outbox_consume(message_id=row.pk, atomic=atomic) is False  # a duplicated task
    assert MatchRun.objects.filter(shift=shift).count() == 1


@pytest.mark.parametrize("atomic", [True, False], ids=["said-atomic", "said-nothing"])
@pytest.mark.django_db
def test_a_failing_handler_leaves_the_row_pending_with_a_back_off(
    provider, site, monkeypatch, atomic
):
    from shifts import matching

    def broken(**kwargs):
        raise ValueError("matching broke")

    _post(provider, site)
    row = OutboxMessage.objects.get()
    monkeypatch.setattr(matching, "shift_match_wave", broken)
    before = timezone.now()
    assert outbox_consume(message_id=row.pk, atomic=atomic) is False
    row.refresh_from_db()
    assert row.done_at is None and row.attempts == 1
    assert "matching broke" in row.last_error
    assert row.available_at >= before + timedelta(seconds=10)


@pytest.mark.parametrize("atomic", [True, False], ids=["said-atomic", "said-nothing"])
@pytest.mark.django_db(transaction=True)
def test_a_failing_atomic_handler_leaves_none_of_its_writes_and_its_failure_recorded(atomic):
    row = OutboxMessage.objects.create(handler=f"{HANDLERS}.atomic_writes_then_fails")
    assert outbox_consume(message_id=row.pk, atomic=atomic) is False
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [row.pk]
    row.refresh_from_db()
    assert row.done_at is None and row.attempts == 1
    assert row.last_error == "ValueError: failed after writing"
    assert outbox_consume(message_id=row.pk, atomic=atomic) is False
    row.refresh_from_db()
    assert row.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_an_atomic_row_its_message_names_so_is_claimed_and_marked_done_in_one_statement():
    """No read before the lock, no savepoint around the handler: the claim (lock, mark
    done, read the payload) is the outbox's only statement in its transaction."""
    row = OutboxMessage.objects.create(handler=f"{HANDLERS}.atomic_noted", payload={"n": 1})
    handlers.calls.clear()
    with CaptureQueriesContext(connection) as queries:
        assert outbox_consume(message_id=row.pk, atomic=True) is True
    statements = [q["sql"].split()[0] for q in queries]
    assert statements == ["BEGIN", "UPDATE", "COMMIT"], [q["sql"] for q in queries]
    assert handlers.calls == [("atomic", {"n": 1})]
    row.refresh_from_db()
    assert row.done_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_plain_row_is_read_once_and_marked_done_once():
    row = OutboxMessage.objects.create(handler=f"{HANDLERS}.plain_noted", payload={"n": 3})
    handlers.calls.clear()
    with CaptureQueriesContext(connection) as queries:
        assert outbox_consume(message_id=row.pk) is True
    assert [q["sql"].split()[0] for q in queries] == ["SELECT", "UPDATE"]
    assert handlers.calls == [("plain", {"n": 3})]
    assert outbox_consume(message_id=row.pk) is False  # a duplicated task
    assert handlers.calls == [("plain", {"n": 3})]


@pytest.mark.django_db
def test_a_message_that_says_atomic_for_a_handler_that_is_not_runs_it_the_plain_way():
    """A handler made non-atomic by a deploy while its messages were in flight."""
    row = OutboxMessage.objects.create(handler=f"{HANDLERS}.plain_noted", payload={"n": 2})
    handlers.calls.clear()
    assert outbox_consume(message_id=row.pk, atomic=True) is True
    assert handlers.calls == [("plain", {"n": 2})]
    row.refresh_from_db()
    assert row.done_at is not None


@pytest.mark.django_db
def test_the_task_passes_on_what_its_message_header_says(monkeypatch):
    from outbox import tasks

    seen: list[tuple[int, bool]] = []
    monkeypatch.setattr(
        tasks.services,
        "outbox_consume",
        lambda *, message_id, atomic: seen.append((message_id, atomic)) or True,
    )
    tasks.outbox_consume.apply((7,), headers={ATOMIC_HEADER: True})
    tasks.outbox_consume.apply((8,))
    assert seen == [(7, True), (8, False)]


@pytest.mark.django_db
def test_the_relay_republishes_only_rows_whose_time_has_come(provider, site, monkeypatch):
    published: list[list[int]] = []
    monkeypatch.setattr(
        "outbox.services.outbox_publish",
        lambda *, message_ids, priority=None, atomic=False: (
            published.append(message_ids) or len(message_ids)
        ),
    )
    _post(provider, site)
    row = OutboxMessage.objects.get()
    assert outbox_relay() == 0  # the immediate publish gets its grace first
    later = timezone.now() + timedelta(seconds=30)
    assert outbox_relay(now=later) == 1
    assert published == [[row.pk]]
    assert outbox_relay(now=later) == 0  # pushed on: not republished at once
    row.refresh_from_db()
    assert row.published_count == 1


@pytest.fixture
def own_redis(tmp_path):
    from django.conf import settings

    original_broker = settings.CELERY_BROKER_URL
    redis = OwnRedis(tmp_path)
    redis.start()
    celery_app_broker(redis.url())
    yield redis
    redis.stop()
    celery_app_broker(original_broker)


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_posting_answers_201_and_redirect_and_matching_catches_up(
    own_redis, manager, provider, site, worker, client, settings
):
    # Cache and broker both on the Redis that goes down, as in production.
    settings.CACHES = {
        "default": {
            "BACKEND": "flexpool.cache.FallbackRedisCache",
            "LOCATION": own_redis.url(1),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    own_redis.stop()
    api = APIClient()
    api.force_authenticate(manager)
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    started = time.monotonic()
    response = api.post(
        "/api/v1/shifts/",
        {
            "site": site.pk,
            "role": "care-worker",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=8)).isoformat(),
            "headcount": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    client.force_login(manager)
    form = client.post(
        reverse("providers:shift_new"),
        {
            "site": site.pk,
            "role": Role.objects.get(slug="care-worker").pk,
            "skills": [Skill.objects.get(slug="dementia").pk],
            "date": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "start_time": "07:00",
            "end_time": "15:00",
            "headcount": "1",
            "agency_hourly_rate": "26.00",
            "rate_prefilled": "24.50",
            "notes": "",
            "offer_first": "",
        },
    )
    assert form.status_code == 302
    assert time.monotonic() - started < 5, "a down broker must not hold the request up"
    assert ShiftRequest.objects.count() == 2
    assert OutboxMessage.objects.filter(done_at__isnull=True).count() == 2
    assert outbox_publish(message_ids=[1]) == 0  # still down: the publish fails quietly

    own_redis.start()
    with celery_worker(own_redis.url()) as process:
        # What beat's relay does once the grace has passed.
        outbox_relay(now=timezone.now() + timedelta(minutes=1))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not ShiftRequest.objects.filter(matched_at__isnull=True).exists():
                break
            assert process.poll() is None, "".join(process.log)
            time.sleep(0.2)
        assert not ShiftRequest.objects.filter(matched_at__isnull=True).exists(), "".join(
            process.log
        )
    assert not OutboxMessage.objects.filter(done_at__isnull=True).exists()
    assert MatchRun.objects.filter(wave=1).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_relay_keeps_each_rows_priority_so_deliveries_stay_behind_matching(
    own_redis, provider, site
):
    import redis

    from notifications.services import BULK_PRIORITY, DELIVER_HANDLER
    from outbox.services import outbox_put_many

    _post(provider, site)
    outbox_put_many(
        handler=DELIVER_HANDLER, payloads=[{"notification_ids": []}], priority=BULK_PRIORITY
    )
    broker = redis.Redis.from_url(own_redis.url())
    broker.flushdb()  # as if both immediate publishes had been lost
    assert outbox_relay(now=timezone.now() + timedelta(minutes=1)) == 2
    assert broker.llen("celery") == 1  # matching: served first
    assert broker.llen(f"celery\x06\x16{BULK_PRIORITY}") == 1  # the delivery: served last
    # Each says whether its handler is atomic: the wave's is, the delivery's is not.
    matching = json.loads(broker.lpop("celery"))
    delivery = json.loads(broker.lpop(f"celery\x06\x16{BULK_PRIORITY}"))
    assert matching["headers"].get(ATOMIC_HEADER) is True
    assert ATOMIC_HEADER not in delivery["headers"]


@pytest.mark.django_db
def test_a_posted_shifts_message_says_its_handler_is_atomic(
    own_redis, provider, site, django_capture_on_commit_callbacks
):
    import redis

    broker = redis.Redis.from_url(own_redis.url())
    broker.flushdb()
    with django_capture_on_commit_callbacks(execute=True):
        _post(provider, site)
    message = json.loads(broker.lpop("celery"))
    assert message["headers"]["task"] == "outbox.tasks.outbox_consume"
    assert message["headers"][ATOMIC_HEADER] is True
