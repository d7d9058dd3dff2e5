"""The live status page of one request, and the fragment htmx polls."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from shifts.models import Offer
from tests import factories as f
from tests.providers.conftest import book

pytestmark = pytest.mark.django_db


def offer(shift, worker, *, wave=1, status=Offer.Status.PENDING, viewed=False):
    now = timezone.now()
    return Offer.objects.create(
        shift=shift,
        worker=worker,
        wave=wave,
        rank=1,
        distance_km=Decimal("1.1"),
        sent_at=now,
        expires_at=now + timedelta(hours=1),
        status=status,
        viewed_at=now if viewed else None,
    )


def test_the_status_page_shows_offers_by_wave_and_the_booked_worker(
    client, manager, upcoming, worker, other_worker
):
    offer(upcoming, worker, status=Offer.Status.ACCEPTED, viewed=True)
    offer(upcoming, other_worker, wave=2)
    book(upcoming, worker)
    client.force_login(manager)

    response = client.get(reverse("providers:shift_detail", kwargs={"pk": upcoming.pk}))

    html = response.content.decode()
    assert "1 of 1 place booked. 2 offers sent, 1 viewed." in html
    assert "Wendy Walker" in html
    assert "All valid through the shift" in html
    assert "First shift with you" in html
    assert worker.phone not in html  # contact details are the pool's, not needed here
    assert 'hx-trigger="every 4s"' in html
    assert response.context["status"].waves[1].pending == 1


def test_a_lapsed_document_is_shown_against_the_booked_worker(client, manager, upcoming, worker):
    dbs = worker.documents.get(doc_type__slug="dbs-enhanced")
    dbs.expires_on = timezone.localdate()
    dbs.save()
    book(upcoming, worker)
    client.force_login(manager)
    html = client.get(reverse("providers:shift_detail", kwargs={"pk": upcoming.pk})).content
    assert b"Not valid: Enhanced DBS check" in html


def test_the_fragment_answers_no_content_until_something_changes(client, manager, upcoming, worker):
    client.force_login(manager)
    url = reverse("providers:shift_live", kwargs={"pk": upcoming.pk})
    first = client.get(url)
    signature = first.context["signature"]

    assert client.get(url, {"v": signature}).status_code == 204

    book(upcoming, worker)
    changed = client.get(url, {"v": signature})
    assert changed.status_code == 200
    assert b"Wendy Walker" in changed.content
    assert b"<html" not in changed.content


def test_the_page_stops_polling_once_the_shift_has_started(client, manager, worked):
    client.force_login(manager)
    html = client.get(reverse("providers:shift_detail", kwargs={"pk": worked.shift_id})).content
    assert b"hx-trigger" not in html
    assert b"Confirm Wendy Walker attended" in html
    assert b"Wendy Walker did not come" in html


def test_the_time_left_before_coordinators_step_in_is_shown(client, manager, site):
    soon = timezone.now() + timedelta(hours=8)
    shift = f.ShiftFactory(site=site, start=soon, end=soon + timedelta(hours=8))
    client.force_login(manager)
    response = client.get(reverse("providers:shift_detail", kwargs={"pk": shift.pk}))
    left = response.context["status"].time_to_escalation
    assert timedelta(hours=1, minutes=58) < left <= timedelta(hours=2)
    assert b"coordinators step in at" in response.content


def test_her_record_at_this_provider_counts_only_shifts_here(
    client, manager, upcoming, worker, outsider
):
    from shifts.models import Booking
    from tests.providers.conftest import past_shift

    book(past_shift(upcoming.site, days_ago=10), worker, status=Booking.Status.ATTENDED)
    elsewhere = f.SiteFactory(provider=outsider.provider_membership.provider)
    book(past_shift(elsewhere, days_ago=12), worker, status=Booking.Status.NO_SHOW)
    book(upcoming, worker)
    client.force_login(manager)
    status = client.get(reverse("providers:shift_detail", kwargs={"pk": upcoming.pk})).context[
        "status"
    ]
    record = status.booked[0].record
    assert (record.shifts_attended, record.no_shows) == (1, 0)


def test_the_dashboard_lists_what_waits_for_her_review(client, manager, worked, outsider):
    client.force_login(manager)
    page = client.get(reverse("providers:dashboard"))
    assert [b.pk for b in page.context["reviews"]] == [worked.pk]
    assert b"Confirm attendance" in page.content
    client.force_login(outsider)
    assert client.get(reverse("providers:dashboard")).context["reviews"] == []


def test_a_shift_past_its_escalation_time_is_shown_with_the_coordinators(client, manager, site):
    """Not 'coordinators step in at 01:00' for a time already gone, before beat ran."""
    from shifts.models import ShiftRequest

    soon = f.ShiftFactory(
        site=site,
        start=timezone.now() + timedelta(hours=2),
        end=timezone.now() + timedelta(hours=10),
    )
    assert soon.escalated_at is None and soon.status == ShiftRequest.Status.OPEN
    client.force_login(manager)
    page = client.get(reverse("providers:shift_detail", kwargs={"pk": soon.pk})).content.decode()
    assert "step in at" not in page
    assert "With the coordinators" in page
