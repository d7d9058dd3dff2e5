"""Hostile input gets a field error or a 400, never a 500: control characters in text,
deeply nested or oversized JSON, dates far outside any sane range."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.pools.conftest import give_totp


def _client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def _shift_body(site, **extra):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    body = {
        "site": site.pk,
        "role": "care-worker",
        "skills": [],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=8)).isoformat(),
        "headcount": 1,
    }
    body.update(extra)
    return body


@pytest.mark.parametrize(
    "field, value",
    [
        ("role", "care\x00worker"),
        ("skills", ["hoist\x00"]),
        ("notes", "Ring\x00 the bell"),
        ("notes", "Ring\x07 the bell"),
    ],
)
def test_control_characters_get_a_field_error(manager, site, field, value):
    response = _client(manager).post(
        "/api/v1/shifts/", _shift_body(site, **{field: value}), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_a_deeply_nested_json_body_is_a_400(manager):
    body = "[" * 100_000 + "]" * 100_000
    response = _client(manager).post("/api/v1/shifts/", body, content_type="application/json")
    assert response.status_code == 400


def test_a_moderately_nested_body_is_refused_too(manager):
    body = '{"notes": ' + "[" * 64 + "]" * 64 + "}"
    response = _client(manager).post("/api/v1/shifts/", body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "start, end",
    [("9998-01-01", "9999-12-31"), ("0001-01-01", "0001-01-02"), ("2026-03-01", "9999-12-31")],
)
def test_dates_outside_a_sane_range_are_a_400(coordinator, start, end):
    give_totp(coordinator)
    response = _client(coordinator).get("/api/v1/stats/summary/", {"from": start, "to": end})
    assert response.status_code == 400
