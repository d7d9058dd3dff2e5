"""Two indexes of live bookings (booked or attended) for the facts a wave reads, on
PostgreSQL (SQLite, the embedded development default, has neither GiST nor INCLUDE, and
reads its small tables whole):

- ``booking_live_when``: their times alone, as ranges in a GiST index, for the bookings near
  a shift (the overlap, rest and weekly-hours rules). The exclusion constraint's index
  (``booking_worker_no_overlap``) leads with the worker; asked by time alone it reads the
  whole index (4,000 pages at 1,000,000 shifts, 50-100 ms an urgent wave), this one a few
  dozen pages. It is on ``tstzrange(start, "end")`` (the same '[)' range, written without
  the bounds) so that a query written that way can only mean it.
- ``booking_live_weeks``: (worker, start) with the end and the shift included, so the
  17-week totals read each worker's 33 weeks from the index alone instead of their whole
  history from the table (193 -> 82 ms for 2,700 workers at 1,000,000 shifts)."""

from django.db import migrations

LIVE = "status IN ('booked', 'attended')"
CREATE = [
    'CREATE INDEX IF NOT EXISTS booking_live_when ON shifts_booking USING gist '
    f'(tstzrange(start, "end")) WHERE {LIVE}',
    "CREATE INDEX IF NOT EXISTS booking_live_weeks ON shifts_booking (worker_id, start) "
    f'INCLUDE ("end", shift_id) WHERE {LIVE}',
]
DROP = [
    "DROP INDEX IF EXISTS booking_live_when",
    "DROP INDEX IF EXISTS booking_live_weeks",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("shifts", "0007_lean_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
