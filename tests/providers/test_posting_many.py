"""Posting without repeating yourself: the same shift on several dates, and last week's
requests copied (the ones ticked). Every request goes through shift_post; all or none."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pools.models import Role
from shifts.models import ShiftRequest
from tests import factories as f

pytestmark = pytest.mark.django_db


def _form(site, day, **extra):
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


def test_one_form_posts_the_same_shift_on_several_dates(client, manager, site):
    client.force_login(manager)
    today = timezone.localdate()
    first = today + timedelta(days=1)
    extra = [today + timedelta(days=3), today + timedelta(days=4)]
    response = client.post(
        reverse("providers:shift_new"),
        _form(site, first, also_on=[d.isoformat() for d in extra]),
    )
    assert response.status_code == 302
    days = sorted(timezone.localtime(s.start).date() for s in ShiftRequest.objects.all())
    assert days == [first, *extra]
    assert {timezone.localtime(s.start).time() for s in ShiftRequest.objects.all()} == {time(7)}


def _last_week(site, weekday: int, hour: int) -> ShiftRequest:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday() + 7)
    start = timezone.make_aware(datetime.combine(monday + timedelta(days=weekday), time(hour)))
    return f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=8))


def test_copy_last_week_posts_only_the_ticked_requests_a_week_later(client, manager, site):
    keep = _last_week(site, 6, 20)  # Sunday night: a week on is still ahead
    skip = _last_week(site, 6, 21)
    client.force_login(manager)
    page = client.get(reverse("providers:week_copy")).content.decode()
    assert f'value="{keep.pk}"' in page and f'value="{skip.pk}"' in page
    response = client.post(reverse("providers:week_copy"), {"shifts": [str(keep.pk)]})
    assert response.status_code == 302
    [copy] = ShiftRequest.objects.exclude(pk__in=[keep.pk, skip.pk])
    assert copy.start == keep.start + timedelta(days=7)
    assert copy.role_id == keep.role_id and copy.site_id == keep.site_id


def test_nothing_ticked_is_an_error_and_copies_nothing(client, manager, site):
    _last_week(site, 6, 20)
    client.force_login(manager)
    response = client.post(reverse("providers:week_copy"), {})
    assert "Tick at least one request to copy." in response.content.decode()
    assert ShiftRequest.objects.count() == 1


def test_another_providers_requests_cannot_be_copied(client, outsider, site):
    theirs = _last_week(site, 6, 20)
    client.force_login(outsider)
    page = client.get(reverse("providers:week_copy")).content.decode()
    assert f'value="{theirs.pk}"' not in page
    client.post(reverse("providers:week_copy"), {"shifts": [str(theirs.pk)]})
    assert ShiftRequest.objects.count() == 1


def test_a_shift_saved_as_a_template_is_posted_from_it_in_one_step(client, manager, site):
    from providers.models import ShiftTemplate

    source = f.ShiftFactory(site=site, skills=["dementia"], notes="Side door.")
    client.force_login(manager)
    client.post(reverse("providers:template_save", args=[source.pk]), {"name": "Weekday early"})
    template = ShiftTemplate.objects.get(name="Weekday early")
    assert list(template.skills.values_list("slug", flat=True)) == ["dementia"]
    assert "Post Weekday early" in client.get(reverse("providers:shift_new")).content.decode()
    day = timezone.localdate() + timedelta(days=5)
    response = client.post(
        reverse("providers:template_post", args=[template.pk]),
        {"date_day": day.day, "date_month": day.month, "date_year": day.year},
    )
    assert response.status_code == 302
    posted = ShiftRequest.objects.exclude(pk=source.pk).get()
    assert timezone.localtime(posted.start).date() == day
    assert timezone.localtime(posted.start).time() == timezone.localtime(source.start).time()
    assert posted.notes == "Side door." and posted.skills.count() == 1


def test_a_template_with_a_bad_date_posts_nothing_and_says_why(client, manager, site):
    from providers.models import ShiftTemplate

    source = f.ShiftFactory(site=site)
    client.force_login(manager)
    client.post(reverse("providers:template_save", args=[source.pk]), {"name": "Late"})
    template = ShiftTemplate.objects.get()
    response = client.post(
        reverse("providers:template_post", args=[template.pk]),
        {"date_day": "31", "date_month": "2", "date_year": "2027"},
        follow=True,
    )
    assert "must be a real date" in response.content.decode()
    assert ShiftRequest.objects.count() == 1


def test_another_providers_template_is_404(client, manager, outsider, site):
    from providers.models import ShiftTemplate

    source = f.ShiftFactory(site=site)
    client.force_login(manager)
    client.post(reverse("providers:template_save", args=[source.pk]), {"name": "Mine"})
    template = ShiftTemplate.objects.get()
    client.force_login(outsider)
    day = timezone.localdate() + timedelta(days=2)
    response = client.post(
        reverse("providers:template_post", args=[template.pk]),
        {"date_day": day.day, "date_month": day.month, "date_year": day.year},
    )
    assert response.status_code == 404
    assert client.post(reverse("providers:template_delete", args=[template.pk])).status_code == 404
