from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shifts.models import Booking, Offer
from tests import factories as f
from tests.workers.conftest import make_offer

pytestmark = pytest.mark.django_db


def test_the_offers_page_shows_district_distance_pay_and_why_but_not_the_address(
    worker_client, worker, shift
):
    offer = make_offer(shift, worker)
    body = worker_client.get(reverse("workers:offers")).content.decode()
    offer.refresh_from_db()
    assert offer.viewed_at is not None
    assert "Oak Care" in body
    assert "BL9 area, 0.7 miles from you, about 5 min" in body  # miles: the pool's default
    assert "Oak Care" in body
    assert shift.site.address not in body
    assert shift.site.postcode not in body
    # 8 hours at the Bury pool's care-worker cost of £14.20 an hour
    assert "<strong>£113.60</strong> (£14.20 an hour)" in body
    assert "Why you: Lives 0.7 miles away; Available all day" in body
    assert 'hx-trigger="every 15s"' in body


def test_the_most_urgent_shift_comes_first_and_answered_offers_are_gone(
    worker_client, worker, site
):
    later = f.ShiftFactory(site=site, start=timezone.now() + timedelta(days=3))
    sooner = f.ShiftFactory(site=site, start=timezone.now() + timedelta(hours=3))
    declined = f.ShiftFactory(site=site, start=timezone.now() + timedelta(hours=5))
    make_offer(later, worker)
    make_offer(sooner, worker, sent_at=timezone.now() - timedelta(minutes=30))
    make_offer(declined, worker, status=Offer.Status.DECLINED)
    body = worker_client.get(reverse("workers:offers")).content.decode()
    ids = [o.pk for o in Offer.objects.filter(status=Offer.Status.PENDING)]
    assert len(ids) == 2
    sooner_pos = body.index(f'id="offer-{Offer.objects.get(shift=sooner).pk}"')
    later_pos = body.index(f'id="offer-{Offer.objects.get(shift=later).pk}"')
    assert sooner_pos < later_pos
    assert f'id="offer-{Offer.objects.get(shift=declined).pk}"' not in body


def test_htmx_polling_gets_just_the_list_fragment_and_204_when_nothing_changed(
    worker_client, worker, shift, site
):
    make_offer(shift, worker)
    url = reverse("workers:offers")
    response = worker_client.get(url, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="offer-list"')
    assert "<html" not in body
    assert "no-cache" in response["Cache-Control"]  # a cached copy is always revalidated
    version = response.context["version"]
    assert f"?v={version}" in body
    unchanged = worker_client.get(url, {"v": version}, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204 and unchanged.content == b""
    make_offer(f.ShiftFactory(site=site), worker)
    changed = worker_client.get(url, {"v": version}, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert changed.content.decode().count('class="govuk-summary-card"') == 2


def test_accepting_books_the_shift_and_shows_the_address(worker_client, worker, shift):
    offer = make_offer(shift, worker)
    response = worker_client.post(reverse("workers:offer_accept", args=[offer.pk]))
    booking = Booking.objects.get(worker=worker, shift=shift)
    assert response["Location"] == reverse("workers:shift", args=[booking.pk])
    page = worker_client.get(response["Location"]).content.decode()
    assert shift.site.address in page
    assert "openstreetmap.org" in page


def test_an_offer_filled_while_the_page_was_open_says_so(
    worker_client, worker, other_worker, shift
):
    mine = make_offer(shift, worker)
    theirs = make_offer(shift, other_worker)
    from shifts.services.offers import offer_accept

    offer_accept(offer=theirs, worker=other_worker)
    response = worker_client.post(reverse("workers:offer_accept", args=[mine.pk]), follow=True)
    body = response.content.decode()
    assert "There is a problem" in body
    assert "no longer" in body or "already been filled" in body
    assert not Booking.objects.filter(worker=worker).exists()


def test_declining_takes_one_tap_and_a_reason_is_optional(worker_client, worker, site):
    one = make_offer(f.ShiftFactory(site=site), worker)
    two = make_offer(f.ShiftFactory(site=site), worker)
    worker_client.post(reverse("workers:offer_decline", args=[one.pk]))
    one.refresh_from_db()
    assert one.status == Offer.Status.DECLINED
    page = worker_client.get(reverse("workers:offer_decline", args=[two.pk]))
    assert "Why are you declining? (optional)" in page.content.decode()
    worker_client.post(
        reverse("workers:offer_decline", args=[two.pk]), {"reason": "Too far to travel"}
    )
    two.refresh_from_db()
    assert (two.status, two.decline_reason) == (Offer.Status.DECLINED, "Too far to travel")


def test_another_workers_offer_answers_404(client, worker, other_worker, shift):
    offer = make_offer(shift, other_worker)
    client.force_login(worker.user)
    assert client.post(reverse("workers:offer_accept", args=[offer.pk])).status_code == 404
    assert client.get(reverse("workers:offer_decline", args=[offer.pk])).status_code == 404
    assert client.post(reverse("workers:offer_decline", args=[offer.pk])).status_code == 404
    assert f"offer-{offer.pk}" not in client.get(reverse("workers:offers")).content.decode()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_accepting_needs_a_post(worker_client, worker, shift):
    offer = make_offer(shift, worker)
    assert worker_client.get(reverse("workers:offer_accept", args=[offer.pk])).status_code == 405
