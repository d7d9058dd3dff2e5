"""An offer worth accepting: the detail page, the card and the message name the same
things — site, type of care, role, skills, distance in the pool's unit and travel time,
pay, why it came to the worker, when to answer — and never the street address."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from notifications.models import Notification
from shifts.offer_text import distance_text, offer_messages, travel_minutes
from tests import factories as f
from tests.workers.conftest import make_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(site, worker):
    site.parking_notes = "Free car park at the back."
    site.travel_notes = "Bus 135 stops outside."
    site.address = "12 Secret Lane, Bury"
    site.save()
    shift = f.ShiftFactory(site=site, skills=["dementia"], notes="Ask for Sam at reception.")
    return make_offer(shift, worker, distance_km=Decimal("3.2"))


def test_the_offer_page_shows_what_a_worker_needs_to_decide_but_not_the_address(
    worker_client, offer
):
    page = worker_client.get(reverse("workers:offer", kwargs={"pk": offer.pk}))
    assert page.status_code == 200
    text = page.content.decode()
    for expected in (
        "Oak House",
        "Care home",
        "Care worker",
        "Dementia care",
        "2.0 miles",
        "about 10 min",
        "Ask for Sam at reception.",
        "Free car park at the back.",
        "Bus 135 stops outside.",
        "Why you",
        "Answer by",
        "Accept this shift",
    ):
        assert expected in text, expected
    assert "Secret Lane" not in text
    assert site_postcode_absent(text, offer)


def site_postcode_absent(text: str, offer) -> bool:
    return offer.shift.site.postcode not in text


def test_another_workers_offer_page_is_404(other_client, offer):
    assert other_client.get(reverse("workers:offer", kwargs={"pk": offer.pk})).status_code == 404


def test_the_card_names_the_same_things_and_links_to_the_details(worker_client, offer):
    text = worker_client.get(reverse("workers:offers")).content.decode()
    assert "Oak House" in text and "care home" in text and "2.0 miles" in text
    assert "1.1 km" not in text  # reasons too speak the pool's unit
    assert reverse("workers:offer", kwargs={"pk": offer.pk}) in text
    assert "Secret Lane" not in text


def test_the_message_names_the_same_things_as_the_card(offer):
    [message] = offer_messages([offer.pk])
    assert message.offer_id == offer.pk
    assert message.url == reverse("workers:offer", kwargs={"pk": offer.pk})
    for expected in ("Care worker", "Oak House", "care home", "2.0 miles", "Dementia care"):
        assert expected in message.body, expected
    assert "Answer by" in message.body and "an hour" in message.body
    assert "Secret Lane" not in message.body + message.subject


def test_a_pool_that_counts_in_kilometres_gets_kilometres(worker_client, offer, pool):
    pool.distance_unit = "km"
    pool.save(update_fields=["distance_unit"])
    text = worker_client.get(reverse("workers:offer", kwargs={"pk": offer.pk})).content.decode()
    assert "3.2 km from your home" in text
    [message] = offer_messages([offer.pk])
    assert "3.2 km" in message.body


def test_distances_and_travel_times_read_as_people_say_them():
    assert distance_text(Decimal("1.609344")) == "1.0 mile"
    assert distance_text(Decimal("16.1")) == "10.0 miles"
    assert distance_text(Decimal("5"), "km") == "5.0 km"
    assert travel_minutes(Decimal("0.3")) == 5
    assert travel_minutes(Decimal("8")) == 15


def test_matching_stores_offer_messages_linked_to_their_offers(offer):
    from notifications.services import notifications_send_many

    notifications_send_many(messages=offer_messages([offer.pk]))
    note = Notification.objects.get(kind="offer")
    assert note.offer_id == offer.pk
