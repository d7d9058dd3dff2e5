"""The provider's journey in real Chromium: sign in, post a shift, watch a worker (in a
second browser) accept it without reloading, then approve the timesheet and rate her.
axe-core runs on every provider page on the way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from shifts.models import Booking, ShiftRequest, Timesheet
from shifts.tasks import shift_match
from tests.browser import ARTIFACTS, axe_check, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"provider-{name}.png"), full_page=True)


def test_a_manager_posts_a_shift_watches_it_fill_and_closes_the_loop(
    live_server, desktop, phone, manager, site, worker
):
    EmailAddress.objects.create(user=manager, email=manager.email, primary=True, verified=True)
    page = desktop.new_page()

    # Sign in with e-mail and password.
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/provider/")
    axe_check(page, "provider-dashboard-empty")

    # Post a shift on one form; a mistake first, shown beside the field.
    page.get_by_role("link", name="Post a shift").first.click()
    axe_check(page, "provider-shift-form")
    tomorrow = timezone.localdate() + timedelta(days=1)
    page.fill("#id_date", str(tomorrow.day))
    page.fill("#id_date_month", str(tomorrow.month))
    page.fill("#id_date_year", str(tomorrow.year))
    page.fill("#id_start_time", "07:00")
    page.fill("#id_end_time", "15:00")
    page.fill("#id_headcount", "0")
    page.select_option("#id_role", label="Registered nurse")
    assert page.input_value("#id_agency_hourly_rate") == "55.00"  # the benchmark follows the role
    page.select_option("#id_role", label="Care worker")
    assert page.input_value("#id_agency_hourly_rate") == "24.50"
    page.get_by_role("button", name="Post shift and find workers").click()
    page.wait_for_selector(".govuk-error-summary")
    axe_check(page, "provider-shift-form-errors")
    shot(page, "shift-form-errors")
    page.fill("#id_headcount", "1")
    page.get_by_label("Dementia care").check()
    page.get_by_role("button", name="Post shift and find workers").click()
    page.wait_for_selector("#shift-live")
    shift = ShiftRequest.objects.get()
    assert page.url.endswith(f"/provider/shifts/{shift.pk}/")
    axe_check(page, "provider-status-empty")

    # Matching runs in Celery; here we run the task in-process, as a worker would.
    worker.skills.add(*shift.skills.all())
    shift_match(shift.pk)
    page.evaluate("window.__notReloaded = true")

    # Wendy accepts on her phone, on her offers page.
    worker_page = sign_in(phone, live_server, worker.user)
    worker_page.goto(live_server.url + "/worker/offers/")
    worker_page.get_by_role("button", name="Accept").first.click()
    assert Booking.objects.filter(shift=shift, worker=worker).exists()

    # Mary's status page shows the booking by itself, without a reload.
    live = page.locator("#shift-live")
    live.get_by_text("Wendy Walker").wait_for(timeout=15_000)
    assert page.evaluate("window.__notReloaded === true")
    assert "1 of 1 place booked" in live.inner_text()
    assert page.locator("#live-announcer").inner_text().startswith("1 of 1 place booked")
    axe_check(page, "provider-status-booked")
    shot(page, "status-booked")

    # The shift happens (we move it into the past) and Wendy's timesheet comes in.
    booking = Booking.objects.get(shift=shift)
    back = timedelta(days=2)
    ShiftRequest.objects.filter(pk=shift.pk).update(start=shift.start - back, end=shift.end - back)
    Booking.objects.filter(pk=booking.pk).update(start=booking.start - back, end=booking.end - back)
    booking.refresh_from_db()
    Timesheet.objects.create(
        booking=booking,
        clock_in=booking.start,
        clock_out=booking.end,
        status=Timesheet.Status.SUBMITTED,
    )
    page.reload()
    axe_check(page, "provider-status-after")
    page.get_by_role("button", name="Approve 8.00 hours").click()
    page.get_by_text("Timesheet approved: 8.00 hours.").wait_for()
    assert Timesheet.objects.get().status == Timesheet.Status.APPROVED

    page.get_by_role("link", name="Rate Wendy Walker").click()
    axe_check(page, "provider-rate")
    page.check("#id_punctuality")  # 5
    page.check("#id_care_1")  # 4
    page.check("#id_skills_as_listed")  # 5
    page.fill("#id_comment", "Calm with residents.")
    page.get_by_role("button", name="Save rating").click()
    page.get_by_text("Thank you for rating Wendy Walker.").wait_for()
    assert booking.rating.care == 4
    shot(page, "status-rated")

    # The other provider pages pass axe too.
    for path, name in [
        (f"/provider/bookings/{booking.pk}/block/", "block"),
        (f"/provider/bookings/{booking.pk}/timesheet/correct/", "correct"),
        (f"/provider/shifts/{shift.pk}/edit/", "edit"),
        (f"/provider/shifts/{shift.pk}/cancel/", "cancel"),
        (f"/provider/shifts/new/?from={shift.pk}&week=1", "repeat"),
        ("/provider/", "dashboard"),
        ("/provider/results/", "results"),
        ("/provider/members/", "members"),
        ("/provider/favourites/", "favourites"),
    ]:
        page.goto(live_server.url + path)
        axe_check(page, f"provider-{name}")
        shot(page, name)
