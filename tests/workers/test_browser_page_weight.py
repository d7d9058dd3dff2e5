"""Every worker page is light on a phone's first load (under 100 KB, everything counted:
HTML, CSS, scripts, fonts, images; static files as production sends them, gzipped), and
provider pages have no axe `region` findings."""

from __future__ import annotations

import gzip

import pytest

from tests import factories as f
from tests.browser import AXE, sign_in
from tests.workers.conftest import make_booking, make_offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIMIT = 100 * 1024


def _sent(request) -> int:
    """Bytes a phone downloads for one response. Static files are counted gzipped, as
    WhiteNoise serves them in production (CompressedManifestStaticFilesStorage; the test
    server sends them uncompressed); pages are counted as they are, uncompressed."""
    response = request.response()
    body = response.body() if response is not None else b""
    if "/static/" in request.url:
        return len(gzip.compress(body, 9))
    return len(body)


def test_every_worker_page_is_under_100_kb_on_first_load(browser, live_server, worker, site):
    offer = make_offer(f.ShiftFactory(site=site), worker)
    booking = make_booking(
        f.ShiftFactory(site=site, start=offer.shift.start.replace(day=1)), worker
    )
    pages = [
        "/worker/offers/",
        f"/worker/offers/{offer.pk}/",
        "/worker/shifts/",
        f"/worker/shifts/{booking.pk}/",
        "/worker/messages/",
        "/worker/documents/",
        "/worker/availability/",
        "/worker/account/",
        "/worker/profile/",
        "/worker/notifications/",
        "/worker/record/",
    ]
    weights = {}
    for path in pages:
        # A fresh context each time: nothing cached, as on a first visit.
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
        page = sign_in(context, live_server, worker.user)
        sizes: list[int] = []
        page.on("requestfinished", lambda r, into=sizes: into.append(_sent(r)))
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        page.wait_for_load_state("networkidle")
        weights[path] = sum(sizes)
        context.close()
    print("first-load bytes:", weights)  # shown with -s, for docs
    heavy = {p: w for p, w in weights.items() if w >= LIMIT}
    assert heavy == {}, f"over 100 KB: {heavy} (all: {weights})"


def test_provider_pages_have_no_region_findings(desktop, live_server, manager, site):
    shift = f.ShiftFactory(site=site)
    page = sign_in(desktop, live_server, manager)
    booking = make_booking(f.ShiftFactory(site=site), f.WorkerFactory(pool=site.provider.pool))
    for path in ("/provider/", "/provider/shifts/new/", f"/provider/shifts/{shift.pk}/",
                 f"/provider/shifts/{shift.pk}/edit/", f"/provider/shifts/{shift.pk}/cancel/",
                 f"/provider/bookings/{booking.pk}/rate/", f"/provider/bookings/{booking.pk}/block/",
                 "/provider/shifts/copy-week/", "/provider/favourites/", "/provider/members/"):  # fmt: skip
        response = page.goto(live_server.url + path)
        assert response is not None and response.status < 400, path
        page.evaluate(AXE.read_text() + "\n;window.axe = axe;")  # CSP blocks a <script>
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        found = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
        ]
        assert not [x for x in found if x[0] == "region" or x[1] in ("serious", "critical")], (
            path,
            found,
        )
