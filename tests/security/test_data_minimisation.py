"""A site's street address and full postcode reach a worker only with a live booking: while
a shift is only offered, every API response and the offers page give its district alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from shifts import api
from shifts.matching import shift_match_wave
from shifts.models import Offer
from tests import factories as f
from tests.security.urls import routes

ADDRESS_WORDS = ("address", "postcode", "street")

# The only serializers that may carry a site's address, and why.
ADDRESS_ALLOWED = {
    # A provider's own sites, to the provider's members.
    "SiteListApi.OutputSerializer",
    # A worker's booking: given only while the booking is live (see the serializer).
    "BookingOutputSerializer",
}


@pytest.fixture
def pending_offer(site, worker):
    shift = f.ShiftFactory(site=site, headcount=1, notes="Ring the bell")
    shift_match_wave(shift_id=shift.pk)
    return Offer.objects.get(shift=shift, worker=worker, status=Offer.Status.PENDING)


def _walk_keys(data: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append((key, value))
            found.extend(_walk_keys(value))
    elif isinstance(data, list):
        for item in data:
            found.extend(_walk_keys(item))
    return found


def _assert_no_address(body: Any, site) -> None:
    text = json.dumps(body)
    assert site.address not in text
    assert site.postcode not in text
    for key, value in _walk_keys(body):
        if any(word in key.lower() for word in ADDRESS_WORDS):
            assert value in (None, ""), f"{key} = {value!r} reached the worker"


def _serializer_classes() -> list[tuple[str, type[serializers.Serializer]]]:
    found: dict[str, type[serializers.Serializer]] = {}
    for name, obj in vars(api).items():
        if isinstance(obj, type) and issubclass(obj, serializers.Serializer):
            found[name] = obj
        if isinstance(obj, type) and hasattr(obj, "OutputSerializer"):
            found[f"{name}.OutputSerializer"] = obj.OutputSerializer
    return sorted(found.items())


def test_only_the_stated_serializers_name_an_address():
    carrying = set()
    for name, cls in _serializer_classes():
        for field_name, field in cls().get_fields().items():
            source = getattr(field, "source", "") or ""
            if any(w in f"{field_name} {source}".lower() for w in ADDRESS_WORDS):
                carrying.add(name)
    assert carrying == ADDRESS_ALLOWED


def test_every_api_response_a_worker_gets_for_a_pending_offer_leaves_out_the_address(
    worker, pending_offer, site
):
    client = APIClient()
    client.force_authenticate(worker.user)
    values = {
        "offer_id": pending_offer.pk,
        "shift_id": pending_offer.shift_id,
        "booking_id": 0,
    }
    walked = 0
    for route in routes():
        if not route.path.startswith("api/v1/"):
            continue
        response = client.get(route.url(**values))
        if response.status_code == 405:
            continue
        walked += 1
        assert response.status_code < 500
        _assert_no_address(response.json(), site)
    assert walked >= 8
    offers = client.get("/api/v1/offers/").json()["results"]
    assert [o["id"] for o in offers] == [pending_offer.pk]
    assert offers[0]["shift"]["site_district"] == "BL9"
    assert offers[0]["distance_km"]


def test_declining_answers_without_the_address(worker, pending_offer, site):
    client = APIClient()
    client.force_authenticate(worker.user)
    response = client.post(f"/api/v1/offers/{pending_offer.pk}/decline/", {}, format="json")
    assert response.status_code == 200
    _assert_no_address(response.json(), site)


def test_the_address_comes_with_the_booking_and_goes_when_it_is_cancelled(
    worker, pending_offer, site
):
    client = APIClient()
    client.force_authenticate(worker.user)
    booking = client.post(f"/api/v1/offers/{pending_offer.pk}/accept/").json()
    assert booking["site_address"] == site.address
    assert booking["site_postcode"] == site.postcode
    cancelled = client.post(
        f"/api/v1/bookings/{booking['id']}/cancel/", {"reason": "Unwell"}, format="json"
    ).json()
    assert cancelled["status"] == "cancelled"
    _assert_no_address(cancelled, site)


def test_the_offers_page_shows_the_district_not_the_address(client, worker, pending_offer, site):
    client.force_login(worker.user)
    page = client.get("/worker/offers/").content.decode()
    assert "BL9 area" in page
    assert site.address not in page and site.postcode not in page
    detail = client.get(f"/worker/offers/{pending_offer.pk}/")
    assert detail.status_code == 200
    assert site.address not in detail.content.decode()
    assert site.postcode not in detail.content.decode()
