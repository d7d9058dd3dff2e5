"""After the shift: attendance, no-show, timesheet, rating, favourites and blocks, from the
status page's buttons."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pools.models import AuditEntry
from providers.models import Favourite, ProviderBlock
from shifts.models import Booking, Rating, Timesheet
from tests.providers.conftest import submit_timesheet

pytestmark = pytest.mark.django_db


def url(name, booking):
    return reverse(f"providers:{name}", kwargs={"pk": booking.pk})


def test_she_confirms_attendance_then_approves_and_rates(client, manager, worked):
    client.force_login(manager)

    response = client.post(url("booking_attended", worked))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#booking-{worked.pk}")
    response = client.post(url("timesheet_approve", worked))
    response = client.post(
        url("booking_rate", worked),
        {"punctuality": "5", "care": "4", "skills_as_listed": "5", "comment": "Lovely."},
    )
    assert response.status_code == 302

    worked.refresh_from_db()
    assert worked.status == Booking.Status.ATTENDED
    assert worked.timesheet.status == Timesheet.Status.APPROVED
    assert Rating.objects.get(booking=worked).care == 4


def test_a_rating_needs_every_score(client, manager, worked):
    Booking.objects.filter(pk=worked.pk).update(status=Booking.Status.ATTENDED)
    client.force_login(manager)
    response = client.post(url("booking_rate", worked), {"punctuality": "5"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"care", "skills_as_listed"}
    assert not Rating.objects.exists()


def test_a_correction_without_a_note_is_refused_beside_the_note(client, manager, worked):
    submit_timesheet(worked)
    client.force_login(manager)
    response = client.post(
        url("timesheet_correct", worked),
        {"start_time": "08:00", "end_time": "14:00", "break_minutes": "0", "note": ""},
    )
    assert response.status_code == 200
    assert "note" in response.context["form"].errors
    assert b'href="#id_note"' in response.content


def test_a_correction_with_a_note_approves_the_new_hours(client, manager, worked):
    submit_timesheet(worked)
    client.force_login(manager)
    client.post(
        url("timesheet_correct", worked),
        {"start_time": "08:00", "end_time": "14:00", "break_minutes": "30", "note": "Sent home."},
    )
    timesheet = Timesheet.objects.get(booking=worked)
    assert timesheet.status == Timesheet.Status.CORRECTED
    assert str(timesheet.hours) == "5.50"


def test_she_adds_a_worker_to_favourites_and_removes_her(client, manager, worked, provider):
    client.force_login(manager)
    client.post(url("favourite_add", worked))
    assert Favourite.objects.filter(provider=provider, worker=worked.worker).exists()
    client.post(url("favourite_remove", worked))
    assert not Favourite.objects.exists()


def test_blocking_needs_a_reason_that_coordinators_see(client, manager, worked, provider):
    client.force_login(manager)
    refused = client.post(url("worker_block", worked), {"reason": ""})
    assert "reason" in refused.context["form"].errors

    client.post(url("worker_block", worked), {"reason": "Slept on a waking night."})

    block = ProviderBlock.objects.get(provider=provider, worker=worked.worker)
    assert block.created_by == manager
    entry = AuditEntry.objects.get(action="provider_blocked_worker")
    assert entry.reason == "Slept on a waking night." and entry.pool == provider.pool


def test_a_worker_never_booked_here_cannot_be_favoured(provider, manager, other_worker):
    from django.core.exceptions import ValidationError

    from providers.services import favourite_add

    with pytest.raises(ValidationError):
        favourite_add(provider=provider, worker=other_worker, by=manager)


def test_a_no_show_is_one_step_and_re_posts_the_place_as_urgent(client, manager, worked):
    client.force_login(manager)
    response = client.post(url("booking_no_show", worked))
    assert response.status_code == 302
    worked.refresh_from_db()
    worked.shift.refresh_from_db()
    assert worked.status == Booking.Status.NO_SHOW
    assert worked.shift.is_critical


def test_a_correction_longer_than_a_day_is_refused_beside_the_finish(client, manager, worked):
    submit_timesheet(worked)
    client.force_login(manager)
    response = client.post(
        url("timesheet_correct", worked),
        {"start_time": "08:00", "end_time": "08:00", "break_minutes": "0", "note": "x"},
    )
    assert "end_time" in response.context["form"].errors
    assert Timesheet.objects.get(booking=worked).status == Timesheet.Status.SUBMITTED


def test_her_favourites_and_blocks_are_listed_and_a_favourite_removed(
    client, manager, worked, provider, outsider
):
    from providers.services import favourite_add, worker_block
    from tests import factories as f
    from tests.providers.conftest import book, past_shift

    favourite_add(provider=provider, worker=worked.worker, by=manager)
    olive = f.WorkerFactory(display_name="Olive Other", pool=provider.pool)
    book(past_shift(worked.shift.site, days_ago=3), olive)
    worker_block(provider=provider, worker=olive, by=manager, reason="Rude to a resident.")
    client.force_login(manager)

    page = client.get(reverse("providers:favourites")).content.decode()
    assert "Wendy Walker" in page and "Rude to a resident." in page

    remove = reverse("providers:favourite_delete", kwargs={"worker_pk": worked.worker_id})
    client.force_login(outsider)
    assert client.post(remove).status_code == 404
    assert "Wendy Walker" not in client.get(reverse("providers:favourites")).content.decode()
    client.force_login(manager)
    client.post(remove)
    assert not Favourite.objects.exists()
