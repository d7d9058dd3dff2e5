"""``seed_demo --region greater-manchester`` spreads workers, providers and sites over the
ten boroughs around their real postcode districts, each borough its own pool, with
workers near a border opted in to the neighbouring pool."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from geo.models import Postcode
from geo.reference import GREATER_MANCHESTER_DISTRICTS, GREATER_MANCHESTER_NEIGHBOURS
from pools.demo import BORDER_KM, _distance_km, demo_fingerprint
from pools.models import Pool
from providers.models import Site
from workers.models import Worker

pytestmark = pytest.mark.django_db

REGION = {"region": "greater-manchester", "workers": 2000, "providers": 30}


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **{**REGION, **options})
    return out.getvalue()


def test_the_region_has_ten_pools_each_with_workers_and_sites_in_its_own_districts():
    seed()
    pools = Pool.objects.filter(name__in=GREATER_MANCHESTER_DISTRICTS)
    assert pools.count() == 10
    for pool in pools:
        districts = {d for d, *_ in GREATER_MANCHESTER_DISTRICTS[pool.name]}
        workers = Worker.objects.filter(pool=pool).exclude(user__email="worker@flexpool.test")
        sites = Site.objects.filter(provider__pool=pool).exclude(cqc_location_id="1-000000001")
        assert workers.count() == 200, pool.name
        assert sites.exists(), pool.name
        assert set(workers.values_list("district", flat=True)) <= districts, pool.name
        assert set(sites.values_list("district", flat=True)) <= districts, pool.name
    # Every district the demo places people in has a centre the geo app can locate.
    every = {d for rows in GREATER_MANCHESTER_DISTRICTS.values() for d, *_ in rows}
    assert every <= set(Postcode.objects.values_list("district", flat=True))


def test_workers_near_a_border_opt_in_to_that_neighbour_and_no_other_pool():
    seed()
    neighbours = {frozenset(pair) for pair in GREATER_MANCHESTER_NEIGHBOURS}
    opted = Worker.objects.annotate(n=Count("extra_pools")).filter(n__gt=0)
    total = Worker.objects.count()
    # Some, not most: people living near a boundary.
    assert 0.05 * total < opted.count() < 0.4 * total
    centres = {
        name: [(lat, lon) for _d, _p, lat, lon in rows]
        for name, rows in GREATER_MANCHESTER_DISTRICTS.items()
    }
    for worker in opted.select_related("pool").prefetch_related("extra_pools"):
        for other in worker.extra_pools.all():
            assert frozenset((worker.pool.name, other.name)) in neighbours
            assert other in worker.pool.neighbours.all()
            nearest = min(
                _distance_km(worker.latitude, worker.longitude, lat, lon)
                for lat, lon in centres[other.name]
            )
            assert nearest <= BORDER_KM


def test_building_the_region_again_changes_nothing_and_a_borough_demo_is_refused():
    seed()
    fingerprint = demo_fingerprint()
    assert "already built" in seed()
    assert demo_fingerprint() == fingerprint
    with pytest.raises(CommandError, match="already holds data"):
        call_command("seed_demo", workers=20, providers=3, stdout=StringIO())


def test_more_than_100000_workers_need_the_region_option():
    with pytest.raises(CommandError, match="at most 100,000"):
        call_command("seed_demo", workers=100_001, stdout=StringIO())
