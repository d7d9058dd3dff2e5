"""A small hand-built week of shifts whose figures are worked out by hand in the tests.

Range: Monday 2 to Sunday 8 March 2026 (no clock change). Shifts (care worker, Oak Care):

- A: Tue 3rd 08:00–16:00 (8 h), 3 places, 2 booked (a third booking cancelled late by
  the provider), £20/h — partially filled.
- B: Wed 4th 07:00–17:00 (10 h), 1 place, booked, posted 09:00 the day before, filled
  10:30 (90 min), £30/h.
- C: Sun 8th 22:00 – Mon 9th 10:00 (12 h), 2 places, both booked, posted Sat 12:00,
  filled 12:30 (30 min), £25/h — starts on the last day, so counts in full.
- D: Sun 1st 23:00 – Mon 2nd 07:00, booked — starts before the range: not counted.
- E: Thu 5th 08:00–14:00, withdrawn by the provider — not requested.
- F: Fri 6th 09:00–15:00 (6 h), 1 place, unfilled (a no-show), went to agency, £24.50/h.
- G: Sat 7th 08:00–12:00 (4 h), 1 place, booked, posted Fri 08:00, filled Fri 12:00
  (240 min), £22/h; another worker's booking was cancelled by the provider at 08:30 on
  the day (turned away).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from shifts.models import Booking, ShiftRequest
from tests import factories as f

LONDON = ZoneInfo("Europe/London")
FROM = date(2026, 3, 2)
TO = date(2026, 3, 8)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=LONDON)


@dataclass
class History:
    shifts: dict[str, ShiftRequest]
    workers: list


def _book(shift, worker, status=Booking.Status.BOOKED, **extra):
    return Booking.objects.create(
        shift=shift,
        worker=worker,
        start=shift.start,
        end=shift.end,
        status=status,
        booked_at=shift.posted_at,
        **extra,
    )


def build_history(site, pool) -> History:
    workers = [f.WorkerFactory(pool=pool, documents=False, availability=False) for _ in range(4)]
    w1, w2, w3, w4 = workers
    S = ShiftRequest.Status

    def shift(name, start, end, headcount, booked, rate, posted, filled=None, **extra):
        return f.ShiftFactory(
            site=site,
            start=start,
            end=end,
            headcount=headcount,
            booked_count=booked,
            agency_hourly_rate=Decimal(rate),
            posted_at=posted,
            filled_at=filled,
            status=S.FILLED if booked == headcount else S.OPEN,
            **extra,
        )

    shifts = {
        "A": shift("A", at(3, 8), at(3, 16), 3, 2, "20.00", at(1, 10)),
        "B": shift("B", at(4, 7), at(4, 17), 1, 1, "30.00", at(3, 9), at(3, 10, 30)),
        "C": shift("C", at(8, 22), at(9, 10), 2, 2, "25.00", at(7, 12), at(7, 12, 30)),
        "D": shift("D", at(1, 23), at(2, 7), 1, 1, "25.00", at(1, 9), at(1, 10)),
        "F": shift(
            "F",
            at(6, 9),
            at(6, 15),
            1,
            0,
            "24.50",
            at(5, 9),
            outcome=ShiftRequest.Outcome.AGENCY,
        ),
        "G": shift("G", at(7, 8), at(7, 12), 1, 1, "22.00", at(6, 8), at(6, 12)),
    }
    shifts["E"] = f.ShiftFactory(
        site=site,
        start=at(5, 8),
        end=at(5, 14),
        headcount=1,
        posted_at=at(4, 8),
        status=S.CANCELLED,
        cancelled_at=at(4, 9),
    )
    A, B, C, D, F, G = (shifts[k] for k in "ABCDFG")
    _book(A, w1)
    _book(A, w2, status=Booking.Status.ATTENDED)
    _book(
        A,
        w3,
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.PROVIDER,
        cancelled_at=at(3, 6),
        late_cancellation=True,
    )
    _book(B, w1)
    _book(C, w1)
    _book(C, w2)
    _book(
        D,
        w4,
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.WORKER,
        cancelled_at=at(1, 20),
        late_cancellation=True,
    )
    _book(F, w2, status=Booking.Status.NO_SHOW)
    _book(G, w3)
    _book(
        G,
        w4,
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.PROVIDER,
        cancelled_at=at(7, 8, 30),
        late_cancellation=True,
    )
    return History(shifts=shifts, workers=workers)
