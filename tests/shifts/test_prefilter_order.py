"""The order the prefilter hands on (favourites, then half-kilometre band, then id) is the
order a wave examines workers in; a run counts those it did not reach."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

from pools.models import Pool
from providers.models import Favourite, ProviderBlock
from shifts.matching import shift_match_wave
from shifts.matching.rules import NEAR_FIRST_KM, _context, _prefiltered_rows
from shifts.models import Offer
from tests import factories as f


def test_workers_not_reached_are_counted_and_ranked_favourites_first_then_by_band_then_id(
    site, pool
):
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
    # On PostgreSQL counted near the site only (the wave read no further): the favourite
    # and the near band, not the far band ~2.2 km away (test_near_first.py holds the
    # counts); elsewhere everyone in reach.
    if connection.vendor == "postgresql":
        assert (run.not_reached, run.searched_km) == (3, NEAR_FIRST_KM)
    else:
        assert (run.not_reached, run.searched_km) == (5, None)
    assert "not_reached" not in run.excluded
    # The order later waves read them in.
    ctx = _context(shift, shift.posted_at)
    assert [row[0] for row in _prefiltered_rows(ctx)][len(first_slice) - 1 :] == [
        far_favourite.pk,
        *sorted(w.pk for w in near_band),
        *sorted(w.pk for w in far_band),
    ]


def test_the_prefilter_cut_in_sql_is_the_ranking_cut_where_a_wave_stops(site, pool):
    """A wave's prefilter returns only the rows it will examine (the first workers and the
    rest of the last one's band) and the others' ids: the same split, in the same order, as
    cutting the whole ranked list."""
    import pytest
    from django.db import connection

    from shifts.matching.ranking import _slices
    from shifts.matching.rules import _prefiltered_first

    if connection.vendor != "postgresql":
        pytest.skip("the one-query cut is PostgreSQL's")
    shift = f.ShiftFactory(site=site)
    lat = site.latitude
    for i in range(12):  # bands of three, twelve workers, two favourites far out
        f.WorkerFactory(pool=pool, latitude=lat + 0.0046 * (i // 3))
    for worker in [f.WorkerFactory(pool=pool, latitude=lat + 0.04) for _ in range(2)]:
        Favourite.objects.create(provider=shift.provider, worker=worker)
    ctx = _context(shift, shift.posted_at)
    rows = _prefiltered_rows(ctx)
    assert len(rows) == 14
    for target in (1, 2, 3, 4, 5, 7, 13, 14, 20):
        first, rest = _prefiltered_first(ctx, target)
        whole = rows if target >= len(rows) else None
        if whole is None:
            cut = target
            group = lambda row: (not row[5], int(row[2] // 0.5))  # noqa: E731
            while cut < len(rows) and group(rows[cut]) == group(rows[cut - 1]):
                cut += 1
            whole = rows[:cut]
        assert first == whole, target
        assert rest == len(rows) - len(whole), target
    # The ranking's own split agrees (its target is at least 50: all fourteen at once).
    assert _slices(rows, 1) == [rows]
