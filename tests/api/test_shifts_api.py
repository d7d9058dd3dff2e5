"""Every /api/v1/ shifts endpoint: the allowed user, and an outsider who gets 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shifts.matching import shift_match_wave
from shifts.models import Booking, Offer, ShiftRequest
from tests import factories as f


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def iso(dt) -> str:
    return dt.isoformat()


@pytest.fixture
def shift(site):
    return f.ShiftFactory(site=site, headcount=2)


@pytest.fixture
def offered(shift, worker, other_worker):
    shift_match_wave(shift_id=shift.pk)
    return Offer.objects.get(shift=shift, worker=worker)


def test_anonymous_requests_are_refused(db):
    assert APIClient().get("/api/v1/shifts/").status_code in (401, 403)


def test_roles_and_skills_are_slug_and_name_lists(worker):
    client = client_for(worker.user)
    roles = client.get("/api/v1/roles/").json()["results"]
    assert {"slug": "care-worker", "name": "Care worker"} in roles
    skills = client.get("/api/v1/skills/").json()["results"]
    assert {"slug": "hoist", "name": "Hoist and moving and handling"} in skills


def test_a_provider_lists_only_its_own_sites(manager, outsider, site):
    mine = client_for(manager).get("/api/v1/sites/").json()["results"]
    assert [s["id"] for s in mine] == [site.pk]
    theirs = client_for(outsider).get("/api/v1/sites/").json()["results"]
    assert site.pk not in [s["id"] for s in theirs]


def test_a_provider_posts_a_shift(manager, site, worker, django_capture_on_commit_callbacks):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    body = {
        "site": site.pk,
        "role": "care-worker",
        "skills": ["hoist"],
        "start": iso(start),
        "end": iso(start + timedelta(hours=8)),
        "headcount": 2,
        "agency_hourly_rate": "26.00",
        "notes": "Two residents need a hoist.",
    }
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(manager).post("/api/v1/shifts/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "open" and data["id"]
    assert data["skills"] == ["hoist"] and data["filled_count"] == 0
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_offset": -1}, "end"),
        ({"start_offset": -48}, "start"),
        ({"end_offset": 30}, "end"),
        ({"headcount": 0}, "headcount"),
        ({"headcount": 500}, "headcount"),
        ({"role": "astronaut"}, "role"),
        ({"skills": ["juggling"]}, "skills"),
        ({"agency_hourly_rate": "-1"}, "agency_hourly_rate"),
        ({"start": "next tuesday"}, "start"),
    ],
)
def test_bad_shift_input_gets_field_errors(manager, site, change, field):
    start = timezone.now() + timedelta(days=2) + timedelta(hours=change.pop("start_offset", 0))
    end = start + timedelta(hours=change.pop("end_offset", 8))
    body = {
        "site": site.pk,
        "role": "care-worker",
        "start": iso(start),
        "end": iso(end),
        "headcount": 1,
        **change,
    }
    response = client_for(manager).post("/api/v1/shifts/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ShiftRequest.objects.exists()


def test_another_providers_site_is_refused(outsider, site):
    start = timezone.now() + timedelta(days=2)
    body = {
        "site": site.pk,
        "role": "care-worker",
        "start": iso(start),
        "end": iso(start + timedelta(hours=8)),
        "headcount": 1,
    }
    response = client_for(outsider).post("/api/v1/shifts/", body, format="json")
    assert response.status_code == 400 and "site" in response.json()


def test_a_worker_cannot_post_shifts(worker, site):
    assert client_for(worker.user).get("/api/v1/shifts/").status_code == 404


def test_a_provider_sees_its_shift_with_counts_and_booked_workers(manager, shift, offered, worker):
    Booking.objects.create(
        shift=shift, worker=worker, start=shift.start, end=shift.end, booked_at=timezone.now()
    )
    ShiftRequest.objects.filter(pk=shift.pk).update(booked_count=1)
    client = client_for(manager)
    listed = client.get("/api/v1/shifts/").json()["results"]
    assert [s["id"] for s in listed] == [shift.pk]
    detail = client.get(f"/api/v1/shifts/{shift.pk}/").json()
    assert detail["offers_sent"] == 2 and detail["filled_count"] == 1 and detail["headcount"] == 2
    assert [w["worker"] for w in detail["booked_workers"]] == [worker.pk]


def test_an_outsider_gets_404_for_anothers_shift(outsider, shift):
    client = client_for(outsider)
    assert client.get("/api/v1/shifts/").json()["results"] == []
    assert client.get(f"/api/v1/shifts/{shift.pk}/").status_code == 404
    assert client.post(f"/api/v1/shifts/{shift.pk}/cancel/").status_code == 404
    shift.refresh_from_db()
    assert shift.status == ShiftRequest.Status.OPEN


def test_a_provider_cancels_its_shift(manager, shift, offered):
    response = client_for(manager).post(
        f"/api/v1/shifts/{shift.pk}/cancel/", {"reason": "Covered"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = client_for(manager).post(f"/api/v1/shifts/{shift.pk}/cancel/")
    assert again.status_code == 400


def test_a_worker_lists_own_offers_pending_first(worker, offered, site):
    older = f.ShiftFactory(site=site, start=timezone.now() + timedelta(days=3))
    shift_match_wave(shift_id=older.pk)
    Offer.objects.filter(shift=older, worker=worker).update(status=Offer.Status.DECLINED)
    data = client_for(worker.user).get("/api/v1/offers/").json()["results"]
    assert [o["status"] for o in data] == ["pending", "declined"]
    assert data[0]["id"] == offered.pk and data[0]["expires_at"]
    assert data[0]["shift"]["site_name"] == offered.shift.site.name


def test_a_worker_accepts_an_offer(worker, offered):
    response = client_for(worker.user).post(f"/api/v1/offers/{offered.pk}/accept/")
    assert response.status_code == 200
    assert response.json()["status"] == "booked"
    assert Booking.objects.filter(worker=worker, shift=offered.shift).exists()


def test_accepting_a_full_shift_answers_409(worker, offered):
    ShiftRequest.objects.filter(pk=offered.shift_id).update(
        booked_count=2, status=ShiftRequest.Status.FILLED
    )
    response = client_for(worker.user).post(f"/api/v1/offers/{offered.pk}/accept/")
    assert response.status_code == 409
    assert response.json()["detail"] == "This shift has already been filled."


def test_accepting_a_declined_offer_answers_409(worker, offered):
    client = client_for(worker.user)
    assert client.post(f"/api/v1/offers/{offered.pk}/decline/").json()["status"] == "declined"
    response = client.post(f"/api/v1/offers/{offered.pk}/accept/")
    assert response.status_code == 409 and response.json()["code"] == "not_pending"
    assert client.post(f"/api/v1/offers/{offered.pk}/decline/").status_code == 409


def test_another_workers_offer_is_404(other_worker, offered, manager):
    for user in (other_worker.user, manager):
        client = client_for(user)
        assert client.post(f"/api/v1/offers/{offered.pk}/accept/").status_code == 404
        assert client.post(f"/api/v1/offers/{offered.pk}/decline/").status_code == 404
    offered.refresh_from_db()
    assert offered.status == Offer.Status.PENDING
    assert offered.pk not in [
        o["id"] for o in client_for(other_worker.user).get("/api/v1/offers/").json()["results"]
    ]


def test_a_worker_lists_and_cancels_own_bookings(worker, offered):
    client = client_for(worker.user)
    booking_id = client.post(f"/api/v1/offers/{offered.pk}/accept/").json()["id"]
    assert [b["id"] for b in client.get("/api/v1/bookings/").json()["results"]] == [booking_id]
    response = client.post(
        f"/api/v1/bookings/{booking_id}/cancel/", {"reason": "Unwell"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["cancelled_by"] == "worker"
    assert client.post(f"/api/v1/bookings/{booking_id}/cancel/").status_code == 400


def test_another_workers_booking_is_404(worker, other_worker, offered, outsider):
    booking_id = client_for(worker.user).post(f"/api/v1/offers/{offered.pk}/accept/").json()["id"]
    for user in (other_worker.user, outsider):
        client = client_for(user)
        assert client.post(f"/api/v1/bookings/{booking_id}/cancel/").status_code == 404
    assert client_for(other_worker.user).get("/api/v1/bookings/").json()["results"] == []
    assert Booking.objects.get(pk=booking_id).status == Booking.Status.BOOKED


def test_the_provider_can_cancel_a_booking_on_its_shift(worker, offered, manager):
    booking_id = client_for(worker.user).post(f"/api/v1/offers/{offered.pk}/accept/").json()["id"]
    response = client_for(manager).post(f"/api/v1/bookings/{booking_id}/cancel/")
    assert response.status_code == 200 and response.json()["cancelled_by"] == "provider"


def test_the_schema_and_docs_are_served(worker):
    client = client_for(worker.user)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/offers/{offer_id}/accept/" in schema.content
