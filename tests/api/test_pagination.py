"""Every API list comes in pages (``limit``/``offset``, ``count``, ``next``, ``previous``)
and the schema says so; the offers list keeps one ETag per page."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from shifts.models import Offer
from tests import factories as f
from tests.workers.conftest import make_offer

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/roles/",
    "/api/v1/skills/",
    "/api/v1/sites/",
    "/api/v1/shifts/",
    "/api/v1/offers/",
    "/api/v1/bookings/",
]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_schema_documents_every_list_as_pages():
    paths = yaml.safe_load(Client().get("/api/schema/").content)["paths"]
    schemas = yaml.safe_load(Client().get("/api/schema/").content)["components"]["schemas"]
    for path in LISTS:
        get = paths[path]["get"]
        assert {"limit", "offset"} <= {p["name"] for p in get["parameters"]}, path
        ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        envelope = schemas[ref.rsplit("/", 1)[1]]
        assert set(envelope["properties"]) == {"count", "next", "previous", "results"}, path


def test_the_schema_declares_the_offers_lists_304():
    paths = yaml.safe_load(Client().get("/api/schema/").content)["paths"]
    get = paths["/api/v1/offers/"]["get"]
    assert "304" in get["responses"]
    assert "If-None-Match" in {p["name"] for p in get["parameters"]}


def test_a_providers_shifts_come_in_pages_with_links_and_never_anothers(manager, site, outsider):
    shifts = [f.ShiftFactory(site=site) for _ in range(5)]
    client = _client(manager)
    first = client.get("/api/v1/shifts/", {"limit": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert second["previous"] and len(second["results"]) == 2
    last = client.get(second["next"]).json()
    assert last["next"] is None
    seen = [s["id"] for page in (first, second, last) for s in page["results"]]
    assert sorted(seen) == sorted(s.pk for s in shifts)
    assert _client(outsider).get("/api/v1/shifts/").json()["count"] == 0


def test_a_page_is_fifty_long_unless_asked_and_never_above_two_hundred(worker):
    client = _client(worker.user)
    assert client.get("/api/v1/roles/").json()["results"]
    for asked in ("abc", "-1", "0", "1" * 5000):
        response = client.get("/api/v1/roles/", {"limit": asked, "offset": asked})
        assert response.status_code == 200, asked
    huge = client.get("/api/v1/skills/", {"offset": 10**30})
    assert huge.status_code == 200 and huge.json()["results"] == []
    from flexpool.pagination import Pagination

    assert Pagination.default_limit == 50 and Pagination.max_limit == 200


def test_each_page_of_offers_has_its_own_etag_and_304(worker, other_worker, site):
    offers = [make_offer(f.ShiftFactory(site=site), worker) for _ in range(3)]
    client = _client(worker.user)
    first = client.get("/api/v1/offers/", {"limit": 2})
    second = client.get("/api/v1/offers/", {"limit": 2, "offset": 2})
    assert first["ETag"] != second["ETag"]
    assert len(first.json()["results"]) == 2 and len(second.json()["results"]) == 1
    assert first.json()["count"] == 3
    # The kept page is the page asked for, not another page under the same fingerprint.
    assert client.get("/api/v1/offers/", {"limit": 2, "offset": 2}).json() == second.json()
    again = client.get("/api/v1/offers/", {"limit": 2}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    # Another page's ETag does not answer this page.
    other = client.get("/api/v1/offers/", {"limit": 2}, HTTP_IF_NONE_MATCH=second["ETag"])
    assert other.status_code == 200
    Offer.objects.filter(pk=offers[0].pk).update(status=Offer.Status.DECLINED)
    changed = client.get("/api/v1/offers/", {"limit": 2}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert _client(other_worker.user).get("/api/v1/offers/").json()["count"] == 0


def test_a_page_of_offers_is_cut_before_its_shifts_are_read_and_keeps_the_order(
    worker, other_worker, site
):
    """The page is cut from the offers alone, then its offers are loaded with their shifts
    (``offer_ids_for_worker``, ``offers_listed``): the same offers in the same order as
    ``offers_for_worker``, pending first, then the newest, and never another worker's."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from shifts import selectors

    now = timezone.now()
    for i in range(7):
        status = Offer.Status.PENDING if i % 3 == 0 else Offer.Status.DECLINED
        make_offer(
            f.ShiftFactory(site=site), worker, status=status, sent_at=now - timedelta(hours=i)
        )
        make_offer(f.ShiftFactory(site=site), other_worker, sent_at=now - timedelta(minutes=i))
    expected = [o.pk for o in selectors.offers_for_worker(worker=worker)]
    client = _client(worker.user)
    pages = [
        client.get("/api/v1/offers/", {"limit": 3, "offset": offset}).json()["results"]
        for offset in (0, 3, 6)
    ]
    listed = [offer["id"] for page in pages for offer in page]
    assert listed == expected and len(listed) == 7
    assert [o.status for o in Offer.objects.filter(pk__in=listed[:3])].count("pending") == 3
    assert pages[0][0]["shift"]["site_name"] == site.name

    # No query reads a shift for an offer the page does not show: however long the
    # history, the shifts read are the page's own (asked by id, not cut by LIMIT).
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/v1/offers/", {"limit": 2, "offset": 1}).json()["results"]
    assert [offer["id"] for offer in page] == expected[1:3]
    shift_reads = [q["sql"] for q in queries if 'JOIN "shifts_shiftrequest"' in q["sql"]]
    assert len(shift_reads) == 1
    assert "LIMIT" not in shift_reads[0]
    assert all(str(pk) in shift_reads[0] for pk in expected[1:3])
