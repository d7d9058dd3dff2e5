from __future__ import annotations

from decimal import Decimal

import pytest

from reports import metrics, rollups
from reports.metrics import Scope
from tests.reports.history import FROM, TO, build_history


@pytest.fixture
def history(site, pool):
    return build_history(site, pool)


@pytest.fixture
def scope(pool, history):
    return Scope(pool_ids=(pool.pk,), start=FROM, end=TO)


@pytest.fixture(params=["live", "rollup"])
def m(request, history):
    """Each figure is checked twice: computed live from the shifts (reports.metrics, the
    definitions) and read from the pre-added rollups the pages use (reports.rollups)."""
    if request.param == "live":
        return metrics
    rollups.rollups_refresh()
    return rollups


def test_requested_and_filled_count_shifts_starting_in_the_range_only(m, scope):
    fig = m.figures_summary(scope)
    # A, B, C, F, G: D starts before the range, E was withdrawn.
    assert fig.shifts_requested == 5
    assert fig.places_requested == 8
    assert fig.hours_requested == Decimal("68.00")  # 3×8 + 10 + 2×12 + 6 + 4
    assert fig.shifts_filled == 3  # B, C, G; A is only partly filled
    assert fig.places_filled == 6
    assert fig.hours_filled == Decimal("54.00")  # 2×8 + 10 + 2×12 + 4
    assert fig.fill_rate == Decimal("0.6000")
    assert fig.hours_fill_rate == Decimal("0.7941")  # 54 / 68


def test_unfilled_places_and_those_that_went_to_agency(m, scope):
    fig = m.figures_summary(scope)
    assert fig.places_unfilled == 2  # one of A's three places, and F
    assert fig.hours_unfilled == Decimal("14.00")
    assert fig.places_to_agency == 1
    assert fig.hours_to_agency == Decimal("6.00")


def test_agency_spend_avoided_uses_each_requests_own_rate_and_pool_cost_the_role_rate(m, scope):
    fig = m.figures_summary(scope)
    assert fig.agency_hours_avoided == Decimal("54.00")
    assert fig.spend_avoided == Decimal("1308.00")  # 16×20 + 10×30 + 24×25 + 4×22
    assert fig.pool_cost == Decimal("766.80")  # 54 h × £14.20 (care worker)


def test_time_to_fill_median_and_90th_percentile_interpolate(m, scope):
    fig = m.figures_summary(scope)
    # B 90, C 30, G 240 minutes; A is not filled.
    assert fig.median_ttf_minutes == pytest.approx(90)
    assert fig.p90_ttf_minutes == pytest.approx(210)  # 90 + 0.8 × (240 − 90)


def test_a_range_ending_the_day_before_the_night_shift_leaves_it_out(m, pool, history):
    fig = m.figures_summary(Scope(pool_ids=(pool.pk,), start=FROM, end=TO.replace(day=7)))
    assert fig.shifts_requested == 4
    assert fig.hours_filled == Decimal("30.00")


def test_weekly_figures_put_every_shift_in_the_week_it_starts(m, scope):
    weeks = m.figures_grouped(scope, "week")
    assert list(weeks) == [FROM]
    assert weeks[FROM].shifts_requested == 5


def test_cancellations_no_shows_and_turned_away_workers(m, scope):
    conduct = m.conduct_grouped(scope, None)[None]
    assert conduct.cancelled_by_provider == 2
    assert conduct.late_by_provider == 2
    assert conduct.turned_away == 1  # G's second booking, cancelled after the start
    assert conduct.cancelled_by_worker == 0  # D's is outside the range
    assert conduct.no_shows == 1
    assert conduct.requests_withdrawn == 1


def test_unfilled_demand_by_weekday_and_time_of_day(m, scope):
    by_day = {u.label: u.places for u in m.unfilled_by(scope, "weekday")}
    assert by_day["Tuesday"] == 1 and by_day["Friday"] == 1 and by_day["Monday"] == 0
    by_band = {u.label[:5]: u.hours for u in m.unfilled_by(scope, "time_of_day")}
    assert by_band["Morni"] == Decimal("14.00")
    by_district = m.unfilled_by(scope, "district")
    assert [(u.label, u.places) for u in by_district] == [("BL9", 2)]


def test_hours_are_spread_unevenly_and_the_gini_says_how_much(m, scope, history):
    spread = m.hours_spread(scope)
    w1, w2, w3, _w4 = history.workers
    assert spread.minutes_by_worker == {w1.pk: 1800, w2.pk: 1200, w3.pk: 240}
    assert spread.gini == pytest.approx(0.32099, abs=1e-4)
    assert spread.top_tenth_share == pytest.approx(1800 / 3240)


@pytest.mark.parametrize("key", ["week", "role_id", "provider_id", "site__site_type"])
def test_grouped_figures_carry_their_own_percentiles_and_costs(m, scope, key):
    groups = m.figures_grouped(scope, key)
    assert len(groups) == 1
    (fig,) = groups.values()
    assert fig.median_ttf_minutes == pytest.approx(90)
    assert fig.p90_ttf_minutes == pytest.approx(210)
    assert fig.pool_cost == Decimal("766.80")


def test_several_groupings_at_once_match_one_at_a_time(scope):
    rollups.rollups_refresh()
    by = rollups.figures_by(scope, ["role_id", "site__site_type", "pool_id"])
    for key, groups in by.items():
        assert groups == rollups.figures_grouped(scope, key)
        assert groups == metrics.figures_grouped(scope, key)
