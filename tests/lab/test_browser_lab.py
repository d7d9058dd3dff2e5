"""A coordinator uses the Matching lab in real headless Chromium: signs in with a password
and an authenticator code, asks for a policy what-if, watches its progress bar while a real
Celery worker (on Redis, via the outbox) runs it, and reads the result on the same page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from lab.models import LabRun
from tests import factories as f
from tests.authenticator import code_now
from tests.browser import ARTIFACTS, axe_check
from tests.factories import PASSWORD
from tests.lab.conftest import at, past_shift
from tests.pools.conftest import DEMO_SECRET
from tests.shifts.test_celery_worker import celery_worker_process  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.browser,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lab-{name}.png"), full_page=True)


def test_a_coordinator_starts_a_what_if_and_watches_it_finish(
    request, live_server, desktop, coordinator, pool, site, day
):
    f.WorkerFactory(pool=pool)
    f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.02)
    for offset in range(3):
        past_shift(site, at(day + timedelta(days=offset), 8), 8)
    EmailAddress.objects.create(
        user=coordinator, email=coordinator.email, primary=True, verified=True
    )
    page = desktop.new_page()
    page.set_default_timeout(30_000)  # a shared machine: the lab's pages do real work

    # Sign in: password, then the code from the authenticator app.
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", coordinator.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/2fa/authenticate/")
    page.fill("input[name=code]", code_now(DEMO_SECRET))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)

    # Ask for a what-if: the pool's settings against a first wave of one.
    page.goto(live_server.url + reverse("lab:index"))
    axe_check(page, "lab-index")
    page.get_by_label("From").first.fill(day.isoformat())
    page.get_by_label("To (inclusive)").first.fill((day + timedelta(days=3)).isoformat())
    page.get_by_label("Alternative 1: first wave size").fill("1")
    page.get_by_role("button", name="Compare policies").click()

    # The run waits for a worker: its page shows the progress bar.
    page.wait_for_url("**/pool/lab/runs/*/")
    run = LabRun.objects.get()
    bar = page.get_by_role("progressbar")
    bar.wait_for()
    assert bar.get_attribute("value") == "0"
    assert "Queued" in page.locator("#lab-progress").inner_text()
    axe_check(page, "lab-run-queued")
    shot(page, "run-queued")

    # A real Celery worker starts and runs it; the page follows without being told to.
    worker = request.getfixturevalue("celery_worker_process")
    caption = page.get_by_text("Policies side by side")
    try:
        caption.wait_for(timeout=120_000)
    except Exception:
        run.refresh_from_db()
        pytest.fail(f"run {run.status}: {run.error}\n" + "".join(worker.log))
    run.refresh_from_db()
    assert run.status == LabRun.Status.DONE
    table = page.locator("table").first.inner_text()
    assert "Current settings" in table and "Alternative 1" in table
    assert "Share of the offline optimum (hours)" in table
    assert page.get_by_role("progressbar").count() == 0
    axe_check(page, "lab-run-done")
    shot(page, "run-done")
