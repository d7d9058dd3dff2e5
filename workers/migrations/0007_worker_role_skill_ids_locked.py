"""The triggers that keep ``workers_worker.role_ids`` / ``skill_ids`` in step with the link
tables (migration 0006) lock the workers they touch before recomputing their arrays.

Without the lock two transactions changing one worker's roles at once could lose one
change: the second trigger's UPDATE waits for the first transaction's row lock, then
recomputes the array from the link table as its statement saw it, before the first
committed. Now each trigger first locks the workers (in id order, so two triggers never
wait for each other both ways) and recomputes in a statement of its own, which reads the
link table as committed once the locks are held."""

from django.db import migrations

LINKS = (
    # (array column, link table, the link's id column)
    ("role_ids", "workers_worker_roles", "role_id"),
    ("skill_ids", "workers_worker_skills", "skill_id"),
)

FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_sync() RETURNS trigger AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE workers_worker SET {column} = '{{}}' WHERE {column} <> '{{}}';
        RETURN NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        touched := ARRAY(SELECT worker_id FROM changed UNION SELECT worker_id FROM changed_before);
    ELSE
        touched := ARRAY(SELECT worker_id FROM changed);
    END IF;
    {lock}
    UPDATE workers_worker w SET {column} = ARRAY(
        SELECT l.{link_id} FROM {table} l WHERE l.worker_id = w.id ORDER BY l.{link_id})
    WHERE w.id = ANY(touched);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
LOCK = "PERFORM 1 FROM workers_worker WHERE id = ANY(touched) ORDER BY id FOR UPDATE;"


def sync_functions_sql(*, lock: bool = True) -> str:
    """The two trigger functions; ``lock=False`` is the unguarded version (for a control
    test that shows the race is real)."""
    return "".join(
        FUNCTION.format(column=column, table=table, link_id=link_id, lock=LOCK if lock else "")
        for column, table, link_id in LINKS
    )


UNLOCKED = """
CREATE OR REPLACE FUNCTION {table}_sync() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE workers_worker SET {column} = '{{}}' WHERE {column} <> '{{}}';
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE workers_worker w SET {column} = ARRAY(
            SELECT l.{link_id} FROM {table} l WHERE l.worker_id = w.id ORDER BY l.{link_id})
        WHERE w.id IN (SELECT worker_id FROM changed UNION SELECT worker_id FROM changed_before);
    ELSE
        UPDATE workers_worker w SET {column} = ARRAY(
            SELECT l.{link_id} FROM {table} l WHERE l.worker_id = w.id ORDER BY l.{link_id})
        WHERE w.id IN (SELECT worker_id FROM changed);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(sync_functions_sql())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column, table, link_id in LINKS:
            schema_editor.execute(UNLOCKED.format(column=column, table=table, link_id=link_id))


class Migration(migrations.Migration):
    dependencies = [("workers", "0006_worker_role_skill_ids")]
    operations = [migrations.RunPython(forwards, backwards)]
