"""On PostgreSQL each worker row also carries a summary of its weekly pattern and of its
approved documents, so an urgent evaluation can decide most workers' documents and
availability in the prefilter's own scan (``shifts.matching.rules``' screens) instead of
reading every worker's documents and weekly pattern in reach and judging them in Python.

- ``week_free``: the weekly pattern as minutes of the week (Monday 00:00 is 0), one
  ``int4multirange``: ``weekday * 1440 + start_minute`` to ``weekday * 1440 + end_minute``
  for each ``AvailabilityRule``, merged as the availability rule merges them.
- For the approved documents, taking per type the one that runs longest (latest expiry, no
  expiry latest of all; then the earliest issued):
  - ``doc_mask``: bit ``t - 1`` set for each type ``t`` held (types 1 to 63);
  - ``doc_multi``: the same bits for the types held by more than one approved document,
    whose validity only the documents themselves can say;
  - ``doc_from_latest`` / ``doc_until_earliest``: the latest issue date and the earliest
    expiry (``infinity`` for none) among those documents, so a worker whose documents are
    all valid through a shift is told at a glance;
  - ``doc_days``: per type ``t``, its issue date at ``2t - 1`` and expiry at ``2t``
    (``infinity`` / ``-infinity`` for a type not held): dates with no NULLs, so reading one
    type is one step, not a walk along the array.

Kept in step as ``role_ids`` is (migrations 0006, 0007): statement triggers on the two
tables recompute the workers touched, after locking them in id order so two transactions
changing one worker's documents at once cannot lose a change. The tables stay the truth;
the model does not know the columns and nothing else writes them. SQLite, the embedded
default, has neither: there every fact is read from the tables."""

from django.db import migrations

COLUMNS = """
ALTER TABLE workers_worker
    ADD COLUMN week_free int4multirange NOT NULL DEFAULT '{}',
    ADD COLUMN doc_mask bigint NOT NULL DEFAULT 0,
    ADD COLUMN doc_multi bigint NOT NULL DEFAULT 0,
    ADD COLUMN doc_from_latest date NOT NULL DEFAULT 'infinity',
    ADD COLUMN doc_until_earliest date NOT NULL DEFAULT '-infinity',
    ADD COLUMN doc_days date[] NOT NULL DEFAULT '{}';
"""

# Every summary column of the workers given, from the tables: one statement each, run with
# EXECUTE so it is planned for the array it is given (a seed or backfill passes every
# worker; a generic plan guessing a handful of rows joins them in quadratic time).
REFRESH = """
CREATE OR REPLACE FUNCTION {name}(touched bigint[]) RETURNS void AS $fn$
BEGIN
    EXECUTE $sql$ {body} $sql$ USING touched;
END;
$fn$ LANGUAGE plpgsql;
"""
WEEK_FREE = """
    UPDATE workers_worker w SET week_free = COALESCE((
        SELECT range_agg(int4range(r.weekday * 1440 + r.start_minute,
                                   r.weekday * 1440 + r.end_minute))
        FROM workers_availabilityrule r WHERE r.worker_id = w.id), '{}')
    FROM (SELECT DISTINCT id FROM unnest($1) AS u(id)) AS u
    WHERE w.id = u.id
"""
DOCUMENTS = """
    WITH best AS (
        SELECT * FROM (
            SELECT d.worker_id, d.doc_type_id AS t, d.issued_on AS f,
                   COALESCE(d.expires_on, 'infinity'::date) AS u,
                   count(*) OVER (PARTITION BY d.worker_id, d.doc_type_id) AS n,
                   row_number() OVER (PARTITION BY d.worker_id, d.doc_type_id
                                      ORDER BY COALESCE(d.expires_on, 'infinity'::date) DESC,
                                               d.issued_on, d.id) AS rank
            FROM workers_document d
            WHERE d.worker_id IN (SELECT unnest($1)) AND d.status = 'approved'
              AND d.doc_type_id BETWEEN 1 AND 63) AS held
        WHERE rank = 1
    ), summary AS (
        SELECT worker_id,
               bit_or(1::bigint << (t - 1)::int) AS mask,
               COALESCE(bit_or(1::bigint << (t - 1)::int) FILTER (WHERE n > 1), 0) AS multi,
               max(f) AS from_latest, min(u) AS until_earliest, max(t)::int AS top,
               array_agg(t ORDER BY t) AS ts, array_agg(f ORDER BY t) AS fs,
               array_agg(u ORDER BY t) AS us
        FROM best GROUP BY worker_id
    )
    UPDATE workers_worker w SET
        doc_mask = COALESCE(s.mask, 0), doc_multi = COALESCE(s.multi, 0),
        doc_from_latest = COALESCE(s.from_latest, 'infinity'::date),
        doc_until_earliest = COALESCE(s.until_earliest, '-infinity'::date),
        doc_days = COALESCE(ARRAY(
            SELECT CASE WHEN mod(k, 2) = 1
                        THEN COALESCE(s.fs[array_position(s.ts, ((k + 1) / 2)::bigint)],
                                      'infinity'::date)
                        ELSE COALESCE(s.us[array_position(s.ts, ((k + 1) / 2)::bigint)],
                                      '-infinity'::date) END
            FROM generate_series(1, 2 * s.top) AS k ORDER BY k), '{}')
    FROM (SELECT DISTINCT id FROM unnest($1) AS u(id)) AS u
    LEFT JOIN summary s ON s.worker_id = u.id
    WHERE w.id = u.id
"""

