"""A coordinator reads the dashboard in real headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, axe_check, sign_in
from tests.reports.history import FROM, TO, build_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"coordinator-{name}.png"), full_page=True)


def test_a_coordinator_reads_the_dashboard(live_server, desktop, coordinator, site, pool):
    build_history(site, pool)
    page = sign_in(desktop, live_server, coordinator)
    page.goto(live_server.url + "/pool/dashboard/")
    page.get_by_role("textbox", name="From").fill(FROM.isoformat())
    page.get_by_label("To", exact=True).fill(TO.isoformat())
    page.get_by_role("button", name="Update figures").click()
    cards = page.locator(".flexpool-cards").inner_text()
    assert "60.0%" in cards and "£1,308.00" in cards
    assert page.locator("table#table-weekly caption").inner_text().startswith("Week by week")
    _shot(page, "dashboard")
    axe_check(page, "coordinator-dashboard")
