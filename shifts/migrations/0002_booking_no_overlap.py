"""On PostgreSQL, a worker's live bookings can never overlap in time, whatever the code
does: an exclusion constraint over (worker, [start, end)) for bookings that are booked or
attended. SQLite, the embedded development default, has no such constraint; there the
lock taken in ``offer_accept`` is the only guard."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE shifts_booking ADD CONSTRAINT booking_worker_no_overlap
    EXCLUDE USING gist (worker_id WITH =, tstzrange(start, "end", '[)') WITH &&)
    WHERE (status IN ('booked', 'attended'));
"""
DROP = "ALTER TABLE shifts_booking DROP CONSTRAINT IF EXISTS booking_worker_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("shifts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
