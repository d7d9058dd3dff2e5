"""The distance box in front of the great-circle check (``_distance_box``) changes how fast
the prefilter finds workers, never which: it returns exactly the workers the exact,
one-worker distance check passes, at the edge of a radius and across a borough border."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from pools.models import Pool
from shifts.matching import shift_eligible_workers
from shifts.matching.rules import (
    EARTH_RADIUS_KM,
    RULE_BY_NAME,
    _context,
    _distance_box,
    _in_pool,
    haversine_km,
    worker_rule_failures,
)
from tests import factories as f
from workers.models import Worker

BEARINGS = [0, 45, 90, 135, 180, 225, 270, 315]


def point_at(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` along the great circle from (lat, lon) at ``bearing`` degrees."""
    p1, l1, t = math.radians(lat), math.radians(lon), math.radians(bearing)
    d = km / EARTH_RADIUS_KM
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(t))
    l2 = l1 + math.atan2(
        math.sin(t) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)


def within_reach_one_by_one(shift, workers: list[Worker]) -> set[int]:
    """The exact check: each worker's great-circle distance against their reach, one
    worker at a time (the path "why not?" and acceptance take), with no box."""
    distance = RULE_BY_NAME["distance"]
    now = timezone.now()
    return {
        w.pk
        for w in workers
        if not worker_rule_failures(shift=shift, worker_id=w.pk, now=now, rules=(distance,)).failed
    }


def prefiltered(shift) -> set[int]:
    return {c.worker_id for c in shift_eligible_workers(shift=shift)}


def test_workers_just_inside_a_radius_are_found_and_those_just_outside_are_not(site, pool):
    shift = f.ShiftFactory(site=site)
    inside, outside = [], []
    for bearing in BEARINGS:
        for radius, bucket in ((Decimal("10.0"), inside), (Decimal("5.0"), inside)):
            lat, lon = point_at(site.latitude, site.longitude, float(radius) - 0.05, bearing)
            bucket.append(
                f.WorkerFactory(pool=pool, latitude=lat, longitude=lon, travel_radius_km=radius)
            )
            lat, lon = point_at(site.latitude, site.longitude, float(radius) + 0.05, bearing)
            outside.append(
                f.WorkerFactory(pool=pool, latitude=lat, longitude=lon, travel_radius_km=radius)
            )
    # The pool's default radius (10 km) for a worker who set none.
    lat, lon = point_at(site.latitude, site.longitude, 9.95, 30)
    inside.append(f.WorkerFactory(pool=pool, latitude=lat, longitude=lon, travel_radius_km=None))
    lat, lon = point_at(site.latitude, site.longitude, 10.05, 210)
    outside.append(f.WorkerFactory(pool=pool, latitude=lat, longitude=lon, travel_radius_km=None))
    everyone = inside + outside
    for worker in everyone:
        distance = haversine_km(worker.latitude, worker.longitude, site.latitude, site.longitude)
        reach = float(worker.travel_radius_km or pool.default_radius_km)
        assert abs(distance - reach) == pytest.approx(0.05, abs=1e-6)

    assert prefiltered(shift) == {w.pk for w in inside}
    assert within_reach_one_by_one(shift, everyone) == {w.pk for w in inside}


def test_a_shifts_radius_bonus_widens_the_box_as_much_as_the_reach(site, pool):
    shift = f.ShiftFactory(site=site, radius_bonus_km=Decimal("3.0"))
    lat, lon = point_at(site.latitude, site.longitude, 12.95, 90)
    inside = f.WorkerFactory(pool=pool, latitude=lat, longitude=lon)
    lat, lon = point_at(site.latitude, site.longitude, 13.05, 270)
    outside = f.WorkerFactory(pool=pool, latitude=lat, longitude=lon)

    assert prefiltered(shift) == {inside.pk}
    assert within_reach_one_by_one(shift, [inside, outside]) == {inside.pk}


