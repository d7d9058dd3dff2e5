"""The return form, the returns list and the committee report in real headless Chromium,
with axe-core on each (the report's tables sit beside its chart)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pools.models import Role
from providers.models import Provider
from reports.demo import workforce_demo_build
from reports.quarters import quarter_to_return
from tests.browser import ARTIFACTS, axe_check, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"workforce-{name}.png"), full_page=True)


def test_the_committee_report_and_the_return_form_pass_axe(
    live_server, desktop, coordinator, manager, pool, site, outsider
):
    from django.utils import timezone

    Provider.objects.all().update(created_at=datetime(2024, 1, 1, tzinfo=LONDON))
    workforce_demo_build(pool=pool, seed=3, today=timezone.localdate())
    quarter = quarter_to_return(timezone.localdate())
    page = sign_in(desktop, live_server, coordinator)
    page.goto(f"{live_server.url}/pool/reports/{quarter}/")
    assert page.locator("h1").inner_text().startswith("The care workforce and the flex pool")
    assert page.locator("table#table-headline caption").inner_text().startswith("Headline")
    assert page.locator("svg.flexpool-chart").count() >= 1
    _shot(page, "committee")
    axe_check(page, "committee-report")
    page.goto(f"{live_server.url}/pool/reports/{quarter}/print/")
    axe_check(page, "committee-print")
    page.goto(f"{live_server.url}/pool/returns/?quarter={quarter}")
    axe_check(page, "returns-list")
    page = sign_in(desktop, live_server, manager)
    page.goto(f"{live_server.url}/provider/returns/{quarter.shift(-7)}/")  # before the demo's
    care = Role.objects.get(slug="care-worker").pk
    page.fill(f"#line-{care}-filled", "999")
    page.get_by_role("button", name="Submit the return").click()
    assert page.locator(".govuk-error-summary").is_visible()
    _shot(page, "return-errors")
    axe_check(page, "return-form-errors")
