"""The order the prefilter hands on (favourites, then half-kilometre band, then id) is the
order a wave examines workers in and the order a run lists those it did not reach."""

from __future__ import annotations

from decimal import Decimal

from pools.models import Pool
from providers.models import Favourite, ProviderBlock
from shifts.matching import shift_match_wave
from shifts.models import Offer
from tests import factories as f


def test_workers_not_reached_are_listed_favourites_first_then_by_band_then_id(site, pool):
    Pool.objects.filter(pk=pool.pk).update(first_wave_size=1)
    shift = f.ShiftFactory(site=site)
    lat = site.latitude
    # Created far to near, so neither creation order nor id order is the ranking.
    far_band = [f.WorkerFactory(pool=pool, latitude=lat + 0.02) for _ in range(2)]  # ~2.2 km
    near_band = [f.WorkerFactory(pool=pool, latitude=lat + 0.001) for _ in range(2)]
    far_favourite = f.WorkerFactory(pool=pool, latitude=lat + 0.05)  # ~5.6 km
    first_slice = [f.WorkerFactory(pool=pool, latitude=lat) for _ in range(50)]
    blocked = f.WorkerFactory(pool=pool, latitude=lat)
    offered = f.WorkerFactory(pool=pool, latitude=lat)
    out_of_reach = f.WorkerFactory(pool=pool, latitude=lat + 1.0)  # ~111 km
    for worker in [*first_slice, far_favourite, blocked, offered, out_of_reach]:
        Favourite.objects.create(provider=shift.provider, worker=worker)
    ProviderBlock.objects.create(provider=shift.provider, worker=blocked)
    Offer.objects.create(
        shift=shift,
        worker=offered,
        wave=0,
        rank=1,
        distance_km=Decimal("0"),
        sent_at=shift.posted_at,
        expires_at=shift.start,
    )

    run = shift_match_wave(shift_id=shift.pk)

    assert run is not None and run.offered_count == 1
    assert run.excluded["not_reached"] == [
        far_favourite.pk,
        *sorted(w.pk for w in near_band),
        *sorted(w.pk for w in far_band),
    ]
