"""The Working Time Regulations as the pool applies them: at most 48 hours a week averaged
over 17 weeks unless the worker opted out in writing, the pool's default weekly cap for a
worker who set none, and no cap above 48 without an opt-out. Matching and acceptance both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pools.models import Pool
from pools.services import worker_opt_out_record
from shifts.exceptions import OfferUnavailable
from shifts.matching import matching_explain, shift_eligible_workers, shift_match_wave
from shifts.models import Booking, Offer
from shifts.services.offers import offer_accept
from tests import factories as f
from workers.models import Worker, working_time_opted_out
from workers.services import weekly_hours_cap_check, worker_opt_out_withdraw

LONDON = ZoneInfo("Europe/London")
# The week the clocks go forward in 2027 (Sunday 28 March, 01:00 -> 02:00): 167 hours long.
DST_MONDAY = date(2027, 3, 22)
AVERAGE = "would average over 48 hours a week across 17 weeks without a written opt-out"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def book(worker, site, start: datetime, hours: float) -> Booking:
    """A booking of ``hours`` real hours (added in UTC: aware London times add by the wall
    clock, which is an hour out across a clock change)."""
    end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(LONDON)
    shift = f.ShiftFactory(site=site, start=start, end=end)
    return Booking.objects.create(
        shift=shift,
        worker=worker,
        start=start,
        end=end,
        booked_at=timezone.now(),
        status=Booking.Status.ATTENDED if end < timezone.now() else Booking.Status.BOOKED,
    )


@pytest.fixture
def veteran(worker):
    """Our worker, with the pool since long before the 17 weeks in question."""
    Worker.objects.filter(pk=worker.pk).update(approved_at=timezone.now() - timedelta(days=900))
    worker.refresh_from_db()
    return worker


@pytest.fixture
def dst_shift(site):
    """Thursday 09:00-17:00 in the week the clocks change."""
    return f.ShiftFactory(
        site=site,
        start=at(DST_MONDAY + timedelta(days=3), 9),
        end=at(DST_MONDAY + timedelta(days=3), 17),
    )


def sixteen_heavy_weeks(worker, site, hours: float) -> None:
    """``hours`` in one long booking on each of the 16 weeks before the DST week."""
    for back in range(1, 17):
        book(worker, site, at(DST_MONDAY - timedelta(weeks=back), 6), hours)


def eligible(shift) -> bool:
    return bool(shift_eligible_workers(shift=shift))


def test_it_allows_exactly_48_hours_a_week_on_average_over_17_weeks(veteran, site, dst_shift):
    # 16 x 50 h + the 8 h shift + an 8-real-hour night over the clock change (9 on the wall
    # clock) = 816 h = 17 x 48: allowed, and only if the night is counted in real hours.
    sixteen_heavy_weeks(veteran, site, 50)
    book(veteran, site, at(DST_MONDAY + timedelta(days=5), 23), 8)
    assert eligible(dst_shift)
    assert matching_explain(shift=dst_shift, worker=veteran) == []


def test_it_refuses_a_shift_that_takes_the_17_week_average_over_48(veteran, site, dst_shift):
    sixteen_heavy_weeks(veteran, site, 51)  # 816 h before the shift: any more is too much
    assert not eligible(dst_shift)
    assert matching_explain(shift=dst_shift, worker=veteran) == [AVERAGE]
    assert (
        "over an average of 48 hours a week"
        in matching_explain(shift=dst_shift, worker=veteran, audience="worker")[0]
    )


def test_the_average_counts_later_weeks_already_booked_too(veteran, site, dst_shift):
    for ahead in range(1, 17):
        book(veteran, site, at(DST_MONDAY + timedelta(weeks=ahead), 6), 51)
    assert matching_explain(shift=dst_shift, worker=veteran) == [AVERAGE]


def test_a_newer_workers_average_runs_from_when_they_started(worker, site, dst_shift):
    """Approved four weeks before the DST week: the reference period is those five weeks,
    so five weeks at 48 h are the most, however empty the 12 weeks before joining were."""
    Worker.objects.filter(pk=worker.pk).update(approved_at=at(DST_MONDAY - timedelta(weeks=4), 9))
    for back in range(1, 5):
        book(worker, site, at(DST_MONDAY - timedelta(weeks=back), 6), 58)  # 232 h
    assert eligible(dst_shift)  # 232 + 8 = 240 = 5 x 48
    book(worker, site, at(DST_MONDAY, 6), 1)
    assert not eligible(dst_shift)


def test_a_written_opt_out_lifts_the_average(veteran, site, dst_shift, coordinator):
    sixteen_heavy_weeks(veteran, site, 55)
    assert not eligible(dst_shift)
    worker_opt_out_record(worker=veteran, signed_on=timezone.localdate(), by=coordinator)
    assert eligible(dst_shift)


def test_a_withdrawn_opt_out_holds_until_the_pools_notice_has_passed(veteran, site, dst_shift):
    sixteen_heavy_weeks(veteran, site, 55)
    Worker.objects.filter(pk=veteran.pk).update(opt_out_signed_on=date(2026, 1, 5))
    Pool.objects.filter(pk=dst_shift.pool_id).update(opt_out_notice_days=30)
    dst_shift.pool.refresh_from_db()
    veteran.refresh_from_db()
    # Withdrawn 10 days before the shift: 30 days' notice still runs then.
    worker_opt_out_withdraw(worker=veteran, today=DST_MONDAY - timedelta(days=7))
    assert eligible(dst_shift)
    # Withdrawn 40 days before: the notice has run out.
    Worker.objects.filter(pk=veteran.pk).update(
        opt_out_withdrawn_on=DST_MONDAY - timedelta(days=40)
    )
    assert not eligible(dst_shift)


def test_the_opt_out_holds_from_signing_to_the_end_of_the_notice():
    signed, withdrawn = date(2027, 1, 4), date(2027, 2, 1)
    holds = [
        working_time_opted_out(signed_on=signed, withdrawn_on=withdrawn, notice_days=7, day=d)
        for d in (date(2027, 1, 3), signed, date(2027, 2, 7), date(2027, 2, 8))
    ]
    assert holds == [False, True, True, False]


def test_acceptance_applies_the_average_as_well(veteran, site, dst_shift):
    shift_match_wave(shift_id=dst_shift.pk)
    offer = Offer.objects.get(shift=dst_shift, worker=veteran)
    sixteen_heavy_weeks(veteran, site, 51)
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=offer, worker=veteran)
    assert exc.value.code == "not_eligible" and "48 hours" in exc.value.message


def test_the_weekly_cap_counts_real_hours_in_the_week_the_clocks_change(worker, site, dst_shift):
    # Saturday 20:00 to Sunday 08:00 across the change is 11 hours, not 12.
    Worker.objects.filter(pk=worker.pk).update(weekly_hours_cap=19)
    book(worker, site, at(DST_MONDAY + timedelta(days=5), 20), 11)
    assert eligible(dst_shift)  # 11 + 8 = 19
    Worker.objects.filter(pk=worker.pk).update(weekly_hours_cap=18)
    assert matching_explain(shift=dst_shift, worker=worker) == [
        "would go over the weekly hours cap"
    ]


def test_the_pools_default_cap_applies_to_a_worker_who_set_none(worker, site, dst_shift):
    Worker.objects.filter(pk=worker.pk).update(weekly_hours_cap=None)
    book(worker, site, at(DST_MONDAY, 9), 8)
    assert eligible(dst_shift)
    Pool.objects.filter(pk=dst_shift.pool_id).update(default_weekly_hours_cap=15)
    dst_shift.pool.refresh_from_db()
    assert matching_explain(shift=dst_shift, worker=worker) == [
        "would go over the weekly hours cap"
    ]


def test_a_cap_above_48_needs_an_opt_out_on_record(worker, coordinator):
    assert weekly_hours_cap_check(worker=worker, cap=48) == 48
    assert weekly_hours_cap_check(worker=worker, cap=None) is None
    with pytest.raises(ValidationError) as exc:
        weekly_hours_cap_check(worker=worker, cap=60)
    assert "weekly_hours_cap" in exc.value.message_dict
    worker_opt_out_record(worker=worker, signed_on=timezone.localdate(), by=coordinator)
    assert weekly_hours_cap_check(worker=worker, cap=60) == 60


def test_the_profile_form_shows_the_cap_error_and_saves_nothing(client, worker):
    from django.urls import reverse

    from tests.workers.test_apply_and_profile import application  # the form's valid answers

    client.force_login(worker.user)
    response = client.post(reverse("workers:profile"), application(weekly_hours_cap="60"))
    assert response.status_code == 200
    assert "signed the opt-out from the 48-hour week" in response.content.decode()
    worker.refresh_from_db()
    assert worker.weekly_hours_cap != 60


def test_only_workers_near_the_average_or_newly_joined_have_their_weeks_looked_at(
    site, veteran, other_worker
):
    from shifts.matching.rules import _context, worker_facts

    shift = f.ShiftFactory(site=site, start=at(DST_MONDAY, 9), end=at(DST_MONDAY, 17))
    for week in range(14):  # 14 weeks of 60 hours: 840, over the 816 of 17 weeks at 48
        for day in range(5):
            book(veteran, site, at(DST_MONDAY - timedelta(weeks=week + 1, days=-day), 6), 12)
    book(other_worker, site, at(DST_MONDAY - timedelta(weeks=3), 9), 8)
    Worker.objects.filter(pk=other_worker.pk).update(approved_at=at(date(2024, 1, 1), 9))
    rows = [(w.pk, None, None) for w in (veteran, other_worker)]

    near, far = worker_facts(_context(shift, timezone.now()), rows)
    assert len(near.weekly_totals) == 14  # could reach the limit: looked at week by week
    assert far.weekly_totals == {}  # 8 hours: passes at a glance, no weeks loaded

    Worker.objects.filter(pk=other_worker.pk).update(approved_at=at(date(2027, 1, 4), 9))
    _near, joined = worker_facts(_context(shift, timezone.now()), rows)
    assert joined.weekly_totals == {date(2027, 3, 1): 8.0}  # a newcomer's are


def test_a_wave_reads_the_weeks_only_of_workers_the_earlier_rules_let_through(
    veteran, site, dst_shift
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workers.models import AvailabilityRule

    sixteen_heavy_weeks(veteran, site, 51)  # over the average, as above
    AvailabilityRule.objects.filter(worker=veteran).delete()  # and not available either

    def weeks_read(queries: CaptureQueriesContext) -> bool:
        return any("DATE_TRUNC" in q["sql"].upper() for q in queries)

    with CaptureQueriesContext(connection) as queries:
        run = shift_match_wave(shift_id=dst_shift.pk, force=True)

    assert run is not None
    assert run.excluded == {"availability": [veteran.pk]}  # the first rule they break
    assert not weeks_read(queries)

    # Available, the same worker's weeks are read, and the average refuses them.
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(worker=veteran, weekday=d, start_minute=0, end_minute=1440)
        for d in range(7)
    )
    with CaptureQueriesContext(connection) as queries:
        run = shift_match_wave(shift_id=dst_shift.pk, force=True)
    assert run is not None
    assert run.excluded == {"working_time": [veteran.pk]}
    assert weeks_read(queries) == (connection.vendor == "postgresql")


def test_a_wave_reads_opt_outs_and_records_only_of_workers_the_earlier_rules_let_through(
    veteran, other_worker, site, dst_shift, coordinator
):
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workers.models import AvailabilityRule

    if connection.vendor != "postgresql":
        pytest.skip("the facts are written out for PostgreSQL only")
    sixteen_heavy_weeks(veteran, site, 55)  # over the average, but opted out in writing
    worker_opt_out_record(worker=veteran, signed_on=timezone.localdate(), by=coordinator)
    # Olive has opted out too, but is not available: the rules before the average turn her
    # away, so her standing and her record are never read.
    Worker.objects.filter(pk=other_worker.pk).update(opt_out_signed_on=timezone.localdate())
    AvailabilityRule.objects.filter(worker=other_worker).delete()

    def ids_asked(queries: CaptureQueriesContext, marker: str) -> set[int]:
        [sql] = [q["sql"] for q in queries if marker in q["sql"]]
        return {int(i) for group in re.findall(r"'\{([\d,]+)\}'", sql) for i in group.split(",")}

    with CaptureQueriesContext(connection) as queries:
        run = shift_match_wave(shift_id=dst_shift.pk, force=True)

    assert run is not None
    assert run.excluded == {"availability": [other_worker.pk]}
    assert list(Offer.objects.filter(shift=dst_shift).values_list("worker", flat=True)) == [
        veteran.pk
    ]
    assert ids_asked(queries, "opt_out_signed_on IS NOT NULL") == {veteran.pk}
    assert ids_asked(queries, "offers_accepted") == {veteran.pk}  # the records
    assert ids_asked(queries, "DATE_TRUNC('week'") == {veteran.pk}  # the weeks
