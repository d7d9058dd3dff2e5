"""Workers' records (``WorkerRecord``): the database keeps them as offers and bookings
change (migration 0004's triggers); this writes them afresh from the history, for a bulk
load that ran with the triggers off (the demo builder's million-shift history)."""

from __future__ import annotations

from django.db import connection

from shifts.models import Booking, Offer, WorkerRecord

# Each column's count from the history, grouped by worker (``WorkerRecord.COUNTED``).
_RECOUNT = """
INSERT INTO shifts_workerrecord (worker_id, offers_accepted, offers_declined, offers_expired,
                                 shifts_attended, no_shows, live_seconds)
SELECT worker_id, SUM(a), SUM(d), SUM(e), SUM(t), SUM(n), SUM(s) FROM (
    SELECT worker_id,
           CASE WHEN status = %(accepted)s THEN 1 ELSE 0 END AS a,
           CASE WHEN status = %(declined)s THEN 1 ELSE 0 END AS d,
           CASE WHEN status = %(expired)s THEN 1 ELSE 0 END AS e, 0 AS t, 0 AS n, 0 AS s
    FROM shifts_offer WHERE status IN (%(accepted)s, %(declined)s, %(expired)s)
    UNION ALL
    SELECT worker_id, 0, 0, 0,
           CASE WHEN status = %(attended)s THEN 1 ELSE 0 END,
           CASE WHEN status = %(no_show)s THEN 1 ELSE 0 END,
           CASE WHEN status IN (%(booked)s, %(attended)s) THEN {length} ELSE 0 END
    FROM shifts_booking WHERE status IN (%(booked)s, %(attended)s, %(no_show)s)
) AS history GROUP BY worker_id
"""
# A booking's length in seconds, as migration 0009's triggers count it.
_LENGTH = {
    "postgresql": 'EXTRACT(EPOCH FROM "end" - start)::bigint',
    "sqlite": 'CAST(ROUND((julianday("end") - julianday(start)) * 86400) AS INTEGER)',
}


def worker_records_recount() -> int:
    """Every worker's record, counted from the history (in the caller's transaction, which
    must keep offers and bookings from changing meanwhile). Returns how many were written."""
    WorkerRecord.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _RECOUNT.format(length=_LENGTH[connection.vendor]),
            {
                "booked": Booking.Status.BOOKED.value,
                "accepted": Offer.Status.ACCEPTED.value,
                "declined": Offer.Status.DECLINED.value,
                "expired": Offer.Status.EXPIRED.value,
                "attended": Booking.Status.ATTENDED.value,
                "no_show": Booking.Status.NO_SHOW.value,
            },
        )
        return cursor.rowcount
