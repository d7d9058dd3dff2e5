"""A first wave on a big pool reads the workers near the site first (a GiST box, and the
provider's favourites wherever they live) and offers exactly whom reading everyone in reach
would have offered; when the box cannot hold the same first slice it reads everyone as
before. The SQL rules hold at this door too: another pool's, a blocked and an unvetted
worker living next door are never offered."""

from __future__ import annotations

from django.utils import timezone

from pools.models import Pool
from providers.models import Favourite, ProviderBlock
from shifts.matching import shift_match_wave
from shifts.matching.ranking import _evaluate
from shifts.matching.rules import NEAR_FIRST_KM
from shifts.matching.waves import _wave_size
from tests import factories as f
from workers.models import Worker

KM = 1 / 111.2  # degrees of latitude in a kilometre


def workers_at(pool: Pool, site, km: float, n: int, **kwargs) -> list[Worker]:  # noqa: ANN001
    return [
        f.WorkerFactory(pool=pool, latitude=site.latitude + km * KM, **kwargs) for _ in range(n)
    ]


def whom_reading_everyone_offers(shift) -> tuple[list[int], int]:  # noqa: ANN001
    now = timezone.now()
    need = _wave_size(shift, now)
    whole = _evaluate(shift, now, need)  # no favourites passed: everyone in reach is read
    assert whole.searched_km is None
    return [c.worker_id for c in whole.candidates[:need]], whole.not_reached


def test_a_first_wave_reads_near_the_site_and_offers_whom_reading_everyone_would(site, pool):
    # A first wave of ten (the pool's default) examines a first slice of fifty.
    favourite = f.WorkerFactory(pool=pool, latitude=site.latitude + 13 * KM, travel_radius_km=20)
    Favourite.objects.create(provider=site.provider, worker=favourite)
    workers_at(pool, site, 0.6, 55)
    workers_at(pool, site, 0.8 * NEAR_FIRST_KM, 10)  # inside the box, after the first slice
    workers_at(pool, site, 5.5, 5)  # within reach, outside the box
    # Outsiders next door: another pool's worker, one the provider blocked, one not vetted.
    next_door = [
        f.WorkerFactory(
            pool=f.PoolFactory(name="Rochdale", slug="rochdale"), latitude=site.latitude
        ),
        f.WorkerFactory(pool=pool, latitude=site.latitude, status=Worker.Status.CHECKS),
        blocked := f.WorkerFactory(pool=pool, latitude=site.latitude),
    ]
    ProviderBlock.objects.create(provider=site.provider, worker=blocked, reason="late twice")
    shift = f.ShiftFactory(site=site)
    expected, everyone_not_reached = whom_reading_everyone_offers(shift)

    run = shift_match_wave(shift_id=shift.pk)

    assert run is not None and run.searched_km == NEAR_FIRST_KM
    offered = list(shift.offers.order_by("rank").values_list("worker_id", flat=True))
    assert offered == expected and offered[0] == favourite.pk
    assert not set(offered) & {w.pk for w in next_door}
    # Of those not reached, the wave counted the ten in the box; reading everyone, fifteen.
    assert (run.not_reached, everyone_not_reached) == (10, 15)


def test_a_first_wave_whose_box_falls_short_reads_everyone_in_reach_as_before(site, pool):
    workers_at(pool, site, 0.6, 20)
    workers_at(pool, site, 5.5, 40)
    workers_at(pool, site, 7.5, 20)  # after the first slice, counted by reading everyone
    shift = f.ShiftFactory(site=site)
    expected, everyone_not_reached = whom_reading_everyone_offers(shift)

    run = shift_match_wave(shift_id=shift.pk)

    assert run is not None and run.searched_km is None
    offered = list(shift.offers.order_by("rank").values_list("worker_id", flat=True))
    assert offered == expected
    assert run.not_reached == everyone_not_reached == 20


def test_a_first_wave_whose_near_slice_yields_too_few_reads_on_past_the_box(site, pool):
    workers_at(pool, site, 0.6, 55, availability=False)  # near, but never free
    near_free = workers_at(pool, site, 0.8 * NEAR_FIRST_KM, 2)
    further = workers_at(pool, site, 5.5, 3)
    shift = f.ShiftFactory(site=site)

    run = shift_match_wave(shift_id=shift.pk)

    assert run is not None and run.searched_km is None and run.not_reached == 0
    offered = set(shift.offers.values_list("worker_id", flat=True))
    assert offered == {w.pk for w in [*near_free, *further]}


def test_a_first_slice_that_empties_the_box_counts_the_rest_from_everyone_in_reach(site, pool):
    workers_at(pool, site, 0.6, 55)
    workers_at(pool, site, 5.5, 5)  # the only workers left, all outside the box
    shift = f.ShiftFactory(site=site)

    run = shift_match_wave(shift_id=shift.pk)

    # Counting only the box would say nobody is left, and a later wave might not be planned.
    assert run is not None and run.searched_km is None and run.not_reached == 5


def test_a_first_wave_short_near_the_site_reads_on_through_the_box_before_everyone(site, pool):
    workers_at(pool, site, 0.3, 55, availability=False)  # the first slice: never free
    near = workers_at(pool, site, 0.6, 20)
    # Filling the box past what comes back with the first slice (five slices' worth).
    filler = {"availability": False, "documents": False}
    workers_at(pool, site, 1.1, 180, **filler)
    workers_at(pool, site, 1.6, 10, **filler)
    workers_at(pool, site, 5.5, 30)  # outside the box, never read
    shift = f.ShiftFactory(site=site)
    expected, _everyone_not_reached = whom_reading_everyone_offers(shift)

    run = shift_match_wave(shift_id=shift.pk)

    offered = list(shift.offers.order_by("rank").values_list("worker_id", flat=True))
    assert offered == expected and set(offered) <= {w.pk for w in near}
    # Read on through the rows that came back with the slice; the box's last band counted.
    assert run is not None and run.searched_km == NEAR_FIRST_KM and run.not_reached == 10


def test_a_wave_that_reads_the_box_to_its_end_counts_who_is_left_beyond_it(site, pool):
    workers_at(pool, site, 0.6, 55, availability=False)
    workers_at(pool, site, 0.8 * NEAR_FIRST_KM, 10)  # exactly the wave's ten
    beyond = workers_at(pool, site, 5.5, 30)
    shift = f.ShiftFactory(site=site)

    run = shift_match_wave(shift_id=shift.pk)

    # Counting only the box would say nobody is left and no later wave would be planned.
    assert run is not None and run.offered_count == 10
    assert run.not_reached == len(beyond) and run.searched_km is None
