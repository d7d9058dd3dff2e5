"""Control characters (C0 and DEL; tab and line breaks too in one-line text) get a field
error at every door: web forms and the API alike, never a 500 and nothing written."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from flexpool.input import ONE_LINE_MESSAGE, TextRules
from pools.models import Role
from providers.models import ShiftTemplate
from shifts.models import Booking, Offer, ShiftRequest
from tests import factories as f
from tests.workers.conftest import make_offer

pytestmark = pytest.mark.django_db

PROJECT_APPS = {
    config.name
    for config in apps.get_app_configs()
    if str(config.path).startswith(str(settings.BASE_DIR)) and ".venv" not in str(config.path)
}


def _form_classes() -> list[type]:
    for app in PROJECT_APPS:
        for module in ("forms", "views", "workforce_views"):
            try:
                importlib.import_module(f"{app}.{module}")
            except ModuleNotFoundError:
                continue
    found, stack = [], list(forms.BaseForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PROJECT_APPS and cls.__module__ != "flexpool.input":
            found.append(cls)
    return found


def test_every_form_in_the_project_applies_the_text_rules():
    classes = _form_classes()
    assert len(classes) >= 30
    missing = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, TextRules)]
    assert missing == []


def _shift_form(site, **extra):
    day = timezone.localdate() + timedelta(days=2)
    data = {
        "site": site.pk,
        "role": Role.objects.get(slug="care-worker").pk,
        "date_day": str(day.day),
        "date_month": str(day.month),
        "date_year": str(day.year),
        "start_time": "07:00",
        "end_time": "15:00",
        "headcount": "1",
        "agency_hourly_rate": "",
        "notes": "",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    "field, value",
    [
        ("notes", "Ring the bell\x07"),
        ("notes", "Side\x00door"),
        ("notes", "Escape \x1b[31m"),
        ("notes", "Delete\x7f"),
        ("role", "1\x00"),
        ("date_day", "1\x0b"),
    ],
)
def test_a_web_shift_form_with_control_characters_gets_a_field_error_and_posts_nothing(
    client, manager, site, field, value
):
    client.force_login(manager)
    response = client.post(reverse("providers:shift_new"), _shift_form(site, **{field: value}))
    assert response.status_code in (200, 400)
    assert "control characters" in response.content.decode()
    assert not ShiftRequest.objects.exists()


def test_multi_line_notes_keep_their_line_breaks_and_tabs(client, manager, site):
    client.force_login(manager)
    notes = "Ring the bell.\r\n\tThen wait."
    response = client.post(reverse("providers:shift_new"), _shift_form(site, notes=notes))
    assert response.status_code == 302
    assert ShiftRequest.objects.get().notes == notes


def test_a_one_line_name_refuses_a_tab_inside_but_not_a_trailing_line_break(client, worker):
    from tests.workers.test_apply_and_profile import application

    client.force_login(worker.user)
    before = worker.display_name
    refused = client.post(reverse("workers:profile"), application(display_name="Wen\tdy"))
    assert refused.status_code in (200, 400)
    assert ONE_LINE_MESSAGE in refused.content.decode()
    worker.refresh_from_db()
    assert worker.display_name == before
    accepted = client.post(reverse("workers:profile"), application(display_name="Wendy W\r\n"))
    assert accepted.status_code == 302
    worker.refresh_from_db()
    assert worker.display_name == "Wendy W"


def test_a_template_name_with_a_nul_is_refused_and_nothing_saved(client, manager, site, outsider):
    shift = f.ShiftFactory(site=site)
    client.force_login(manager)
    response = client.post(
        reverse("providers:template_save", args=[shift.pk]), {"name": "Early\x00"}, follow=True
    )
    assert response.status_code == 200
    assert "control characters" in response.content.decode()
    assert not ShiftTemplate.objects.exists()
    client.force_login(outsider)
    other = client.post(reverse("providers:template_save", args=[shift.pk]), {"name": "x\x00"})
    assert other.status_code == 404


def _api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def test_an_api_reason_on_one_line_refuses_an_escape_and_cancels_nothing(manager, site):
    shift = f.ShiftFactory(site=site)
    response = _api(manager).post(
        f"/api/v1/shifts/{shift.pk}/cancel/", {"reason": "Closed\x1b"}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    shift.refresh_from_db()
    assert shift.status == ShiftRequest.Status.OPEN


def test_an_api_decline_reason_refuses_a_line_break_and_the_offer_stays_pending(worker, site):
    offer = make_offer(f.ShiftFactory(site=site), worker)
    response = _api(worker.user).post(
        f"/api/v1/offers/{offer.pk}/decline/", {"reason": "Busy\nsorry"}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_api_shift_notes_are_multi_line_but_refuse_del(manager, site):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    body = {
        "site": site.pk,
        "role": "care-worker",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=8)).isoformat(),
        "headcount": 1,
    }
    refused = _api(manager).post("/api/v1/shifts/", {**body, "notes": "a\x7f"}, format="json")
    assert refused.status_code == 400 and "notes" in refused.json()
    assert not ShiftRequest.objects.exists()
    posted = _api(manager).post("/api/v1/shifts/", {**body, "notes": "a\nb\tc"}, format="json")
    assert posted.status_code == 201 and posted.json()["notes"] == "a\nb\tc"
    assert not Booking.objects.exists()


def test_a_token_code_with_control_characters_is_a_400(worker):
    response = APIClient(raise_request_exception=False).post(
        "/api/v1/auth/token/",
        {"email": worker.user.email, "password": "x", "code": "12\x0034"},
        format="json",
    )
    assert response.status_code == 400 and "code" in response.json()
