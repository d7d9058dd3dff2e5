"""A worker's whole journey on a 360 px phone, in real Chromium: sign up, verify the
e-mail address, apply, get approved, see an offer, accept it, find it in My shifts,
clock in and clock out. Plus axe-core on every worker page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from pools.models import DocumentType
from shifts.models import Booking, Offer, Timesheet
from tests import factories as f
from tests.browser import ARTIFACTS, axe_check, sign_in
from tests.workers.conftest import make_booking, make_offer, shift_at
from workers.models import Document, Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-phone-password-42"


def approve_with_documents(worker: Worker) -> None:
    """What a coordinator does after checking the documents (their pages are not ours)."""
    today = timezone.localdate()
    for doc_type in DocumentType.objects.all():
        Document.objects.create(
            worker=worker,
            doc_type=doc_type,
            status=Document.Status.APPROVED,
            issued_on=today - timedelta(days=100),
            expires_on=today + timedelta(days=365) if doc_type.expires else None,
        )
    Worker.objects.filter(pk=worker.pk).update(
        status=Worker.Status.APPROVED, approved_at=timezone.now()
    )


def test_a_worker_signs_up_applies_accepts_an_offer_and_clocks_in_and_out(
    live_server, phone, site, settings
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    # allauth's per-address limit on verification e-mails lives in the shared cache.
    settings.ACCOUNT_RATE_LIMITS = False
    page = phone.new_page()
    transferred: list[int] = []
    page.on("response", lambda r: transferred.append(len(r.body()) if r.ok else 0))

    # Sign up and verify the e-mail address.
    page.goto(live_server.url + "/accounts/signup/")
    axe_check(page, "signup")
    page.get_by_label("Email").fill("ada@example.test")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    axe_check(page, "verification-sent")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body)
    assert link is not None
    page.goto(link.group(0).replace("http://testserver", live_server.url))
    axe_check(page, "confirm-email")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/login/")
    axe_check(page, "login")
    page.get_by_label("Email").fill("ada@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    # Signed in, with no worker record yet: the profile form.
    page.wait_for_url("**/worker/apply/")
    axe_check(page, "apply")
    page.get_by_label("Full name").fill("Ada Applicant")
    page.get_by_label("Mobile phone number").fill("07700 900982")
    page.get_by_label("Home postcode").fill("SW1A 1AA")
    page.get_by_label("Yes").check()
    page.get_by_label("Care worker").check()
    page.get_by_role("button", name="Send application").click()
    assert page.get_by_text("SW1A 1AA is outside the area this pool covers").first.is_visible()
    page.get_by_label("Home postcode").fill("BL9 7XY")
    page.get_by_label("Care worker").check()
    page.get_by_role("button", name="Send application").click()
    page.wait_for_url("**/worker/documents/")
    axe_check(page, "documents")

    worker = Worker.objects.get(user__email="ada@example.test")
    assert worker.district == "BL9"
    approve_with_documents(worker)

    # An offer arrives for a shift starting in half an hour.
    shift = shift_at(site, timezone.now() + timedelta(minutes=30), hours=4)
    offer = make_offer(shift, worker)
    page.goto(live_server.url + "/worker/offers/")
    card = page.locator(f"#offer-{offer.pk}")
    assert "BL9 area" in card.inner_text()
    assert shift.site.address not in page.content()
    axe_check(page, "offers")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "worker-offers-360.png"), full_page=True)
    card.get_by_role("button", name=re.compile("^Accept")).click()

    # Booked: the full address and a map link appear.
    page.wait_for_url("**/worker/shifts/*/")
    assert shift.site.address in page.content()
    assert page.get_by_role("link", name=re.compile("Map and directions")).is_visible()
    axe_check(page, "shift")
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED

    page.get_by_role("link", name="My shifts").first.click()
    page.wait_for_url("**/worker/shifts/")
    axe_check(page, "my-shifts")
    page.get_by_role("link", name=re.compile("Care worker at Oak House")).click()
    page.get_by_role("button", name="I am still coming").click()
    page.get_by_role("button", name="Clock in").click()
    assert page.get_by_text("Clocked in at").is_visible()
    page.get_by_role("button", name="Clock out").click()
    assert page.get_by_text("sent to the provider to approve").is_visible()

    booking = Booking.objects.get(worker=worker)
    assert booking.confirmed_at is not None
    assert Timesheet.objects.get(booking=booking).status == Timesheet.Status.SUBMITTED
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_every_worker_page_passes_axe_at_phone_size(live_server, phone, worker, site):
    shift = shift_at(site, timezone.now() + timedelta(minutes=30))
    make_offer(f.ShiftFactory(site=site), worker)
    booking = make_booking(shift, worker)
    page = sign_in(phone, live_server, worker.user)
    ARTIFACTS.mkdir(exist_ok=True)
    paths = [
        "/worker/offers/",
        f"/worker/offers/{Offer.objects.get(worker=worker).pk}/decline/",
        "/worker/shifts/",
        f"/worker/shifts/{booking.pk}/",
        f"/worker/shifts/{booking.pk}/cancel/",
        "/worker/availability/",
        "/worker/documents/",
        "/worker/profile/",
        "/worker/account/",
        "/worker/record/",
        "/worker/notifications/",
        "/worker/leave/",
    ]
    for path in paths:
        page.goto(live_server.url + path)
        name = path.strip("/").replace("/", "-")
        axe_check(page, name)
        page.screenshot(path=str(ARTIFACTS / f"{name}-360.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide on a 360 px phone"
    # Error states too.
    page.goto(live_server.url + "/worker/leave/")
    page.get_by_role("button", name="Close my account").click()
    axe_check(page, "leave-error")


def test_sign_in_and_password_reset_pages_pass_axe(live_server, phone):
    page = phone.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        page.goto(live_server.url + path)
        name = path.strip("/").replace("/", "-")
        axe_check(page, name)
        page.screenshot(path=str(ARTIFACTS / f"{name}-360.png"), full_page=True)
