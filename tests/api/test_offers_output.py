"""The offers API lists a page from values (``offers_listed``, ``offers_output``) and not
through ``OfferOutputSerializer``, which its schema still names: the two must give the same
bytes for every kind of offer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from shifts import selectors
from shifts.api import OfferOutputSerializer, offers_output
from shifts.models import Offer
from tests import factories as f
from tests.workers.conftest import make_offer

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _offers_of_every_kind(worker, site) -> None:
    """Summer and winter times, a night across midnight and across the clocks going back,
    odd minutes, no skills and several, odd distances, every status, notes and reasons
    with what JSON must escape."""
    starts = [
        (datetime(2027, 7, 3, 8, 0, tzinfo=LONDON), timedelta(hours=8)),
        (datetime(2027, 1, 9, 20, 0, tzinfo=LONDON), timedelta(hours=10, minutes=30)),
        (datetime(2027, 10, 30, 22, 0, tzinfo=LONDON), timedelta(hours=9)),
        (datetime(2027, 3, 2, 7, 13, 27, tzinfo=LONDON), timedelta(hours=7, minutes=47)),
    ]
    statuses = list(Offer.Status)
    distances = [Decimal("0.0"), Decimal("12.3"), Decimal("99999.9"), Decimal("0.1")]
    skills = [[], ["dementia"], ["hoist", "dementia"], []]
    notes = ["", 'Ring "the bell" twice — café entrance', "Line\none\ttab \\ slash", "ok"]
    reasons = [[], ["favourite of this home", "2.0 km away"], ["ünïcode ✓"], ['"quoted"']]
    sent = datetime(2026, 12, 1, 6, 0, 0, 123456, tzinfo=LONDON)
    for i, (start, length) in enumerate(starts):
        shift = f.ShiftFactory(
            site=site, start=start, end=start + length, notes=notes[i], skills=skills[i]
        )
        make_offer(
            shift,
            worker,
            status=statuses[i % len(statuses)],
            distance_km=distances[i],
            reasons=reasons[i],
            sent_at=sent + timedelta(minutes=i),
            expires_at=sent + timedelta(hours=1, seconds=i),
            wave=i + 1,
        )


def test_a_listed_page_is_byte_for_byte_the_serializers(worker, other_worker, site):
    _offers_of_every_kind(worker, site)
    _offers_of_every_kind(other_worker, f.SiteFactory(name="Elm Lodge"))
    ids = [offer.pk for offer in selectors.offers_for_worker(worker=worker)]
    assert len(ids) == 4

    listed = offers_output(selectors.offers_listed(ids))
    in_order = selectors.offers_for_worker(worker=worker)
    through_serializer = OfferOutputSerializer(in_order, many=True).data

    render = JSONRenderer().render
    assert render(listed) == render(through_serializer)
    assert [list(offer) for offer in listed] == [list(offer) for offer in through_serializer]


def test_the_api_lists_only_the_workers_own_offers_in_their_order(worker, other_worker, site):
    _offers_of_every_kind(worker, site)
    _offers_of_every_kind(other_worker, site)
    client = APIClient()
    client.force_authenticate(worker.user)
    body = client.get("/api/v1/offers/").json()
    expected = OfferOutputSerializer(selectors.offers_for_worker(worker=worker), many=True).data
    assert body["count"] == 4
    assert body["results"] == json.loads(JSONRenderer().render(expected))
    assert selectors.offers_listed([]) == []
