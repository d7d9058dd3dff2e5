"""The offers list updates itself, an offer taken by someone else says so when tapped,
and "My shifts" is readable with no signal (service worker), at phone size."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from shifts.services.offers import offer_accept
from tests import factories as f
from tests.browser import axe_check, sign_in
from tests.workers.conftest import make_booking, make_offer, shift_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_offer_appears_without_a_reload(live_server, phone, worker, site, settings):
    settings.WORKER_OFFERS_POLL_SECONDS = 1
    page = sign_in(phone, live_server, worker.user)
    page.goto(live_server.url + "/worker/offers/")
    assert page.get_by_text("You have no offers right now.").is_visible()
    offer = make_offer(f.ShiftFactory(site=site), worker)
    page.locator(f"#offer-{offer.pk}").wait_for(timeout=5000)
    assert page.url.endswith("/worker/offers/")  # no navigation happened


def test_tapping_an_offer_someone_else_filled_says_so(
    live_server, phone, worker, other_worker, site
):
    shift = f.ShiftFactory(site=site)
    mine = make_offer(shift, worker)
    theirs = make_offer(shift, other_worker)
    page = sign_in(phone, live_server, worker.user)
    page.goto(live_server.url + "/worker/offers/")
    offer_accept(offer=theirs, worker=other_worker)  # while Wendy's page is open
    page.locator(f"#offer-{mine.pk}").get_by_role("button", name=re.compile("^Accept")).click()
    page.wait_for_load_state()
    banner = page.locator(".govuk-notification-banner")
    assert "There is a problem" in banner.inner_text()
    assert re.search(r"already been filled|no longer", banner.inner_text())
    axe_check(page, "offer-filled")


def test_my_shifts_is_readable_offline_once_visited(live_server, phone, worker, site):
    booking = make_booking(shift_at(site, timezone.now() + timedelta(days=1)), worker)
    page = sign_in(phone, live_server, worker.user)
    page.goto(live_server.url + "/worker/shifts/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker, which keeps a copy
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()
    phone.set_offline(True)
    try:
        page.reload()
        assert page.get_by_role("heading", name="My shifts").is_visible()
        assert booking.shift.site.name in page.content()
    finally:
        phone.set_offline(False)
