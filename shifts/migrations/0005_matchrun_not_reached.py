from django.db import migrations, models


class Migration(migrations.Migration):
    """A run counts the workers it did not reach instead of listing their ids (a first
    wave's ~12,000 ids were a large JSON value written every wave). Runs recorded before
    keep their list under ``excluded["not_reached"]``; the pool's shift page shows either.
    The column has a database default, so code from before this migration can still
    record runs."""

    dependencies = [
        ("shifts", "0004_worker_record"),
    ]

    operations = [
        migrations.AddField(
            model_name="matchrun",
            name="not_reached",
            field=models.PositiveIntegerField(
                db_default=0,
                default=0,
                help_text="Workers who passed the SQL rules but were not examined: the wave "
                "had enough before reaching them (counted, not listed; later waves examine "
                "them).",
            ),
        ),
    ]
