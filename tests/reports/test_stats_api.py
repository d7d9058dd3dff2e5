from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.reports.history import FROM, TO, build_history

URL = "/api/v1/stats/summary/"


@pytest.fixture
def api():
    return APIClient()


def test_the_summary_returns_the_same_figures_as_the_dashboard(api, coordinator, site, pool):
    build_history(site, pool)
    api.force_authenticate(coordinator)
    response = api.get(URL, {"from": FROM.isoformat(), "to": TO.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["shifts_requested"] == 5
    assert body["shifts_filled"] == 3
    assert body["fill_rate"] == "0.6000"
    assert body["hours_requested"] == "68.00"
    assert body["hours_filled"] == "54.00"
    assert body["median_time_to_fill_minutes"] == pytest.approx(90)
    assert body["agency_hours_avoided"] == "54.00"
    assert body["agency_spend_avoided"] == "1308.00"


def test_bad_dates_are_400_with_field_errors(api, coordinator):
    api.force_authenticate(coordinator)
    response = api.get(URL, {"from": "2026-13-01", "to": "2026-01-05"})
    assert response.status_code == 400
    assert "from" in response.json()
    response = api.get(URL, {"from": "2026-03-08", "to": "2026-03-01"})
    assert response.status_code == 400 and "to" in response.json()
    assert api.get(URL).status_code == 400


@pytest.mark.parametrize("who", ["manager", "outsider"])
def test_anyone_but_a_coordinator_gets_404(api, request, who):
    api.force_authenticate(request.getfixturevalue(who))
    assert api.get(URL, {"from": "2026-03-01", "to": "2026-03-08"}).status_code == 404


def test_a_worker_gets_404_and_a_stranger_is_refused(api, worker):
    api.force_authenticate(worker.user)
    assert api.get(URL, {"from": "2026-03-01", "to": "2026-03-08"}).status_code == 404
    api.force_authenticate(None)
    assert api.get(URL, {"from": "2026-03-01", "to": "2026-03-08"}).status_code in (401, 403)


def test_a_coordinator_without_a_second_factor_is_refused_even_with_a_token(
    api, coordinator_without_mfa
):
    token = Token.objects.create(user=coordinator_without_mfa)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(URL, {"from": "2026-03-01", "to": "2026-03-08"}).status_code == 403


def test_another_pools_coordinator_sees_only_their_own_pools_figures(
    api, other_coordinator, site, pool
):
    build_history(site, pool)
    api.force_authenticate(other_coordinator)
    body = api.get(URL, {"from": FROM.isoformat(), "to": TO.isoformat()}).json()
    assert body["shifts_requested"] == 0 and body["pool"] == "rochdale"
