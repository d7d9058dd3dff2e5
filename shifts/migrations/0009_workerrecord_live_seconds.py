"""Each worker's record also holds the seconds of all their live bookings (booked or
attended), all time (``WorkerRecord.live_seconds``): an upper bound on their hours over any
stretch of weeks. Matching's working-time rule passes at a glance anyone whose 33 weeks
around a shift hold too few hours to break the 48-hour average; a worker whose hours ever
booked are fewer than that need not have their bookings read at all
(``shifts.matching.rules.weekly_totals_sql``).

Kept as the counts are (migration 0004): triggers on ``shifts_booking`` add a booking's
length when it is inserted live or becomes live (or moves to the worker), and take it away
when it leaves a live status, is deleted, moves away, or has its times changed (which takes
the old length away and adds the new). Backfilled from the history in the same
transaction, bookings locked meanwhile on PostgreSQL."""

from django.db import migrations, models

LIVE = "('booked', 'attended')"

POSTGRESQL = f"""
CREATE FUNCTION shifts_booking_live_seconds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status IN {LIVE} THEN
        UPDATE shifts_workerrecord
        SET live_seconds = live_seconds - EXTRACT(EPOCH FROM OLD."end" - OLD.start)::bigint
        WHERE worker_id = OLD.worker_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status IN {LIVE} THEN
        INSERT INTO shifts_workerrecord AS r (worker_id, live_seconds)
        VALUES (NEW.worker_id, EXTRACT(EPOCH FROM NEW."end" - NEW.start)::bigint)
        ON CONFLICT (worker_id) DO UPDATE SET live_seconds = r.live_seconds + EXCLUDED.live_seconds;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER shifts_booking_live_insert AFTER INSERT ON shifts_booking FOR EACH ROW
    WHEN (NEW.status IN {LIVE}) EXECUTE FUNCTION shifts_booking_live_seconds();
CREATE TRIGGER shifts_booking_live_update
    AFTER UPDATE OF status, worker_id, start, "end" ON shifts_booking FOR EACH ROW
    WHEN ((OLD.status IN {LIVE} OR NEW.status IN {LIVE})
          AND (OLD.status <> NEW.status OR OLD.worker_id <> NEW.worker_id
               OR OLD.start <> NEW.start OR OLD."end" <> NEW."end"))
    EXECUTE FUNCTION shifts_booking_live_seconds();
CREATE TRIGGER shifts_booking_live_delete AFTER DELETE ON shifts_booking FOR EACH ROW
    WHEN (OLD.status IN {LIVE}) EXECUTE FUNCTION shifts_booking_live_seconds();
"""

# SQLite keeps datetimes as UTC text: the length from their Julian days.
_SQLITE_LENGTH = 'CAST(ROUND((julianday({row}."end") - julianday({row}.start)) * 86400) AS INTEGER)'
_SQLITE_ADD = f"""
    INSERT OR IGNORE INTO shifts_workerrecord (worker_id, offers_accepted, offers_declined,
        offers_expired, shifts_attended, no_shows, live_seconds)
        VALUES (NEW.worker_id, 0, 0, 0, 0, 0, 0);
    UPDATE shifts_workerrecord SET live_seconds = live_seconds + {_SQLITE_LENGTH.format(row="NEW")}
        WHERE worker_id = NEW.worker_id;"""
_SQLITE_TAKE = f"""
    UPDATE shifts_workerrecord SET live_seconds = live_seconds - {_SQLITE_LENGTH.format(row="OLD")}
        WHERE worker_id = OLD.worker_id;"""
SQLITE = [
    f"""CREATE TRIGGER shifts_booking_live_insert AFTER INSERT ON shifts_booking FOR EACH ROW
    WHEN NEW.status IN {LIVE} BEGIN {_SQLITE_ADD}
END;""",
    f"""CREATE TRIGGER shifts_booking_live_update_old
    AFTER UPDATE OF status, worker_id, start, "end" ON shifts_booking FOR EACH ROW
    WHEN OLD.status IN {LIVE} AND (OLD.status <> NEW.status OR OLD.worker_id <> NEW.worker_id
        OR OLD.start <> NEW.start OR OLD."end" <> NEW."end")
    BEGIN {_SQLITE_TAKE}
END;""",
    f"""CREATE TRIGGER shifts_booking_live_update_new
    AFTER UPDATE OF status, worker_id, start, "end" ON shifts_booking FOR EACH ROW
    WHEN NEW.status IN {LIVE} AND (OLD.status <> NEW.status OR OLD.worker_id <> NEW.worker_id
        OR OLD.start <> NEW.start OR OLD."end" <> NEW."end")
    BEGIN {_SQLITE_ADD}
END;""",
    f"""CREATE TRIGGER shifts_booking_live_delete AFTER DELETE ON shifts_booking FOR EACH ROW
    WHEN OLD.status IN {LIVE} BEGIN {_SQLITE_TAKE}
END;""",
]


def backfill_sql(vendor: str) -> str:
    """Every worker's live seconds from the history, into their record (made if missing)."""
    length = (
        'EXTRACT(EPOCH FROM "end" - start)::bigint'
        if vendor == "postgresql"
        else _SQLITE_LENGTH.format(row="shifts_booking")
    )
    return (
        "INSERT INTO shifts_workerrecord (worker_id, offers_accepted, offers_declined, "
        "offers_expired, shifts_attended, no_shows, live_seconds) "
        f"SELECT worker_id, 0, 0, 0, 0, 0, SUM({length}) FROM shifts_booking "
        f"WHERE status IN {LIVE} GROUP BY worker_id "
        "ON CONFLICT (worker_id) DO UPDATE SET live_seconds = excluded.live_seconds"
    )


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("LOCK TABLE shifts_booking IN SHARE MODE")
        schema_editor.execute(POSTGRESQL)
    else:
        for statement in SQLITE:
            schema_editor.execute(statement)
    schema_editor.execute(backfill_sql(vendor))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for event in ("insert", "update", "delete"):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS shifts_booking_live_{event} ON shifts_booking"
            )
        schema_editor.execute("DROP FUNCTION IF EXISTS shifts_booking_live_seconds()")
    else:
        for event in ("insert", "update_old", "update_new", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS shifts_booking_live_{event}")


class Migration(migrations.Migration):
    dependencies = [("shifts", "0008_booking_live_indexes")]

    operations = [
        # A plain ADD COLUMN on both databases: SQLite's way of adding a field through
        # Django (a new table copied and renamed) trips the record triggers on offers and
        # bookings, which name the table.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="workerrecord",
                    name="live_seconds",
                    field=models.BigIntegerField(db_default=0),
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE shifts_workerrecord "
                    "ADD COLUMN live_seconds bigint NOT NULL DEFAULT 0",
                    "ALTER TABLE shifts_workerrecord DROP COLUMN live_seconds",
                )
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
