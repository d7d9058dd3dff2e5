"""Real headless Chromium for the journeys that matter (Playwright, system Chromium).

Use in a test module:

    from tests.browser import axe_check, sign_in  # fixtures come from tests/conftest.py

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_a_worker_sees_offers(live_server, phone, worker):
        page = sign_in(phone, live_server, worker.user)
        page.goto(live_server.url + "/worker/offers/")
        axe_check(page)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls tests make
# beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run scripts/ensure_chromium.sh "
            "(make test does), or set CHROMIUM_PATH"
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A phone-sized browser context (360 px wide, touch)."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def sign_in(context, live_server, user):
    """Give ``context`` a signed-in session for ``user`` and return a new page."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return context.new_page()


def axe_check(page, name: str = "") -> None:
    """Run axe-core on the page; fail on any serious or critical violation."""
    # Evaluated through the DevTools protocol, not as a <script> tag: the pages'
    # Content-Security-Policy (rightly) blocks inline script.
    page.evaluate(AXE.read_text() + "\n;window.axe = axe;")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    if bad:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"axe-{name or 'page'}.png"
        page.screenshot(path=str(shot), full_page=True)
        summary = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in bad
        ]
        pytest.fail(
            f"axe found serious/critical violations on {page.url}:\n"
            + json.dumps(summary, indent=2)
        )


__all__ = ["browser", "phone", "desktop", "sign_in", "axe_check", "PHONE"]
