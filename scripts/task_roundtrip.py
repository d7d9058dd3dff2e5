"""Send one notification through Celery and wait until a worker has delivered it.

Proves the broker and a running worker carry a real task end to end (embedded filesystem
broker under `make run`, Redis in production). Uses the same settings as the running
system, so run it with the same environment. Exit status 0 when delivered in time."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexpool.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from notifications.models import Notification  # noqa: E402
from notifications.services import notification_send  # noqa: E402


def main(timeout: float) -> int:
    user, _ = User.objects.get_or_create(email="roundtrip@flexpool.test")
    with transaction.atomic():
        notification = notification_send(
            user=user, kind="roundtrip", subject="Round trip", body="A task through Celery."
        )
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        notification.refresh_from_db()
        if notification.delivered_at is not None:
            took = time.monotonic() - started
            print(f"task round trip: notification {notification.pk} delivered in {took:.1f} s")
            Notification.objects.filter(pk=notification.pk).delete()
            return 0
        time.sleep(0.5)
    print(f"task round trip: notification {notification.pk} not delivered in {timeout:.0f} s")
    return 1


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0))
