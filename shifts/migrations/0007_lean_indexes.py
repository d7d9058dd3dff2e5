import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Offers lose the indexes that others already cover: the shift's (the unique constraint
    (shift, worker) leads with it), the worker's ((worker, status)) and the status's two
    ((status, expires_at)). An urgent wave inserts a thousand offers at once and each pays
    for every index. Only the indexes are dropped (Django's own ``AlterField`` would drop and
    re-add the foreign keys, checking every offer again); by name, as Django made them."""

    dependencies = [
        ("shifts", "0006_matchrun_searched_km"),
        ("workers", "0007_worker_role_skill_ids_locked"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="offer",
                    name="shift",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="offers",
                        to="shifts.shiftrequest",
                    ),
                ),
                migrations.AlterField(
                    model_name="offer",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("accepted", "Accepted"),
                            ("declined", "Declined"),
                            ("expired", "Expired"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                migrations.AlterField(
                    model_name="offer",
                    name="worker",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="offers",
                        to="workers.worker",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS shifts_offer_shift_id_76220fac",
                    "CREATE INDEX shifts_offer_shift_id_76220fac ON shifts_offer (shift_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS shifts_offer_worker_id_c1d939e9",
                    "CREATE INDEX shifts_offer_worker_id_c1d939e9 ON shifts_offer (worker_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS shifts_offer_status_03bff102",
                    "CREATE INDEX shifts_offer_status_03bff102 ON shifts_offer (status)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS shifts_offer_status_03bff102_like",
                    migrations.RunSQL.noop,
                ),
            ],
        ),
    ]
