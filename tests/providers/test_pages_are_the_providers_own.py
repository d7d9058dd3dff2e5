"""Every provider page and endpoint: Mary (the manager) gets it; Otto (another provider)
gets 404; a worker or a stranger gets 404 or the sign-in page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shifts.models import Booking
from tests.providers.conftest import submit_timesheet

pytestmark = pytest.mark.django_db

SHIFT_PAGES = ["shift_detail", "shift_live", "shift_edit", "shift_cancel"]
BOOKING_PAGES = ["timesheet_correct", "booking_rate", "worker_block"]
BOOKING_POSTS = [
    "booking_no_show",
    "booking_attended",
    "timesheet_approve",
    "favourite_add",
    "favourite_remove",
]


@pytest.fixture
def attended(worked):
    submit_timesheet(worked)
    return worked


@pytest.mark.parametrize("name", SHIFT_PAGES)
def test_a_manager_opens_her_own_request_pages(client, manager, upcoming, name):
    client.force_login(manager)
    response = client.get(reverse(f"providers:{name}", kwargs={"pk": upcoming.pk}))
    assert response.status_code == 200


@pytest.mark.parametrize("name", [*SHIFT_PAGES, "shift_outcome"])
def test_another_provider_gets_404_on_her_request(client, outsider, upcoming, name):
    client.force_login(outsider)
    url = reverse(f"providers:{name}", kwargs={"pk": upcoming.pk})
    assert client.get(url).status_code in (404, 405)
    assert client.post(url, {"outcome": "agency", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("name", BOOKING_PAGES)
def test_a_manager_opens_the_pages_for_a_booking_at_her_site(client, manager, attended, name):
    Booking.objects.filter(pk=attended.pk).update(status=Booking.Status.ATTENDED)
    client.force_login(manager)
    response = client.get(reverse(f"providers:{name}", kwargs={"pk": attended.pk}))
    assert response.status_code == 200


@pytest.mark.parametrize("name", BOOKING_PAGES + BOOKING_POSTS)
def test_another_provider_gets_404_on_her_bookings(client, outsider, attended, name):
    client.force_login(outsider)
    url = reverse(f"providers:{name}", kwargs={"pk": attended.pk})
    assert client.post(url, {"reason": "x", "note": "x"}).status_code == 404
    attended.refresh_from_db()
    assert attended.status == Booking.Status.BOOKED
    assert attended.timesheet.status == "submitted"


PAGES = ["providers:dashboard", "providers:shift_new", "provider_reports:results",
         "providers:members", "providers:favourites"]  # fmt: skip


@pytest.mark.parametrize("name", PAGES)
def test_provider_pages_open_for_a_member(client, manager, name):
    client.force_login(manager)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_provider_pages_are_404_for_a_worker_and_a_coordinator(client, worker, coordinator, name):
    for user in (worker.user, coordinator):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 404


def test_a_stranger_is_sent_to_sign_in(client):
    response = client.get(reverse("providers:dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_request_list_shows_only_her_own_requests(client, manager, outsider, upcoming):
    client.force_login(outsider)
    assert upcoming.site.name not in client.get(reverse("providers:dashboard")).content.decode()
    client.force_login(manager)
    assert upcoming.site.name in client.get(reverse("providers:dashboard")).content.decode()


def test_repeating_another_providers_request_is_404(client, outsider, upcoming):
    client.force_login(outsider)
    response = client.get(reverse("providers:shift_new") + f"?from={upcoming.pk}")
    assert response.status_code == 404
