"""A candidate's place in the ranking is one number (``rank_number``) that sorts exactly as
the ranking's parts do, for a pool's worth of candidates drawn at random, ties and edges
included; it follows their reliability when their record arrives, and the newcomer's number
worked out from its parts (``newcomer_rank``) is the same one."""

from __future__ import annotations

import random

from shifts.matching.ranking import NEWCOMER, Candidate, newcomer_rank, rank_number
from shifts.matching.rules import DISTANCE_BAND_KM


def by_parts(c: Candidate) -> tuple[bool, int, float, float, int]:
    """The ranking as its parts: favourites, half-kilometre band, reliability to one
    decimal (higher first), fewer hours this week, worker id."""
    return (
        not c.favourite,
        int(c.distance_km // DISTANCE_BAND_KM),
        -round(c.reliability, 1),
        c.hours_this_week,
        c.worker_id,
    )


def random_candidate(rng: random.Random, worker_id: int) -> Candidate:
    attended, accepted = rng.randint(0, 40), rng.randint(0, 60)
    worked, answered = attended + rng.randint(0, 20), accepted + rng.randint(0, 20)
    reliability = ((accepted + 1) / (answered + 2) + (attended + 1) / (worked + 2)) / 2
    return Candidate(
        worker_id,
        None,
        rng.choice([0.0, 0.4, 0.5, 0.9, 1.0, 12.5, round(rng.uniform(0, 40), 1)]),
        rng.random() < 0.05,
        rng.choice([0.0, 0.0, 7.5, 8.0, 12.33, 48.0, round(rng.uniform(0, 169), 2)]),
        rng.choice([0.5, 0.05, 0.15, 0.25, 0.95, 1.0, reliability]),
    )


def test_the_rank_number_sorts_as_the_ranking_parts_do():
    rng = random.Random(15)
    candidates = [random_candidate(rng, rng.randrange(1, 2**40)) for _ in range(5000)]
    assert [c.rank for c in candidates] == [rank_number(c) for c in candidates]
    assert sorted(candidates, key=lambda c: c.rank) == sorted(candidates, key=by_parts)


def test_an_outsider_with_a_better_record_moves_up_when_it_is_given():
    newcomer = Candidate(7, None, 1.2, False, 0.0)
    outsider = Candidate(9, None, 1.3, False, 0.0)
    assert newcomer.rank < outsider.rank  # same band, same reliability: the lower id
    outsider.rate(0.9, (9, 10, 9, 10))
    assert outsider.rank < newcomer.rank and outsider.reliability == 0.9
    assert outsider.rank == rank_number(outsider)  # as if they had been made with it
    outsider.rate(0.05, (0, 18, 0, 0))
    assert outsider.rank == rank_number(outsider) and newcomer.rank < outsider.rank


def test_a_newcomers_rank_from_its_parts_is_the_rank_number_of_the_candidate():
    rng = random.Random(16)
    for _ in range(5000):
        worker_id = rng.randrange(1, 2**40)
        distance = rng.choice([0.0, 0.5, 0.9, 1.0, 49.5, round(rng.uniform(0, 60), 1)])
        favourite = rng.random() < 0.1
        made = Candidate(worker_id, None, distance, favourite, 0.0, NEWCOMER)
        assert newcomer_rank(favourite, distance, worker_id) == rank_number(made) == made.rank
    # The control: a candidate with hours this week is not a newcomer's number.
    busy = Candidate(5, None, 2.0, False, 7.5, NEWCOMER)
    assert newcomer_rank(False, 2.0, 5) != busy.rank
