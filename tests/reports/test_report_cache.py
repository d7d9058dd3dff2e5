"""Dashboards and the stats API keep what only the rollup refresh can change until it runs
again; what is live (workers, documents) is read every time; a cache outage only costs time."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from reports.cache import live_key
from reports.forms import standard_ranges
from reports.rollups import rollups_refresh
from tests import factories as f
from tests.reports.history import FROM, TO, at, build_history
from workers.models import Worker

URL = "/api/v1/stats/summary/"
ROLLUP_TABLES = ("shiftrollup", "demandrollup", "workerrollup", "pooldayttf", "providerttftodate")


def _reads_rollups(sql: str) -> bool:
    return any(f"_{table}" in sql for table in ROLLUP_TABLES)


RANGE = {"from": FROM.isoformat(), "to": TO.isoformat()}


def _figures(response) -> str:
    """The page without its per-request CSRF tokens."""
    return re.sub(r'value="[^"]{32,}"', "", response.content.decode())


@pytest.fixture
def api(coordinator):
    client = APIClient()
    client.force_authenticate(coordinator)
    return client


def _rollup_reads(api) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        body = api.get(URL, RANGE).json()
    return body["shifts_requested"], [
        q["sql"] for q in ctx.captured_queries if _reads_rollups(q["sql"])
    ]


def test_the_summary_is_read_from_the_rollups_once_per_refresh(
    api, site, pool, django_capture_on_commit_callbacks
):
    build_history(site, pool)
    requested, reads = _rollup_reads(api)
    assert requested == 5 and reads  # built from the rollups
    requested, reads = _rollup_reads(api)
    assert requested == 5 and not reads  # kept: no rollup read at all

    f.ShiftFactory(site=site, start=at(4, 9), end=at(4, 15), posted_at=at(3, 9))
    # A rebuild of days that are not today's (RollupState.refreshed_at stays put) still
    # retires what was kept, once it commits.
    with django_capture_on_commit_callbacks(execute=True):
        rollups_refresh(pool_ids=[pool.pk], start=FROM - timedelta(days=1), end=TO)
    requested, reads = _rollup_reads(api)
    assert requested == 6 and reads  # the refresh moved the key on


def test_each_dashboard_page_is_kept_until_the_refresh(client, coordinator, site, pool):
    build_history(site, pool)
    client.force_login(coordinator)
    window = {"start": FROM.isoformat(), "end": TO.isoformat()}
    for name in ("dashboard", "dashboard_breakdown", "dashboard_demand", "dashboard_conduct"):
        url = reverse(f"reports:{name}")
        client.get(url, window)  # the first counts the week's shifts, and says so
        first = client.get(url, window)
        with CaptureQueriesContext(connection) as ctx:
            again = client.get(url, window)
        assert again.status_code == 200 and _figures(again) == _figures(first)
        assert not [q for q in ctx.captured_queries if _reads_rollups(q["sql"])], name


def test_pool_health_counts_workers_live_kept_until_the_next_refresh_and_says_when(
    client, coordinator, site, pool
):
    build_history(site, pool)
    client.force_login(coordinator)
    url = reverse("reports:dashboard_health")
    window = {"start": FROM.isoformat(), "end": TO.isoformat()}
    page = client.get(url, window).content.decode()
    assert "Pool health (workers counted at " in page
    before = client.get(url, {**window, "export": "health"}).content.decode()
    assert "Vetted workers (approved now),4" in before
    f.WorkerFactory(pool=pool, status=Worker.Status.APPROVED, documents=False, availability=False)
    kept = client.get(url, {**window, "export": "health"}).content.decode()
    assert "Vetted workers (approved now),4" in kept  # within five minutes: as counted
    cache.delete(live_key("worker-counts", ((pool.pk,), timezone.localdate())))  # five on
    after = client.get(url, {**window, "export": "health"}).content.decode()
    assert "Vetted workers (approved now),5" in after  # no rollup refresh in between


def test_with_the_cache_down_the_figures_are_still_served(api, site, pool, settings):
    build_history(site, pool)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9159/0",  # nothing listens here
        }
    }
    response = api.get(URL, RANGE)
    assert response.status_code == 200 and response.json()["shifts_requested"] == 5


@pytest.mark.django_db(transaction=True)  # commits really happen: retire, then warm
def test_after_beats_refresh_every_page_and_the_summary_are_already_computed_for_each_standard_range(
    client, api, coordinator, site, pool
):
    from reports.tasks import rollups_refresh_recent

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for days_ago in (500, 100, 3):
        start = now - timedelta(days=days_ago)
        f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=8))
    rollups_refresh(pool_ids=[pool.pk])
    rollups_refresh_recent()  # what beat runs: refresh, then warm
    client.force_login(coordinator)
    names = ("dashboard", "dashboard_breakdown", "dashboard_demand", "dashboard_conduct")
    for name in (*names, "dashboard_health"):
        default = client.get(reverse(f"reports:{name}")).content.decode()
        links = re.findall(r'href="\?(start=[^"]+)"', default)
        assert len(links) == 3, name  # 13 weeks, 12 months, 2 years
        for link in ["", *(unescape(link) for link in links)]:
            with CaptureQueriesContext(connection) as ctx:
                page = client.get(f"{reverse(f'reports:{name}')}?{link}")
            assert page.status_code == 200
            assert not [q for q in ctx.captured_queries if _reads_rollups(q["sql"])], (name, link)
            # ... nor, on pool health, the workers' documents: beat has just counted them.
            assert not [q for q in ctx.captured_queries if "workers_document" in q["sql"]]
    for (start, end), shifts in zip(standard_ranges().values(), (1, 2, 3), strict=True):
        with CaptureQueriesContext(connection) as ctx:
            summary = api.get(URL, {"from": start.isoformat(), "to": end.isoformat()})
        assert summary.status_code == 200 and summary.json()["shifts_requested"] == shifts
        assert not [q for q in ctx.captured_queries if _reads_rollups(q["sql"])], (start, end)


def test_another_pools_coordinator_never_gets_this_pools_kept_page(
    client, coordinator, other_coordinator, site, pool
):
    build_history(site, pool)
    window = {"start": FROM.isoformat(), "end": TO.isoformat()}
    url = reverse("reports:dashboard")
    client.force_login(coordinator)
    client.get(url, window)
    ours = client.get(url, window)  # kept now
    ours_csv = client.get(url, {**window, "export": "headline"}).content.decode()
    assert "Shifts requested,5" in ours_csv
    client.force_login(other_coordinator)
    theirs = client.get(url, window)
    theirs_csv = client.get(url, {**window, "export": "headline"}).content.decode()
    assert theirs.status_code == 200 and _figures(theirs) != _figures(ours)
    assert "Shifts requested,0" in theirs_csv


def test_a_stale_live_count_is_rebuilt_by_one_request_while_the_others_see_the_old_one():
    from reports.cache import live_cached

    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        return len(calls)

    parts = (uuid.uuid4().hex,)
    assert live_cached(name="test", parts=parts, seconds=60, build=build) == 1
    assert live_cached(name="test", parts=parts, seconds=60, build=build) == 1  # kept
    key = live_key("test", parts)
    made, value = cache.get(key)
    cache.set(key, (made - 61, value), 180)  # a minute on
    cache.add(f"{key}:rebuilding", 1, 30)  # another request is already counting
    assert live_cached(name="test", parts=parts, seconds=60, build=build) == 1
    cache.delete(f"{key}:rebuilding")
    assert live_cached(name="test", parts=parts, seconds=60, build=build) == 2  # this one counts
    assert live_cached(name="test", parts=parts, seconds=60, build=build) == 2
