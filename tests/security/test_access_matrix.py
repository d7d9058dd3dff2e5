"""Who gets every URL the project serves: each pattern from the resolver, requested by each
of the cast and by an anonymous visitor.

``AUDIENCE`` is the decision for each URL name, written here on purpose: a new URL without
an entry fails ``test_every_url_has_a_decision``, and its view must declare the same
audience with ``accounts.access.allow``. Every request runs in a transaction that is rolled
back, so a POST that is let through changes nothing for the next one.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.access import Who, access_roles
from lab.models import LabRun
from pools.models import DocumentType
from providers.models import Favourite, ShiftTemplate
from shifts.models import Timesheet
from tests import factories as f
from tests.pools.conftest import give_totp
from tests.security.urls import Route, routes
from tests.workers.conftest import make_booking, make_offer
from workers.models import Document

P, S, W, R, C = Who.PUBLIC, Who.SIGNED_IN, Who.WORKER, Who.PROVIDER, Who.COORDINATOR

AUDIENCE: dict[str, frozenset[Who]] = {
    name: frozenset(who)
    for names, who in [
        (["home", "healthz", "api-token", "pwa_manifest", "pwa_service_worker"], {P}),
        (["workers:left", "workers:calendar_feed"], {P}),  # the feed's secret token is the key
        (["notify_inbound_sms"], {P}),  # GOV.UK Notify's bearer token is the key
        (["metrics"], {P}),  # the scraper's bearer token is the key
        (["api-roles", "api-skills"], {S}),
        (["workers:apply", "workers:push_subscribe", "workers:push_unsubscribe"], {S}),
        (["api-sites", "api-shifts", "api-shift", "api-shift-cancel"], {R}),
        (["api-offers", "api-offer-accept", "api-offer-decline", "api-bookings"], {W}),
        (["api-booking-cancel"], {W, R}),
        (["stats-summary", "stats-workforce"], {C}),
        (["workers:document_file"], {W, C}),
        (
            [
                "providers:dashboard",
                "providers:shift_new",
                "providers:week_copy",
                "providers:template_save",
                "providers:template_post",
                "providers:template_delete",
                "providers:shift_detail",
                "providers:shift_live",
                "providers:shift_edit",
                "providers:shift_cancel",
                "providers:shift_outcome",
                "providers:booking_no_show",
                "providers:booking_attended",
                "providers:timesheet_approve",
                "providers:timesheet_correct",
                "providers:booking_rate",
                "providers:favourite_add",
                "providers:favourite_remove",
                "providers:worker_block",
                "providers:favourites",
                "providers:favourite_delete",
                "provider_reports:results",
                "providers:members",
                "providers:member_remove",
                "returns:home",
                "returns:edit",
                "returns:template",
                "returns:upload",
            ],
            {R},
        ),
        (
            [
                "workers:account",
                "workers:profile",
                "workers:opt_out_withdraw",
                "workers:documents",
                "workers:availability",
                "workers:offers",
                "workers:offer",
                "workers:offer_accept",
                "workers:offer_decline",
                "workers:shifts",
                "workers:shift",
                "workers:shift_confirm",
                "workers:shift_clock_in",
                "workers:shift_clock_out",
                "workers:shift_cancel",
                "workers:calendar_manage",
                "workers:record",
                "workers:notifications",
                "workers:leave",
                "workers:messages",
            ],
            {W},
        ),
        (
            [
                "pools:board",
                "pools:shift",
                "pools:shift_offer",
                "pools:shift_widen",
                "pools:shift_critical",
                "pools:workers",
                "pools:worker",
                "pools:worker_approve",
                "pools:worker_suspend",
                "pools:worker_left",
                "pools:worker_opt_out",
                "pools:worker_stage",
                "pools:document_review",
                "pools:compliance",
                "pools:providers",
                "pools:provider_new",
                "pools:provider",
                "pools:settings",
                "pools:audit",
                "reports:dashboard",
                "reports:dashboard_breakdown",
                "reports:dashboard_demand",
                "reports:dashboard_conduct",
                "reports:dashboard_health",
                "reports:region",
                "delivery_failures",
                "lab:index",
                "lab:run",
                "lab:run_csv",
                "workforce:returns",
                "workforce:chase",
                "workforce:living_wage",
                "workforce:benchmarks",
                "workforce:reports",
                "workforce:report",
                "workforce:report_print",
                "workforce:report_pdf",
            ],
            {C},
        ),
    ]
    for name in names
}

# Third-party URLs with their own rules: allauth's sign-in pages (each decides for itself),
# the API schema and its docs (public), and the admin (staff with a second factor, tested
# in test_admin_needs_staff_and_a_second_factor).
THIRD_PARTY_PREFIXES = ("accounts/", "admin/", "api/schema/", "api/docs/")

# Who each of the cast is.
PERSONAS: dict[str, frozenset[Who]] = {
    "anonymous": frozenset({P}),
    "manager": frozenset({P, S, R}),
    "outsider": frozenset({P, S, R}),  # another provider's manager
    "worker": frozenset({P, S, W}),
    "coordinator": frozenset({P, S, C}),
    "coordinator_without_mfa": frozenset({P, S, C}),
}

# URLs about one object of Mary's provider: the outsider, a provider too, gets 404.
OWNED_BY_MANAGER = {
    name
    for name in AUDIENCE
    if name.startswith("providers:") and name not in {"providers:dashboard"}
} - {
    "providers:shift_new",
    "providers:week_copy",
    "providers:favourites",
    "provider_reports:results",
    "providers:members",
}
OWNED_BY_MANAGER |= {"api-shift", "api-shift-cancel", "api-booking-cancel"}

# Finer rules a view applies once the audience is let in: applying is for people with no
# area yet; the region page is for regional coordinators.
NOT_FOUND_FOR = {
    "workers:apply": {"manager", "outsider", "coordinator", "coordinator_without_mfa"},
    "reports:region": {"coordinator"},
    "metrics": set(PERSONAS),  # without the scraper's bearer token it does not exist
}


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Throttle counts live in the cache: keep this test's (it posts to the token endpoint
    as each of the cast) out of the shared Redis the other tests see."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "m"}
    }
    cache.clear()


def _project_routes() -> list[Route]:
    return [r for r in routes() if not r.path.startswith(THIRD_PARTY_PREFIXES)]


def test_every_url_has_a_decision_and_its_view_declares_it():
    undecided = []
    mismatched = []
    for route in _project_routes():
        expected = AUDIENCE.get(route.name)
        declared = access_roles(route.callback)
        if expected is None:
            undecided.append(route.path)
        elif declared != expected:
            mismatched.append((route.path, declared, expected))
    assert undecided == [], "add each to AUDIENCE and decorate its view with allow()"
    assert mismatched == []
    assert {r.name for r in _project_routes()} == set(AUDIENCE)


@pytest.fixture
def world(pool, site, manager, outsider, worker, coordinator, settings):
    settings.NOTIFY_INBOUND_SMS_TOKEN = "matrix-inbound-token"  # the door exists (its key: 401)
    give_totp(coordinator)
    nina = f.UserFactory(email="nina@council.test")
    f.CoordinatorFactory(user=nina, pool=pool)
    now = timezone.now()
    offered = f.ShiftFactory(site=site, start=now + timedelta(days=2))
    offer = make_offer(offered, worker)
    booked = f.ShiftFactory(site=site, start=now + timedelta(days=3))
    booking = make_booking(booked, worker, offer=make_offer(booked, worker, status="accepted"))
    Timesheet.objects.create(
        booking=booking,
        clock_in=booked.start,
        clock_out=booked.start + timedelta(hours=8),
        status=Timesheet.Status.SUBMITTED,
    )
    document = Document.objects.create(
        worker=worker,
        doc_type=DocumentType.objects.get(slug="dbs-enhanced"),
        status=Document.Status.PENDING,
        issued_on=now.date() - timedelta(days=10),
        file=ContentFile(b"%PDF-1.4 test", name="dbs.pdf"),
    )
    Favourite.objects.create(provider=site.provider, worker=worker)
    worker.calendar_token = "feed-secret-for-the-matrix"
    worker.save(update_fields=["calendar_token"])
    template = ShiftTemplate.objects.create(
        provider=site.provider, name="Early", site=site, role=offered.role,
        start_time=time(7), end_time=time(15),
    )  # fmt: skip
    lab_run = LabRun.objects.create(
        pool=pool, kind="recruit", inputs={}, status="done", outputs={"moves": []}
    )
    values = {
        "lab:run": {"pk": lab_run.pk},
        "lab:run_csv": {"pk": lab_run.pk},
        "providers:shift_detail": {"pk": offered.pk},
        "providers:shift_live": {"pk": offered.pk},
        "providers:shift_edit": {"pk": offered.pk},
        "providers:shift_cancel": {"pk": offered.pk},
        "providers:shift_outcome": {"pk": booked.pk},
        "providers:favourite_delete": {"worker_pk": worker.pk},
        "providers:template_save": {"pk": offered.pk},
        "providers:template_post": {"pk": template.pk},
        "providers:template_delete": {"pk": template.pk},
        "providers:member_remove": {"pk": manager.provider_membership.pk},
        "workers:document_file": {"pk": document.pk},
        "workers:offer": {"pk": offer.pk},
        "workers:offer_accept": {"pk": offer.pk},
        "workers:offer_decline": {"pk": offer.pk},
        "workers:calendar_feed": {"token": worker.calendar_token},
        "pools:shift": {"pk": offered.pk},
        "pools:shift_offer": {"pk": offered.pk},
        "pools:shift_widen": {"pk": offered.pk},
        "pools:shift_critical": {"pk": offered.pk},
        "pools:document_review": {"pk": worker.pk, "doc_pk": document.pk},
        "pools:provider": {"pk": site.provider_id},
        "api-shift": {"shift_id": offered.pk},
        "api-shift-cancel": {"shift_id": offered.pk},
        "api-offer-accept": {"offer_id": offer.pk},
        "api-offer-decline": {"offer_id": offer.pk},
        "api-booking-cancel": {"booking_id": booking.pk},
    }
    for name in (
        "booking_no_show",
        "booking_attended",
        "timesheet_approve",
        "timesheet_correct",
        "booking_rate",
        "favourite_add",
        "favourite_remove",
        "worker_block",
    ):
        values[f"providers:{name}"] = {"pk": booking.pk}
    for name in ("shift", "shift_confirm", "shift_clock_in", "shift_clock_out", "shift_cancel"):
        values[f"workers:{name}"] = {"pk": booking.pk}
    for name in ("worker", "worker_approve", "worker_suspend", "worker_left", "worker_stage",
                 "worker_opt_out"):  # fmt: skip
        values[f"pools:{name}"] = {"pk": worker.pk}
    for name in ("returns:edit", "returns:template", "returns:upload", "workforce:report",
                 "workforce:report_print", "workforce:report_pdf"):  # fmt: skip
        values[name] = {"quarter": "2025-Q4"}
    values["workforce:chase"] = {"provider_id": site.provider_id}
    users = {
        "manager": manager,
        "outsider": outsider,
        "worker": worker.user,
        "coordinator": coordinator,
        "coordinator_without_mfa": nina,
    }
    return values, users


def _expected(persona: str, route: Route) -> str:
    """What the persona should get: allowed, sign_in, not_found or second_factor."""
    held = PERSONAS[persona]
    granted = held & AUDIENCE[route.name]
    if not granted:
        return "sign_in" if persona == "anonymous" else "not_found"
    if granted == {C} and persona == "coordinator_without_mfa":
        return "second_factor"
    if persona == "outsider" and route.name in OWNED_BY_MANAGER:
        return "not_found"
    if persona in NOT_FOUND_FOR.get(route.name, ()):
        return "not_found"
    return "allowed"


def _outcome(route: Route, response) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if route.path.startswith("api/"):
        if status == 401:
            assert response.get("WWW-Authenticate"), "a 401 names its scheme"
            return "sign_in"
        return {403: "second_factor", 404: "not_found"}.get(status, "allowed")
    if status in (301, 302) and location.startswith("/accounts/login/"):
        return "sign_in"
    if status in (301, 302) and location.startswith("/accounts/2fa/totp/activate/"):
        return "second_factor"
    return "not_found" if status == 404 else "allowed"


def _ask(persona: str, user, url: str, route: Route):
    client = APIClient() if route.path.startswith("api/") else Client()
    if user is not None:
        client.force_login(user)
    with transaction.atomic():
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, {})
        transaction.set_rollback(True)
    assert response.status_code < 500, f"{persona} {url}: {response.status_code}"
    return response


# Data islands (type="application/json") are not run, so the policy allows them.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.I)
STYLE_ELEMENT = re.compile(r"<style(?P<attrs>[^>]*)>", re.I)


def _inline_code(response) -> list[str]:
    """Inline script or style the Content-Security-Policy would block on this page."""
    if "text/html" not in response.get("Content-Type", "") or response.streaming:
        return []
    html = response.content.decode()
    found = [m.group(0) for m in INLINE_SCRIPT.finditer(html)]
    found += [m.group(0)[:60] for m in STYLE_ATTRIBUTE.finditer(html)]
    policy = response.get("Content-Security-Policy", "")
    for m in STYLE_ELEMENT.finditer(html):
        nonce = re.search(r'nonce="([^"]+)"', m.group("attrs"))
        if not nonce or f"'nonce-{nonce.group(1)}'" not in policy:
            found.append(m.group(0))
    return found


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_person_gets_exactly_the_urls_meant_for_them(persona, world):
    values, users = world
    wrong = []
    inline = []
    for route in _project_routes():
        url = route.url(**values.get(route.name, {}))
        response = _ask(persona, users.get(persona), url, route)
        got, expected = _outcome(route, response), _expected(persona, route)
        if got != expected:
            wrong.append(f"{url}: expected {expected}, got {got} ({response.status_code})")
        inline += [f"{url}: {code}" for code in _inline_code(response)]
    assert wrong == []
    assert inline == [], "move inline script and style to static files (CSP)"


@pytest.fixture
def staff(db):
    return f.UserFactory(email="sam@council.test", is_staff=True, is_superuser=True)


def test_admin_needs_staff_and_a_second_factor(client, staff, manager, coordinator):
    give_totp(coordinator)
    pages = ["/admin/", "/admin/pools/auditentry/", "/admin/auth/group/"]
    for url in pages:
        response = Client().get(url, follow=True)
        assert response.redirect_chain[-1][0].startswith("/accounts/login/")
        for user in (manager, coordinator):
            client.force_login(user)
            assert client.get(url, follow=True).status_code == 404
        client.force_login(staff)
        response = client.get(url, follow=True)
        assert response.redirect_chain[0][0].startswith("/admin/login/")
        assert response.redirect_chain[1][0] == "/accounts/2fa/totp/activate/"
    give_totp(staff)
    staff._has_second_factor = None
    client.force_login(staff)
    for url in pages:
        assert client.get(url).status_code == 200
    # The admin's own password form is never shown: signing in is allauth's, with the code.
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
