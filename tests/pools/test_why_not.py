"""'Why not?': a coordinator finds any worker of the pool by name on a shift's page and sees,
rule by rule, why they were or were not offered it; a worker sees, on their record, the
shifts of the last 14 days they were not offered, and why, in their own words."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from shifts.matching import ELIGIBILITY, shift_match_wave
from shifts.models import ShiftRequest
from shifts.selectors import shift_why_not, worker_shifts_not_offered
from tests import factories as f
from workers.models import Document, Worker


def test_a_coordinator_sees_every_rule_for_a_named_worker(client, coordinator, site, worker):
    shift = f.ShiftFactory(site=site)
    Document.objects.filter(worker=worker, doc_type__slug="dbs-enhanced").update(
        expires_on=timezone.localdate(shift.start)
    )
    client.force_login(coordinator)
    page = client.get(reverse("pools:shift", kwargs={"pk": shift.pk}), {"who": "wendy"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Wendy Walker</a>: cannot be offered it now" in html
    assert "no valid Enhanced DBS check with adults&#x27; barred list through the shift" in html
    assert html.count("Passes") == len(ELIGIBILITY) - 1


def test_a_named_worker_excluded_by_the_prefilter_is_still_explained(site, worker):
    """The match run lists only per-worker exclusions; asking by name covers every rule."""
    Worker.objects.filter(pk=worker.pk).update(latitude=53.9)  # far outside their radius
    shift = f.ShiftFactory(site=site)
    run = shift_match_wave(shift_id=shift.pk)
    assert run is not None and worker.pk not in sum(run.excluded.values(), [])
    [verdict] = shift_why_not(shift=shift, name="Walker")
    failed = [c for c in verdict.checks if not c.passed]
    assert [c.name for c in failed] == ["distance"]
    assert failed[0].words == ["the site is beyond the worker's travel radius"]


def test_an_eligible_worker_is_shown_as_such(site, worker):
    [verdict] = shift_why_not(shift=f.ShiftFactory(site=site), name="wendy")
    assert verdict.eligible and not verdict.offered


def test_workers_of_another_pool_are_not_found(site, worker):
    elsewhere = f.PoolFactory(name="Rochdale", slug="rochdale")
    Worker.objects.filter(pk=worker.pk).update(pool=elsewhere)
    assert shift_why_not(shift=f.ShiftFactory(site=site), name="wendy") == []


def test_a_worker_sees_a_shift_they_were_not_offered_and_why(client, site, worker):
    shift = f.ShiftFactory(site=site)
    Document.objects.filter(worker=worker, doc_type__slug="dbs-enhanced").update(
        expires_on=timezone.localdate(shift.start)
    )
    shift_match_wave(shift_id=shift.pk)
    [missed] = worker_shifts_not_offered(worker=worker)
    assert missed.shift == shift
    assert missed.reasons == [
        "your Enhanced DBS check with adults' barred list is missing or not valid until this "
        "shift ends"
    ]
    client.force_login(worker.user)
    html = client.get(reverse("workers:record")).content.decode()
    assert "is missing or not valid until this shift ends" in html
    assert shift.site.address not in html and shift.site.name not in html


def test_a_worker_is_not_shown_shifts_older_than_14_days_or_never_matched(site, worker):
    old = f.ShiftFactory(site=site)
    ShiftRequest.objects.filter(pk=old.pk).update(
        posted_at=timezone.now() - timedelta(days=15), matched_at=timezone.now()
    )
    f.ShiftFactory(site=site)  # never matched
    assert worker_shifts_not_offered(worker=worker) == []
