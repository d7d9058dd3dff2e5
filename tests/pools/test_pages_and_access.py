from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories as f

PAGES = [
    ("pools:board", {}),
    ("pools:workers", {}),
    ("pools:compliance", {}),
    ("pools:providers", {}),
    ("pools:provider_new", {}),
    ("pools:settings", {}),
    ("pools:audit", {}),
    ("reports:dashboard", {}),
    ("reports:dashboard_breakdown", {}),
    ("reports:dashboard_demand", {}),
    ("reports:dashboard_conduct", {}),
    ("reports:dashboard_health", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_every_coordinator_page_answers_the_coordinator(client, coordinator, name, kwargs):
    client.force_login(coordinator)
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
@pytest.mark.parametrize("who", ["manager", "worker_user", "outsider"])
def test_every_coordinator_page_is_404_for_anyone_else(client, request, who, name, kwargs):
    if who == "worker_user":
        user = request.getfixturevalue("worker").user
    else:
        user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(client, pool):
    response = client.get(reverse("pools:board"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.fixture
def bury_things(site, worker):
    shift = f.ShiftFactory(site=site)
    return {
        "pools:worker": worker.pk,
        "pools:shift": shift.pk,
        "pools:provider": site.provider.pk,
    }


@pytest.mark.parametrize("name", ["pools:worker", "pools:shift", "pools:provider"])
def test_another_pools_coordinator_gets_404_on_this_pools_records(
    client, bury_things, other_coordinator, coordinator, name
):
    url = reverse(name, kwargs={"pk": bury_things[name]})
    client.force_login(other_coordinator)
    assert client.get(url).status_code == 404
    client.force_login(coordinator)
    assert client.get(url).status_code == 200


def test_another_pools_coordinator_cannot_act_on_this_pools_worker(
    client, worker, other_coordinator
):
    client.force_login(other_coordinator)
    response = client.post(
        reverse("pools:worker_suspend", kwargs={"pk": worker.pk}), {"reason": "no"}
    )
    assert response.status_code == 404
    worker.refresh_from_db()
    assert worker.status == "approved"


def test_the_region_view_is_only_for_regional_coordinators(client, coordinator, regional):
    client.force_login(coordinator)
    assert client.get(reverse("reports:region")).status_code == 404
    client.force_login(regional)
    response = client.get(reverse("reports:region"))
    assert response.status_code == 200
    assert "Region total" in response.content.decode()
