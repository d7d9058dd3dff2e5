"""The one form a manager posts a shift on: times in London (nights and clock changes),
the agency rate, favourites first, and errors beside the fields."""

from __future__ import annotations

import importlib.util
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from pools.models import Role, RoleRate, Skill
from providers.forms import ShiftPostForm, london_datetime, shift_span
from providers.models import Favourite
from shifts.models import ShiftRequest
from tests import factories as f
from tests.providers.conftest import book, past_shift

pytestmark = pytest.mark.django_db

needs_posting = pytest.mark.skipif(
    importlib.util.find_spec("shifts.services.posting") is None,
    reason="shifts.services.posting (H1) has not landed yet",
)


def test_a_night_shift_ends_the_next_morning():
    start, end = shift_span(date(2026, 6, 10), time(20, 0), time(8, 0))
    assert start is not None and end is not None
    assert end - start == timedelta(hours=12)
    assert timezone.localtime(end).date() == date(2026, 6, 11)


def test_a_night_across_the_clocks_going_back_lasts_an_hour_longer():
    # 25 October 2026: at 02:00 BST the clocks go back to 01:00 GMT.
    start, end = shift_span(date(2026, 10, 24), time(20, 0), time(8, 0))
    assert start is not None and end is not None
    assert end - start == timedelta(hours=13)


def test_a_night_across_the_clocks_going_forward_lasts_an_hour_less():
    # 29 March 2026: at 01:00 GMT the clocks go forward to 02:00 BST.
    start, end = shift_span(date(2026, 3, 28), time(20, 0), time(8, 0))
    assert start is not None and end is not None
    assert end - start == timedelta(hours=11)


def test_a_time_that_does_not_exist_is_refused():
    assert london_datetime(date(2026, 3, 29), time(1, 30)) is None
    assert london_datetime(date(2026, 3, 29), time(2, 30)) is not None


def _data(site, **overrides):
    data = {
        "site": site.pk,
        "role": Role.objects.get(slug="care-worker").pk,
        "skills": [Skill.objects.get(slug="dementia").pk],
        "date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "start_time": "07:00",
        "end_time": "15:00",
        "headcount": "2",
        "agency_hourly_rate": "26.00",
        "rate_prefilled": "24.50",
        "notes": "Ring the bell at the side door.",
        "offer_first": "",
    }
    data.update(overrides)
    return data


def test_the_form_offers_only_her_own_sites(provider, site, outsider):
    other_site = f.SiteFactory(name="Elsewhere House")
    form = ShiftPostForm(_data(other_site), provider=provider)
    assert not form.is_valid()
    assert "site" in form.errors


def test_a_critical_shift_needs_a_reason(provider, site):
    form = ShiftPostForm(_data(site, is_critical="on"), provider=provider)
    assert not form.is_valid()
    assert "critical_reason" in form.errors


def test_the_rate_is_prefilled_from_the_pools_benchmark(client, manager, site):
    client.force_login(manager)
    response = client.get(reverse("providers:shift_new"))
    form = response.context["form"]
    benchmark = RoleRate.objects.get(pool=site.provider.pool, role_id=form.initial["role"])
    assert form.initial["agency_hourly_rate"] == benchmark.benchmark_agency_rate
    assert response.context["rates"][str(Role.objects.get(slug="nurse").pk)] == "55.00"
    assert b'id="benchmark-rates"' in response.content


@needs_posting
def test_posting_creates_the_request_and_queues_matching(
    client, manager, site, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("providers:shift_new"), _data(site))
    shift = ShiftRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("providers:shift_detail", kwargs={"pk": shift.pk})
    assert queued, "matching was not queued"
    assert shift.headcount == 2
    assert shift.agency_hourly_rate == Decimal("26.00")
    assert shift.hours == Decimal("8.00")
    assert list(shift.skills.values_list("slug", flat=True)) == ["dementia"]
    assert shift.created_by == manager


@needs_posting
def test_an_untouched_rate_follows_the_role_chosen_without_javascript(client, manager, site):
    nurse = Role.objects.get(slug="nurse")
    client.force_login(manager)
    client.post(
        reverse("providers:shift_new"),
        _data(site, role=nurse.pk, agency_hourly_rate="24.50", rate_prefilled="24.50"),
    )
    assert ShiftRequest.objects.get().agency_hourly_rate == Decimal("55.00")


