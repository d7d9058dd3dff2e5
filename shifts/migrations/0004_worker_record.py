"""Each worker's offer answers and attendance, counted (``WorkerRecord``), so matching's
reliability reads one row per worker instead of counting the worker's whole history on
every wave.

The database keeps the counts: on PostgreSQL and SQLite alike, triggers on
``shifts_offer`` and ``shifts_booking`` add one to a column when a row enters its status
(inserted with it, or updated to it, or moved to the worker) and take one away when a
row leaves it (updated away, or deleted). Every path that writes offers and bookings
counts that way: the services, bulk updates, cascades, the demo builder, the admin. The
counts are then written from the history once (the backfill), in the same transaction.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, trigger name stem, {status: column}).
COUNTED = (
    (
        "shifts_offer",
        "offer",
        {"accepted": "offers_accepted", "declined": "offers_declined", "expired": "offers_expired"},
    ),
    ("shifts_booking", "booking", {"attended": "shifts_attended", "no_show": "no_shows"}),
)
COLUMNS = ("offers_accepted", "offers_declined", "offers_expired", "shifts_attended", "no_shows")


def _in(statuses):
    return "(" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _deltas(counted, row, sign):
    """``col = col + (ROW.status = 'x')`` for each counted column (booleans as 0/1)."""
    return ", ".join(
        f"{col} = {col} {sign} (CASE WHEN {row}.status = '{status}' THEN 1 ELSE 0 END)"
        for status, col in counted.items()
    )


def postgresql_create():
    sql = []
    for table, stem, counted in COUNTED:
        statuses = _in(counted)
        add = ", ".join(f"{c} = r.{c} + EXCLUDED.{c}" for c in counted.values())
        values = ", ".join(f"CASE WHEN NEW.status = '{s}' THEN 1 ELSE 0 END" for s in counted)
        sql.append(
            f"""
CREATE FUNCTION shifts_{stem}_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status IN {statuses} THEN
        UPDATE shifts_workerrecord SET {_deltas(counted, "OLD", "-")}
        WHERE worker_id = OLD.worker_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status IN {statuses} THEN
        INSERT INTO shifts_workerrecord AS r (worker_id, {", ".join(counted.values())})
        VALUES (NEW.worker_id, {values})
        ON CONFLICT (worker_id) DO UPDATE SET {add};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER shifts_{stem}_record_insert AFTER INSERT ON {table} FOR EACH ROW
    WHEN (NEW.status IN {statuses}) EXECUTE FUNCTION shifts_{stem}_record();
CREATE TRIGGER shifts_{stem}_record_update AFTER UPDATE OF status, worker_id ON {table}
    FOR EACH ROW WHEN ((OLD.status IN {statuses} OR NEW.status IN {statuses})
        AND (OLD.status <> NEW.status OR OLD.worker_id <> NEW.worker_id))
    EXECUTE FUNCTION shifts_{stem}_record();
CREATE TRIGGER shifts_{stem}_record_delete AFTER DELETE ON {table} FOR EACH ROW
    WHEN (OLD.status IN {statuses}) EXECUTE FUNCTION shifts_{stem}_record();
"""
        )
    return sql


def sqlite_create():
    sql = []
    for table, stem, counted in COUNTED:
        statuses = _in(counted)
        add = f"""
    INSERT OR IGNORE INTO shifts_workerrecord (worker_id, {", ".join(COLUMNS)})
        VALUES (NEW.worker_id, 0, 0, 0, 0, 0);
    UPDATE shifts_workerrecord SET {_deltas(counted, "NEW", "+")}
        WHERE worker_id = NEW.worker_id;"""
        take = f"""
    UPDATE shifts_workerrecord SET {_deltas(counted, "OLD", "-")}
        WHERE worker_id = OLD.worker_id;"""
        sql += [
            f"""CREATE TRIGGER shifts_{stem}_record_insert AFTER INSERT ON {table} FOR EACH ROW
    WHEN NEW.status IN {statuses} BEGIN {add}
END;""",
            f"""CREATE TRIGGER shifts_{stem}_record_update AFTER UPDATE OF status, worker_id
    ON {table} FOR EACH ROW
    WHEN (OLD.status IN {statuses} OR NEW.status IN {statuses})
        AND (OLD.status <> NEW.status OR OLD.worker_id <> NEW.worker_id)
    BEGIN {take} {add}
END;""",
            f"""CREATE TRIGGER shifts_{stem}_record_delete AFTER DELETE ON {table} FOR EACH ROW
    WHEN OLD.status IN {statuses} BEGIN {take}
END;""",
        ]
    return sql


# The counts from the history (the same statement as ``worker_records_recount``).
BACKFILL = """
INSERT INTO shifts_workerrecord (worker_id, offers_accepted, offers_declined, offers_expired,
                                 shifts_attended, no_shows)
SELECT worker_id, SUM(a), SUM(d), SUM(e), SUM(t), SUM(n) FROM (
    SELECT worker_id,
           CASE WHEN status = 'accepted' THEN 1 ELSE 0 END AS a,
           CASE WHEN status = 'declined' THEN 1 ELSE 0 END AS d,
           CASE WHEN status = 'expired' THEN 1 ELSE 0 END AS e, 0 AS t, 0 AS n
    FROM shifts_offer WHERE status IN ('accepted', 'declined', 'expired')
    UNION ALL
    SELECT worker_id, 0, 0, 0,
           CASE WHEN status = 'attended' THEN 1 ELSE 0 END,
           CASE WHEN status = 'no_show' THEN 1 ELSE 0 END
    FROM shifts_booking WHERE status IN ('attended', 'no_show')
) AS history GROUP BY worker_id
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = postgresql_create()
        # No offer or booking may change between the backfill and the triggers.
        schema_editor.execute("LOCK TABLE shifts_offer, shifts_booking IN SHARE MODE")
    else:
        statements = sqlite_create()
    for statement in statements:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def backwards(apps, schema_editor):
    for _table, stem, _counted in COUNTED:
        for event in ("insert", "update", "delete"):
            table = _table if schema_editor.connection.vendor == "postgresql" else ""
            on = f" ON {table}" if table else ""
            schema_editor.execute(f"DROP TRIGGER IF EXISTS shifts_{stem}_record_{event}{on}")
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS shifts_{stem}_record()")


class Migration(migrations.Migration):
    dependencies = [
        ("shifts", "0003_booking_worker_status"),
        ("workers", "0005_worker_home_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkerRecord",
            fields=[
                (
                    "worker",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="record",
                        serialize=False,
                        to="workers.worker",
                    ),
                ),
                ("offers_accepted", models.IntegerField(db_default=0)),
                ("offers_declined", models.IntegerField(db_default=0)),
                ("offers_expired", models.IntegerField(db_default=0)),
                ("shifts_attended", models.IntegerField(db_default=0)),
                ("no_shows", models.IntegerField(db_default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
