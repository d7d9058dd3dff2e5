"""Prometheus metrics of FlexPool's own (django-prometheus adds the request metrics).

Counters here count what happened in *this* process (the web publishes to the outbox,
the worker runs waves and deliveries). Figures every process shares (the outbox backlog,
deliveries by channel and state, the queue depth) are read from PostgreSQL and Redis when
/metrics is scraped (``flexpool.views_metrics``), so they are true whichever process answers.
"""

from __future__ import annotations

from prometheus_client import Counter

_COUNTERS: dict[str, Counter] = {
    "outbox_published": Counter(
        "flexpool_outbox_published_total", "Outbox rows handed to the broker."
    ),
    "outbox_publish_failures": Counter(
        "flexpool_outbox_publish_failures_total",
        "Outbox rows whose publish failed (broker down); the relay republishes them.",
    ),
}


def count(name: str, n: int = 1) -> None:
    counter = _COUNTERS.get(name)
    if counter is not None and n:
        counter.inc(n)
