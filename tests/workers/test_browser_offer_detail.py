"""On a 360 px phone: from the card to the offer's full details, then accept; the
address appears only once booked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shifts.models import Booking
from tests import factories as f
from tests.browser import axe_check, sign_in
from tests.workers.conftest import make_offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_worker_reads_an_offers_details_then_accepts_it(live_server, phone, worker, site):
    site.address = "12 Mill Lane, Bury"
    site.parking_notes = "Free car park at the back."
    site.save()
    offer = make_offer(f.ShiftFactory(site=site), worker, distance_km=Decimal("3.2"))
    page = sign_in(phone, live_server, worker.user)
    page.goto(live_server.url + "/worker/offers/")
    page.get_by_role("link", name="Full details").click()
    page.wait_for_url(f"**/worker/offers/{offer.pk}/")
    page.get_by_role("heading", name="Care worker at Oak House").wait_for()
    assert page.get_by_text("Free car park at the back.").is_visible()
    assert "Mill Lane" not in page.content()
    axe_check(page, "offer-detail")
    page.get_by_role("button", name="Accept this shift").click()
    page.wait_for_url("**/worker/shifts/*/")
    assert Booking.objects.filter(offer=offer).exists()
    assert "Mill Lane" in page.content()
