"""On PostgreSQL a GiST index on each worker's home as a point (longitude, latitude), so a
first wave can ask for the workers inside a small box around a site
(``point(longitude, latitude) <@ box``) and read only those, instead of every worker
within the largest travel radius (``shifts.matching.rules._near_box``). The btree on
(latitude, longitude) can only bound the latitude: a strip across the whole borough.

Built-in geometry: no extension for a council's operators to install. SQLite, the embedded
default, has no such index and no near-first search."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS worker_home_point ON workers_worker "
    "USING gist (point(longitude, latitude))"
)
DROP = "DROP INDEX IF EXISTS worker_home_point"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("workers", "0007_worker_role_skill_ids_locked")]
    operations = [migrations.RunPython(forwards, backwards)]