TRIGGER = """
CREATE OR REPLACE FUNCTION {table}_summary_sync() RETURNS trigger AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        touched := ARRAY(SELECT id FROM workers_worker);
    ELSIF TG_OP = 'UPDATE' THEN
        touched := ARRAY(SELECT worker_id FROM changed UNION SELECT worker_id FROM changed_before);
    ELSE
        touched := ARRAY(SELECT DISTINCT worker_id FROM changed);
    END IF;
    {lock}
    PERFORM {refresh}(touched);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
LOCK = "PERFORM 1 FROM workers_worker WHERE id IN (SELECT unnest(touched)) ORDER BY id FOR UPDATE;"
TRIGGERS = """
CREATE TRIGGER {table}_summary_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_summary_sync();
CREATE TRIGGER {table}_summary_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_summary_sync();
CREATE TRIGGER {table}_summary_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_summary_sync();
CREATE TRIGGER {table}_summary_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_summary_sync();
"""
SOURCES = (
    # (table, refresh function)
    ("workers_availabilityrule", "workers_week_free_refresh"),
    ("workers_document", "workers_documents_refresh"),
)


def sync_functions_sql(*, lock: bool = True) -> str:
    """The two trigger functions; ``lock=False`` is the unguarded version (for a control
    test that shows the race is real)."""
    return "".join(
        TRIGGER.format(table=table, refresh=refresh, lock=LOCK if lock else "")
        for table, refresh in SOURCES
    )


BACKFILL = """
SELECT workers_week_free_refresh(ARRAY(SELECT DISTINCT worker_id FROM workers_availabilityrule));
SELECT workers_documents_refresh(ARRAY(SELECT DISTINCT worker_id FROM workers_document));
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        COLUMNS
        + REFRESH.format(name="workers_week_free_refresh", body=WEEK_FREE)
        + REFRESH.format(name="workers_documents_refresh", body=DOCUMENTS)
        + sync_functions_sql()
    )
    for table, _refresh in SOURCES:
        schema_editor.execute(TRIGGERS.format(table=table))
    schema_editor.execute(BACKFILL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _refresh in SOURCES:
        for event in ("insert", "delete", "update", "truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_summary_{event} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_summary_sync()")
    schema_editor.execute(
        "DROP FUNCTION IF EXISTS workers_week_free_refresh(bigint[]); "
        "DROP FUNCTION IF EXISTS workers_documents_refresh(bigint[]); "
        "ALTER TABLE workers_worker DROP COLUMN week_free, DROP COLUMN doc_mask, "
        "DROP COLUMN doc_multi, DROP COLUMN doc_from_latest, DROP COLUMN doc_until_earliest, "
        "DROP COLUMN doc_days"
    )


class Migration(migrations.Migration):
    dependencies = [("workers", "0008_worker_home_point")]
    operations = [migrations.RunPython(forwards, backwards)]
