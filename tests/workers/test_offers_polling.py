"""The offers page and GET /api/v1/offers/ stay cheap when phones poll them: a fixed,
small number of queries whatever the number of offers, and a poll that finds nothing new
answered from the list's fingerprint (ETag → 304, htmx → 204) before anything is loaded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shifts.models import Offer, ShiftRequest
from shifts.services.offers import offer_decline
from tests import factories as f
from tests.workers.conftest import make_offer

pytestmark = pytest.mark.django_db

URL = "/worker/offers/"


def _queries(client, url: str = URL, **headers: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    return len(ctx.captured_queries), response


def test_the_offers_page_makes_at_most_ten_queries_whether_it_shows_one_offer_or_twelve(
    worker_client, worker, site
):
    make_offer(f.ShiftFactory(site=site), worker)
    one_first, page = _queries(worker_client)  # marks the offer seen
    one_again, _ = _queries(worker_client)
    assert page.content.decode().count('class="govuk-summary-card"') == 1
    for _ in range(11):
        make_offer(f.ShiftFactory(site=site), worker)
    twelve_first, page = _queries(worker_client)
    twelve_again, _ = _queries(worker_client)
    assert page.content.decode().count('class="govuk-summary-card"') == 12
    assert one_first == twelve_first <= 10
    assert one_again == twelve_again <= 10
    assert Offer.objects.filter(worker=worker, viewed_at__isnull=True).count() == 0


def test_a_page_request_with_its_etag_gets_304_until_the_list_changes(worker_client, worker, site):
    offer = make_offer(f.ShiftFactory(site=site), worker)
    page = worker_client.get(URL)
    etag = page["ETag"]
    assert page.status_code == 200 and etag
    assert "no-store" not in page["Cache-Control"] and "no-cache" in page["Cache-Control"]

    count, unchanged = _queries(worker_client, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag
    assert count <= 3  # user, worker, the fingerprint (the session is cached): nothing rendered

    ShiftRequest.objects.filter(pk=offer.shift_id).update(is_critical=True)
    urgent = worker_client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert urgent.status_code == 200 and "Urgent" in urgent.content.decode()
    etag = urgent["ETag"]

    second = make_offer(f.ShiftFactory(site=site), worker)
    more = worker_client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert more.status_code == 200 and more["ETag"] != etag
    etag = more["ETag"]

    offer_decline(offer=second, worker=worker, reason="")
    fewer = worker_client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert fewer.status_code == 200 and f"offer-{second.pk}" not in fewer.content.decode()
    etag = fewer["ETag"]

    # An offer that runs out leaves the list at its deadline, before any task marks it.
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    lapsed = worker_client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert lapsed.status_code == 200 and f"offer-{offer.pk}" not in lapsed.content.decode()


def test_an_htmx_poll_that_finds_nothing_new_costs_three_queries(worker_client, worker, site):
    for _ in range(5):
        make_offer(f.ShiftFactory(site=site), worker)
    version = worker_client.get(URL, HTTP_HX_REQUEST="true").context["version"]
    count, unchanged = _queries(worker_client, f"{URL}?v={version}", HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204
    assert count <= 3  # user, worker, the fingerprint (the session is cached)


def test_another_workers_etag_does_not_reveal_their_list(client, worker, other_worker, site):
    make_offer(f.ShiftFactory(site=site), worker)
    client.force_login(worker.user)
    etag = client.get(URL)["ETag"]
    client.force_login(other_worker.user)
    theirs = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert theirs.status_code == 200 and theirs["ETag"] != etag


def _api(worker) -> APIClient:
    client = APIClient()
    client.force_authenticate(worker.user)
    return client


def test_the_offers_api_answers_304_to_its_etag_until_an_offer_or_its_shift_changes(worker, site):
    client = _api(worker)
    offer = make_offer(f.ShiftFactory(site=site), worker)
    listed = client.get("/api/v1/offers/")
    etag = listed["ETag"]
    assert listed.status_code == 200 and [o["id"] for o in listed.json()["results"]] == [offer.pk]

    with CaptureQueriesContext(connection) as ctx:
        unchanged = client.get("/api/v1/offers/", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert len(ctx.captured_queries) <= 2  # the worker, the fingerprint

    ShiftRequest.objects.filter(pk=offer.shift_id).update(notes="Park at the back")
    edited = client.get("/api/v1/offers/", HTTP_IF_NONE_MATCH=etag)
    assert edited.status_code == 200
    assert edited.json()["results"][0]["shift"]["notes"] == "Park at the back"
    etag = edited["ETag"]

    offer_decline(offer=offer, worker=worker, reason="")
    answered = client.get("/api/v1/offers/", HTTP_IF_NONE_MATCH=etag)
    assert answered.status_code == 200 and answered.json()["results"][0]["status"] == "declined"
    assert client.get("/api/v1/offers/", HTTP_IF_NONE_MATCH=answered["ETag"]).status_code == 304


def test_with_its_token_the_offers_api_finds_the_worker_with_the_token_in_one_query(worker, site):
    token = Token.objects.create(user=worker.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    make_offer(f.ShiftFactory(site=site), worker)
    etag = client.get("/api/v1/offers/")["ETag"]
    with CaptureQueriesContext(connection) as ctx:
        unchanged = client.get("/api/v1/offers/", HTTP_IF_NONE_MATCH=etag)
        again = client.get("/api/v1/offers/")
    assert unchanged.status_code == 304 and again.status_code == 200
    assert (
        len(ctx.captured_queries) == 4
    )  # each: the token with its user and worker, the fingerprint


def test_the_offers_api_without_an_etag_is_served_from_the_kept_list_until_it_changes(worker, site):
    client = _api(worker)
    offer = make_offer(f.ShiftFactory(site=site), worker)
    first = client.get("/api/v1/offers/")
    with CaptureQueriesContext(connection) as ctx:
        again = client.get("/api/v1/offers/")
    assert again.status_code == 200 and again.json() == first.json()
    assert len(ctx.captured_queries) <= 2  # the worker, the fingerprint
    offer_decline(offer=offer, worker=worker, reason="")
    changed = client.get("/api/v1/offers/")
    assert changed.json()["results"][0]["status"] == "declined" and changed["ETag"] != first["ETag"]


def _token_in_form(html: str, offer: Offer) -> str:
    form = html[html.index(f'id="offer-{offer.pk}"') :]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)


def test_the_rendered_list_is_kept_until_it_changes_and_its_forms_carry_each_requests_own_token(
    worker, site
):
    from django.test import Client

    offers = [make_offer(f.ShiftFactory(site=site), worker) for _ in range(3)]
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(worker.user)
    rendered_count, first = _queries(phone)
    kept_count, again = _queries(phone)
    assert kept_count <= rendered_count - 4  # no offers, skills, rates or marking loaded
    assert again.content.decode().count('class="govuk-summary-card"') == 3
    # The kept list's forms answer: each response puts in a token for its own requester.
    html = again.content.decode()
    assert "__flexpool_csrf_slot__" not in html
    response = phone.post(
        f"/worker/offers/{offers[0].pk}/accept/",
        {"csrfmiddlewaretoken": _token_in_form(html, offers[0])},
    )
    assert response.status_code == 302 and Offer.objects.get(pk=offers[0].pk).status == "accepted"
    # ... and the accepted offer has left the list: a new fingerprint, a new rendering.
    after = phone.get(URL).content.decode()
    assert f'id="offer-{offers[0].pk}"' not in after and after.count('govuk-summary-card"') == 2


def test_another_worker_never_gets_this_workers_kept_list(client, worker, other_worker, site):
    mine = make_offer(f.ShiftFactory(site=site), worker)
    client.force_login(worker.user)
    assert f'id="offer-{mine.pk}"' in client.get(URL).content.decode()
    client.force_login(other_worker.user)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        theirs = client.get(URL, **headers).content.decode()
        assert f'id="offer-{mine.pk}"' not in theirs and "no offers right now" in theirs
