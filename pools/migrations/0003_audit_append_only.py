"""On PostgreSQL the audit log refuses UPDATE and DELETE outright (only the actor may be
cleared, when that user account is deleted), whatever code or admin tries it."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION pools_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.actor_id IS NULL
       AND (NEW.pool_id, NEW.action, NEW.target_type, NEW.target_id, NEW.target_label,
            NEW.reason, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.pool_id, OLD.action, OLD.target_type, OLD.target_id, OLD.target_label,
            OLD.reason, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pools_auditentry_append_only
    BEFORE UPDATE OR DELETE ON pools_auditentry
    FOR EACH ROW EXECUTE FUNCTION pools_auditentry_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS pools_auditentry_append_only ON pools_auditentry;
DROP FUNCTION IF EXISTS pools_auditentry_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("pools", "0002_documentreminder")]
    operations = [migrations.RunPython(forward, backward)]
