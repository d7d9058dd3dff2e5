"""The response model learns from the pool's own offers and says how well it predicts."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from lab.response import FEATURES, ResponseModel, pair_uniforms, response_model_fit
from shifts.models import Offer
from tests import factories as f
from tests.lab.conftest import at, past_shift

pytestmark = pytest.mark.postgres


@pytest.fixture
def offers_by_distance(pool, site, day):
    """Ten weeks of offers: the nearer the worker, the likelier the yes (hand-made truth:
    accepted within 3 km two times in three, beyond it one time in ten)."""
    rng = random.Random(5)
    workers = [f.WorkerFactory(pool=pool) for _ in range(8)]
    rows = []
    for week in range(10):
        for n in range(5):
            shift = past_shift(site, at(day - timedelta(weeks=week + 1, days=n % 5), 8), 8)
            for w in workers:
                km = rng.uniform(0.5, 10)
                yes = rng.random() < (0.67 if km < 3 else 0.1)
                sent = shift.posted_at + timedelta(minutes=2)
                rows.append(
                    Offer(
                        shift=shift, worker=w, wave=1, rank=1, distance_km=round(km, 1),
                        status=Offer.Status.ACCEPTED if yes else Offer.Status.DECLINED,
                        sent_at=sent, expires_at=sent + timedelta(hours=1),
                        responded_at=sent + timedelta(minutes=rng.randint(1, 30)),
                    )
                )  # fmt: skip
    Offer.objects.bulk_create(rows)
    return rows


def test_the_fitted_model_finds_that_distance_lowers_acceptance(pool, offers_by_distance):
    model = response_model_fit(pool=pool)
    table = {row["feature"]: row for row in model.table()}
    assert table["distance_km"]["coefficient"] < -0.1
    assert model.n_offers == len(offers_by_distance)
    assert min(model.accept_delays) >= 1 and max(model.accept_delays) <= 30


def test_it_scores_held_out_weeks_better_than_the_base_rate(pool, offers_by_distance):
    heldout = response_model_fit(pool=pool).heldout
    assert len(heldout["weeks"]) == 2  # the last fifth of ten weeks
    assert heldout["brier"] < heldout["brier_base_rate"]
    deciles = heldout["deciles"]
    assert len(deciles) == 10 and sum(d["n"] for d in deciles) == heldout["n"]
    assert deciles[0]["observed"] < deciles[-1]["observed"]


def test_with_almost_no_history_everyone_is_a_coin_toss(pool):
    model = response_model_fit(pool=pool)
    assert model.p_accept([0.0] * len(FEATURES)) == pytest.approx(0.5)
    assert "too little" in model.heldout["note"]


def test_a_pairs_answer_depends_only_on_the_seed_and_the_pair():
    assert pair_uniforms(1, "s1", "w2") == pair_uniforms(1, "s1", "w2")
    assert pair_uniforms(1, "s1", "w2") != pair_uniforms(2, "s1", "w2")
    assert pair_uniforms(1, "s1", "w2") != pair_uniforms(1, "s1", "w3")
    model = ResponseModel.fixed(p=0.3)
    answers = [
        model.answer([0.0] * len(FEATURES), pair_uniforms(9, f"s{i}", "w")) for i in range(2000)
    ]
    assert 0.26 < sum(a.accepts for a in answers) / 2000 < 0.34
