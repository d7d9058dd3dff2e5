"""/metrics for Prometheus, behind a bearer token (METRICS_TOKEN; unset: 404).

Request latency and counts come from django-prometheus (this process). Figures every
process shares are read when scraped: the outbox backlog and its oldest row's age,
deliveries by channel and state (attempts and failures), given-up deliveries, shifts
waiting for a first wave, and the Celery queue depth in Redis."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from accounts.access import Who, allow

CELERY_QUEUE = "celery"


def celery_queue_depth() -> int | None:
    """Messages waiting in Redis for the default queue (every priority step of it)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)
    try:
        names = [CELERY_QUEUE] + [f"{CELERY_QUEUE}\x06\x16{i}" for i in range(1, 10)]
        with client.pipeline() as pipe:
            for name in names:
                pipe.llen(name)
            return int(sum(pipe.execute()))
    finally:
        client.close()


class SharedFigures:
    """A collector that reads what every process shares, at scrape time."""

    def collect(self) -> Iterator[Metric]:
        from notifications.models import Delivery
        from outbox.services import outbox_backlog
        from shifts.models import ShiftRequest

        backlog = outbox_backlog()
        yield GaugeMetricFamily(
            "flexpool_outbox_backlog", "Outbox rows not yet done.", value=backlog.pending
        )
        yield GaugeMetricFamily(
            "flexpool_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not yet done (0 when none).",
            value=backlog.oldest_age_seconds,
        )
        attempts = CounterMetricFamily(
            "flexpool_delivery_attempts",
            "Delivery attempts by channel (every try, failed or not).",
            labels=["channel"],
        )
        failures = CounterMetricFamily(
            "flexpool_delivery_failures",
            "Failed delivery attempts by channel.",
            labels=["channel"],
        )
        states = GaugeMetricFamily(
            "flexpool_deliveries", "Deliveries by channel and state.", labels=["channel", "state"]
        )
        rows = (
            Delivery.objects.values("channel", "status")
            .annotate(n=Count("pk"), tries=Sum("attempts"))
            .order_by()
        )
        tried: dict[str, int] = {}
        sent: dict[str, int] = {}
        for row in rows:
            channel = row["channel"]
            tried[channel] = tried.get(channel, 0) + int(row["tries"] or 0)
            if row["status"] == Delivery.Status.SENT:
                sent[channel] = sent.get(channel, 0) + row["n"]
            states.add_metric([channel, row["status"]], row["n"])
        for channel, n in sorted(tried.items()):
            attempts.add_metric([channel], n)
            failures.add_metric([channel], n - sent.get(channel, 0))
        yield attempts
        yield failures
        yield states
        yield from first_wave_figures()
        waiting = ShiftRequest.objects.filter(
            status=ShiftRequest.Status.OPEN, matched_at__isnull=True, end__gt=timezone.now()
        ).count()
        yield GaugeMetricFamily(
            "flexpool_shifts_waiting_first_wave",
            "Open shifts posted but not yet matched once.",
            value=waiting,
        )
        try:
            depth = celery_queue_depth()
        except Exception:  # noqa: BLE001 - Redis down: say so with -1
            depth = -1
        if depth is not None:
            yield GaugeMetricFamily(
                "flexpool_celery_queue_depth",
                "Messages waiting in the Celery queue (-1: the broker cannot be reached).",
                value=depth,
            )


def first_wave_figures() -> list[Metric]:
    """Seconds from posting (commit) to the first wave, for shifts first matched in the
    last hour: read from the match runs, so every process reports the same."""
    from shifts.models import MatchRun

    since = timezone.now() - timedelta(hours=1)
    rows = MatchRun.objects.filter(wave=1, ran_at__gte=since).values_list(
        "ran_at", "shift__posted_at"
    )[:10000]
    seconds = sorted(max((ran - posted).total_seconds(), 0.0) for ran, posted in rows)
    quantiles = GaugeMetricFamily(
        "flexpool_matching_first_wave_seconds",
        "Seconds from posting to the first wave (shifts first matched in the last hour).",
        labels=["quantile"],
    )
    for q in (0.5, 0.95, 0.99):
        value = seconds[min(int(q * len(seconds)), len(seconds) - 1)] if seconds else 0.0
        quantiles.add_metric([str(q)], value)
    count = GaugeMetricFamily(
        "flexpool_matching_first_waves_last_hour",
        "Shifts that had their first wave in the last hour.",
        value=len(seconds),
    )
    return [quantiles, count]


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@allow(Who.PUBLIC)  # the bearer token (METRICS_TOKEN) is checked below
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        raise Http404
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedFigures())  # type: ignore[arg-type]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every gunicorn process writes its counters there; add them up.
        own = CollectorRegistry()
        multiprocess.MultiProcessCollector(own)  # type: ignore[no-untyped-call]
    else:
        own = REGISTRY
    body = generate_latest(own) + generate_latest(shared)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
