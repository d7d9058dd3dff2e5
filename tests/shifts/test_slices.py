"""A wave whose first slice falls short reads on down the ranking in whole bands, each
slice four times the last, and stops once it has enough: it offers exactly whom examining
everyone would have offered, and counts the rest as not reached."""

from __future__ import annotations

from typing import Any

from pools.models import Pool
from shifts.matching import shift_eligible_workers, shift_match_wave
from shifts.matching.ranking import Candidate, _band_end, evaluate_rows
from tests import factories as f
from workers.models import AvailabilityRule


def rows_in_bands(bands: list[int]) -> list[tuple[Any, ...]]:
    """Prefilter rows (id, user id, km, cap, ready-now, favourite), ``bands[i]`` workers in
    the i-th half-kilometre band, ids in ranking order."""
    rows, wid = [], 0
    for band, count in enumerate(bands):
        for _ in range(count):
            wid += 1
            rows.append((wid, wid, band * 0.5 + 0.1, None, None, False))
    return rows


def judged(passes: set[int], examined: list[int]):  # noqa: ANN201 - an Examine
    def examine(ctx: Any, chunk: list[tuple[Any, ...]], excluded: dict[str, list[int]]):
        out = []
        for row in chunk:
            examined.append(row[0])
            if row[0] in passes:
                # Reliability decides within a band (here by the id's last two digits), so a
                # slice that split a band could pick the wrong worker.
                score = (row[0] % 100) / 100
                out.append(Candidate(row[0], row[1], row[2], reliability=score))
            else:
                excluded["availability"].append(row[0])
        return out

    return examine


def test_a_wave_that_falls_short_examines_a_few_more_bands_not_everyone():
    rows = rows_in_bands([60, 30, 30, 30, 30, 200, 400, 400, 400])  # 1,580 workers
    passes = {r[0] for r in rows if r[0] > 95 and r[0] % 7 == 0}  # none in the first slice
    examined: list[int] = []

    wave = evaluate_rows(None, rows, 2, judged(passes, examined))  # type: ignore[arg-type]

    everyone: list[int] = []
    whole = evaluate_rows(None, rows, None, judged(passes, everyone))  # type: ignore[arg-type]
    assert [c.worker_id for c in wave.candidates[:2]] == [c.worker_id for c in whole.candidates[:2]]
    assert [c.worker_id for c in wave.candidates[:2]] == [98, 119]  # band 2, by reliability
    # The first slice (band 0: 60), then whole bands of at least 240: bands 1-4 and 5.
    assert examined == list(range(1, 61 + 30 * 4 + 200))
    assert len(everyone) == len(rows)
    assert wave.not_reached == len(rows) - (60 + 30 * 4 + 200)
    assert "not_reached" not in wave.excluded


def test_a_slice_never_ends_inside_a_band():
    rows = rows_in_bands([3, 3, 3])
    assert [_band_end(rows, n) for n in (0, 1, 3, 4, 7, 9, 20)] == [0, 3, 3, 6, 9, 9, 9]


def test_a_real_wave_past_an_unavailable_first_slice_offers_the_nearest_who_can(site, pool):
    Pool.objects.filter(pk=pool.pk).update(first_wave_size=1)
    lat = site.latitude
    busy = [f.WorkerFactory(pool=pool, latitude=lat) for _ in range(50)]
    AvailabilityRule.objects.filter(worker__in=busy).delete()
    nearer = f.WorkerFactory(pool=pool, latitude=lat + 0.01)  # about 1.1 km
    further = f.WorkerFactory(pool=pool, latitude=lat + 0.03)  # about 3.3 km
    outsider = f.WorkerFactory(pool=f.PoolFactory(name="Rochdale", slug="rochdale"))
    shift = f.ShiftFactory(site=site)

    run = shift_match_wave(shift_id=shift.pk)

    assert run is not None and run.offered_count == 1
    assert list(shift.offers.values_list("worker_id", flat=True)) == [nearer.pk]
    assert sorted(run.excluded["availability"]) == sorted(w.pk for w in busy)
    # The nearer was read with the first slice, near the site, and was enough; the further
    # one is counted (the box was read to its end), not examined.
    assert run.eligible_count == 1 and run.not_reached == 1
    eligible = [c.worker_id for c in shift_eligible_workers(shift=shift)]
    assert further.pk in eligible and outsider.pk not in eligible
