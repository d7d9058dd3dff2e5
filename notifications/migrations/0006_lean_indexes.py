import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Messages lose the user's own index (the index (user, -created_at) leads with it), and
    ``deliver_after`` is indexed only where it is set (the few messages held back for quiet
    hours; the sweep asks for ``deliver_after <= now``): a wave writes a thousand messages
    at once and each paid for both. Only the indexes change (Django's own ``AlterField``
    would drop and re-add the user's foreign key, checking every message again); by name, as
    Django made them."""

    dependencies = [
        ("notifications", "0005_offer_reply_codes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="deliver_after",
                    field=models.DateTimeField(
                        blank=True,
                        help_text="Held back until then (the person's quiet hours); a "
                        "periodic sweep sends it.",
                        null=True,
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS notifications_notification_user_id_b5e8c0ff",
                    "CREATE INDEX notifications_notification_user_id_b5e8c0ff "
                    "ON notifications_notification (user_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS notifications_notification_deliver_after_809cfd03",
                    "CREATE INDEX notifications_notification_deliver_after_809cfd03 "
                    "ON notifications_notification (deliver_after)",
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("deliver_after__isnull", False)),
                fields=["deliver_after"],
                name="notification_held_back",
            ),
        ),
    ]
