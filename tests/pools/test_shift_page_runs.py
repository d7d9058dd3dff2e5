"""The pool's shift page lists each matching run; a first wave that read only near the site
says how far its count of workers not reached goes, so nobody reads it as everyone."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from shifts.models import MatchRun
from tests import factories as f


def test_a_run_that_read_near_the_site_says_how_far_it_counted(client, coordinator, site):
    shift = f.ShiftFactory(site=site)
    now = timezone.now()
    MatchRun.objects.create(
        shift=shift,
        wave=1,
        ran_at=now,
        eligible_count=12,
        offered_count=10,
        not_reached=37,
        searched_km=2.0,
    )
    MatchRun.objects.create(
        shift=shift, wave=2, ran_at=now, eligible_count=30, offered_count=20, not_reached=900
    )
    client.force_login(coordinator)

    page = client.get(reverse("pools:shift", kwargs={"pk": shift.pk})).content.decode()

    assert "not reached yet: 37 within 2.0 km (further not counted)" in page
    assert "not reached yet: 900</td>" in page  # read everyone: the count is everyone
