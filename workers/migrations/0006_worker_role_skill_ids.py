"""On PostgreSQL each worker row also carries the ids of its roles and skills
(``role_ids``, ``skill_ids``: sorted bigint arrays), so matching's role and skills rules
(``shifts.matching.rules._has_role`` / ``_has_skills``) are a test on the row already read
(``role_ids @> ARRAY[3]``) instead of a probe of another table for every worker in range.

The arrays are kept in step in one place, these triggers on the two link tables: after any
INSERT, UPDATE or DELETE (a service's ``roles.set``, the admin, the lab, the demo's COPY)
each worker touched gets its arrays recomputed from the link table, once per statement; a
TRUNCATE empties them. The link tables stay the truth; the model does not know the columns
and nothing else writes them. SQLite, the embedded default, has neither: there the rules
ask the link tables."""

from django.db import migrations

LINKS = (
    # (array column, link table, the link's id column)
    ("role_ids", "workers_worker_roles", "role_id"),
    ("skill_ids", "workers_worker_skills", "skill_id"),
)

CREATE = """
ALTER TABLE workers_worker ADD COLUMN {column} bigint[] NOT NULL DEFAULT '{{}}';
UPDATE workers_worker w SET {column} = ARRAY(
    SELECT l.{link_id} FROM {table} l WHERE l.worker_id = w.id ORDER BY l.{link_id})
    WHERE EXISTS (SELECT 1 FROM {table} l WHERE l.worker_id = w.id);
CREATE FUNCTION {table}_sync() RETURNS trigger AS $$
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
CREATE TRIGGER {table}_sync_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_sync();
CREATE TRIGGER {table}_sync_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_sync();
CREATE TRIGGER {table}_sync_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_sync();
CREATE TRIGGER {table}_sync_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_sync();
"""
DROP = """
DROP TRIGGER IF EXISTS {table}_sync_insert ON {table};
DROP TRIGGER IF EXISTS {table}_sync_delete ON {table};
DROP TRIGGER IF EXISTS {table}_sync_update ON {table};
DROP TRIGGER IF EXISTS {table}_sync_truncate ON {table};
DROP FUNCTION IF EXISTS {table}_sync();
ALTER TABLE workers_worker DROP COLUMN IF EXISTS {column};
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column, table, link_id in LINKS:
            schema_editor.execute(CREATE.format(column=column, table=table, link_id=link_id))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column, table, _link_id in LINKS:
            schema_editor.execute(DROP.format(column=column, table=table))


class Migration(migrations.Migration):
    dependencies = [("workers", "0005_worker_home_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
