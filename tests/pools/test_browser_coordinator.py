"""Coordinators in real headless Chromium: vetting a worker, and axe-core on every
coordinator page (the dashboard's own journey is in tests/reports)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pools.models import DocumentType
from tests import factories as f
from tests.browser import ARTIFACTS, axe_check, sign_in
from tests.reports.history import FROM, TO, build_history
from workers.models import Document, Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def applicant(pool):
    user = f.UserFactory(email="amy@applicant.test", first_name="Amy", last_name="Applicant")
    worker = f.WorkerFactory(
        user=user,
        pool=pool,
        status=Worker.Status.DOCUMENTS_SUBMITTED,
        approved_at=None,
        documents=False,
    )
    Document.objects.create(
        worker=worker,
        doc_type=DocumentType.objects.get(slug="dbs-enhanced"),
        reference="001234567890",
        issued_on=timezone.localdate() - timedelta(days=10),
        expires_on=timezone.localdate() + timedelta(days=1000),
    )
    # Every other document the pool requires is already approved: the DBS is what is left.
    for doc_type in DocumentType.objects.needed_for(
        role_ids=worker.roles.values_list("pk", flat=True), skill_ids=[]
    ).exclude(slug="dbs-enhanced"):
        Document.objects.create(
            worker=worker,
            doc_type=doc_type,
            status=Document.Status.APPROVED,
            issued_on=timezone.localdate() - timedelta(days=10),
            expires_on=timezone.localdate() + timedelta(days=300),
        )
    return worker


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"coordinator-{name}.png"), full_page=True)


def test_a_coordinator_vets_a_worker(live_server, desktop, coordinator, applicant):
    page = sign_in(desktop, live_server, coordinator)
    page.goto(live_server.url + "/pool/workers/")
    page.get_by_role("link", name="Amy Applicant").click()
    assert page.get_by_role("button", name="Approve worker").count() == 0  # the DBS is pending
    page.get_by_role("button", name="Approve Enhanced DBS check with adults' barred list").click()
    assert "approved" in page.locator(".govuk-notification-banner").inner_text()
    page.get_by_role("button", name="Approve worker").click()
    assert "Amy Applicant is approved" in page.locator(".govuk-notification-banner").inner_text()
    _shot(page, "worker")
    axe_check(page, "coordinator-worker")
    applicant.refresh_from_db()
    assert applicant.status == Worker.Status.APPROVED


def test_every_coordinator_page_passes_axe(
    live_server, desktop, coordinator, applicant, site, pool, worker
):
    build_history(site, pool)
    shift = f.ShiftFactory(site=site, escalated_at=timezone.now())
    page = sign_in(desktop, live_server, coordinator)
    query = f"?start={FROM.isoformat()}&end={TO.isoformat()}"
    pages = {
        "board": "/pool/",
        "shift": f"/pool/shifts/{shift.pk}/",
        "workers": "/pool/workers/",
        "applicant": f"/pool/workers/{applicant.pk}/",
        "compliance": "/pool/compliance/?within=90",
        "providers": "/pool/providers/",
        "provider-new": "/pool/providers/new/",
        "provider": f"/pool/providers/{site.provider_id}/",
        "settings": "/pool/settings/",
        "audit": "/pool/audit/",
        "breakdown": "/pool/dashboard/breakdown/" + query,
        "demand": "/pool/dashboard/demand/" + query,
        "conduct": "/pool/dashboard/conduct/" + query,
        "health": "/pool/dashboard/health/" + query,
    }
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        if name in ("board", "shift", "demand", "provider-new"):
            _shot(page, name)
        axe_check(page, f"coordinator-{name}")


def test_form_errors_pass_axe(live_server, desktop, coordinator):
    page = sign_in(desktop, live_server, coordinator)
    page.goto(live_server.url + "/pool/providers/new/")
    page.get_by_role("button", name="Onboard provider and send invitation").click()
    assert page.locator(".govuk-error-summary").is_visible()
    _shot(page, "provider-new-errors")
    axe_check(page, "coordinator-provider-new-errors")


def test_a_coordinator_on_a_phone_without_javascript_marks_a_worker_left(
    live_server, browser, coordinator, worker
):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, java_script_enabled=False
    )
    try:
        page = sign_in(context, live_server, coordinator)
        page.goto(live_server.url + f"/pool/workers/{worker.pk}/")
        page.get_by_role("button", name="Mark as left").click()  # no reason given
        assert "Give a reason." in page.locator(".govuk-error-summary").inner_text()
        page.get_by_label("Why the worker has left the pool").fill("Moved to Leeds")
        page.get_by_role("button", name="Mark as left").click()
        assert "has left the pool" in page.locator(".govuk-notification-banner").inner_text()
        assert "will be deleted on" in page.locator("#retention").inner_text()
        _shot(page, "worker-left-phone")
    finally:
        context.close()
    worker.refresh_from_db()
    assert worker.status == Worker.Status.LEFT


def test_a_coordinator_on_a_phone_reads_what_matching_did_without_scrolling_sideways(
    live_server, browser, coordinator, site
):
    from shifts.models import MatchRun

    shift = f.ShiftFactory(site=site)
    MatchRun.objects.create(
        shift=shift,
        wave=1,
        ran_at=timezone.now(),
        eligible_count=12,
        offered_count=10,
        excluded={"documents_valid_through_the_shift": [1, 2], "working_time_average": [3]},
        not_reached=37,
        searched_km=2.0,
    )
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        page = sign_in(context, live_server, coordinator)
        page.goto(live_server.url + f"/pool/shifts/{shift.pk}/")
        width = page.evaluate("document.documentElement.scrollWidth")
        _shot(page, "shift-runs-phone")
        assert width <= 360, f"the page is {width} px wide on a 360 px phone"
        assert "not reached yet: 37 within 2.0 km" in page.content()
    finally:
        context.close()