@needs_posting
def test_a_night_shift_is_posted_across_midnight(client, manager, site):
    client.force_login(manager)
    client.post(reverse("providers:shift_new"), _data(site, start_time="20:00", end_time="08:00"))
    shift = ShiftRequest.objects.get()
    assert shift.hours == Decimal("12.00")
    assert timezone.localtime(shift.end).date() == timezone.localtime(shift.start).date() + (
        timedelta(days=1)
    )


@needs_posting
def test_a_start_in_the_past_is_shown_beside_the_start_time(client, manager, site):
    client.force_login(manager)
    with time_machine.travel(timezone.now(), tick=False):
        response = client.post(
            reverse("providers:shift_new"),
            _data(site, date=(timezone.localdate() - timedelta(days=1)).isoformat()),
        )
    assert response.status_code == 200
    assert response.context["form"].errors["start_time"]
    assert b"govuk-error-summary" in response.content
    assert b'href="#id_start_time"' in response.content
    assert not ShiftRequest.objects.exists()


@needs_posting
def test_missing_fields_are_shown_beside_each_field(client, manager, site):
    client.force_login(manager)
    response = client.post(reverse("providers:shift_new"), _data(site, date="", headcount="0"))
    errors = response.context["form"].errors
    assert set(errors) >= {"date", "headcount"}
    assert not ShiftRequest.objects.exists()


@needs_posting
def test_a_favourite_can_be_offered_the_shift_first(client, manager, site, provider, worker):
    book(past_shift(site), worker)
    Favourite.objects.create(provider=provider, worker=worker)
    client.force_login(manager)
    page = client.get(reverse("providers:shift_new"))
    assert worker.display_name.encode() in page.content
    response = client.post(
        reverse("providers:shift_new"), _data(site, offer_first=str(worker.pk), skills=[])
    )
    assert response.status_code == 302, response.context["form"].errors
    posted = ShiftRequest.objects.exclude(bookings__worker=worker).get()
    assert posted.direct_worker == worker


def test_repeat_and_next_week_prefill_the_form_from_an_earlier_request(client, manager, site):
    earlier = past_shift(site, days_ago=3, skills=["hoist"], headcount=3)
    client.force_login(manager)

    again = client.get(reverse("providers:shift_new") + f"?from={earlier.pk}").context["form"]
    assert again.initial["headcount"] == 3
    assert again.initial["start_time"] == time(8, 0)
    assert again.initial["date"] == timezone.localdate()

    week = client.get(reverse("providers:shift_new") + f"?from={earlier.pk}&week=1")
    assert week.context["form"].initial["date"] == timezone.localtime(earlier.start).date() + (
        timedelta(days=7)
    )


def _date_parts(day: date) -> dict[str, str]:
    return {"date_day": str(day.day), "date_month": str(day.month), "date_year": str(day.year)}


def test_the_date_is_three_boxes_that_start_at_today(client, manager, site):
    client.force_login(manager)
    page = client.get(reverse("providers:shift_new")).content.decode()
    today = timezone.localdate()
    assert 'class="govuk-date-input"' in page
    for name, value in _date_parts(today).items():
        assert f'name="{name}" type="text" inputmode="numeric" value="{value}"' in page
    assert 'type="date"' not in page  # not the browser's own locale picker


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"date_day": "3", "date_month": "", "date_year": "2027"}, "must include a month"),
        ({"date_day": "31", "date_month": "2", "date_year": "2027"}, "must be a real date"),
        ({"date_day": "", "date_month": "", "date_year": ""}, "Enter the date the shift starts"),
    ],
)
def test_a_bad_date_is_a_field_error_and_posts_nothing(client, manager, site, parts, message):
    client.force_login(manager)
    data = {k: v for k, v in _data(site).items() if k != "date"} | parts
    response = client.post(reverse("providers:shift_new"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ShiftRequest.objects.exists()


@needs_posting
def test_a_date_in_three_boxes_posts_the_shift(client, manager, site):
    client.force_login(manager)
    day = timezone.localdate() + timedelta(days=2)
    data = {k: v for k, v in _data(site).items() if k != "date"} | _date_parts(day)
    assert client.post(reverse("providers:shift_new"), data).status_code == 302
    assert timezone.localtime(ShiftRequest.objects.get().start).date() == day