def test_a_worker_with_a_radius_wider_than_any_box_is_still_found(site, pool):
    """Radii above the box's cap (30 km) are looked up by radius: one worker willing to
    travel 150 km is found 120 km away, and one 151 km away is not."""
    shift = f.ShiftFactory(site=site)
    lat, lon = point_at(site.latitude, site.longitude, 120, 160)
    far_but_willing = f.WorkerFactory(
        pool=pool, latitude=lat, longitude=lon, travel_radius_km=Decimal("150.0")
    )
    lat, lon = point_at(site.latitude, site.longitude, 151, 340)
    too_far = f.WorkerFactory(
        pool=pool, latitude=lat, longitude=lon, travel_radius_km=Decimal("150.0")
    )
    near = f.WorkerFactory(pool=pool)

    expected = {far_but_willing.pk, near.pk}
    assert prefiltered(shift) == expected
    assert within_reach_one_by_one(shift, [far_but_willing, too_far, near]) == expected


def test_across_a_border_only_workers_of_the_pool_or_opted_in_within_reach_are_found(site, pool):
    """A Bury site near the Bolton border (Radcliffe, M26): Bolton workers over the border
    are within reach; only the one who opted in to Bury is found. A Bury worker living in
    Bolton is found; an opted-in Bolton worker beyond her radius is not."""
    bolton = Pool.objects.create(name="Bolton", slug="bolton")
    pool.neighbours.add(bolton)
    site.latitude, site.longitude = 53.561, -2.327  # Radcliffe
    site.save()
    shift = f.ShiftFactory(site=site)
    farnworth = (53.548, -2.400)  # BL4, in Bolton, about 5 km west
    opted_in = f.WorkerFactory(pool=bolton, latitude=farnworth[0], longitude=farnworth[1])
    opted_in.extra_pools.add(pool)
    stays_home = f.WorkerFactory(pool=bolton, latitude=farnworth[0], longitude=farnworth[1])
    bury_worker_in_bolton = f.WorkerFactory(
        pool=pool, latitude=farnworth[0] + 0.001, longitude=farnworth[1]
    )
    lat, lon = point_at(site.latitude, site.longitude, 6.05, 270)
    opted_in_too_far = f.WorkerFactory(
        pool=bolton, latitude=lat, longitude=lon, travel_radius_km=Decimal("6.0")
    )
    opted_in_too_far.extra_pools.add(pool)
    everyone = [opted_in, stays_home, bury_worker_in_bolton, opted_in_too_far]

    expected = {opted_in.pk, bury_worker_in_bolton.pk}
    assert prefiltered(shift) == expected
    pool_rule = RULE_BY_NAME["pool"]
    now = timezone.now()
    in_pool = {
        w.pk
        for w in everyone
        if not worker_rule_failures(shift=shift, worker_id=w.pk, now=now, rules=(pool_rule,)).failed
    }
    assert within_reach_one_by_one(shift, everyone) & in_pool == expected


def plan(queryset) -> str:
    """PostgreSQL's plan for ``queryset`` with sequential scans priced out, as they would
    be for a table of a region's size (a test's few rows are cheapest read whole)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        lines = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return lines


@pytest.mark.postgres
def test_postgresql_can_answer_the_box_and_the_pool_from_indexes(site, pool):
    """Both ways to the workers a region's wave needs are index look-ups, so the planner
    can take whichever reads fewer rows: the box around the site (the index on homes) and
    the pool with the workers opted in to it (the pool's index and the primary key)."""
    shift = f.ShiftFactory(site=site)
    f.WorkerFactory(pool=pool)
    ctx = _context(shift, timezone.now())

    box = plan(Worker.objects.filter(_distance_box(ctx)))
    assert "worker_home" in box, box
    assert "Seq Scan on workers_worker " not in box, box
    in_pool = plan(Worker.objects.filter(_in_pool(ctx)))
    assert "Seq Scan on workers_worker " not in in_pool, in_pool
    assert "workers_worker_pkey" in in_pool, in_pool
