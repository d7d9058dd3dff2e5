"""Delivery channels for the chaos suite (scripts/chaos.py), named in its workers'
NOTIFICATION_BACKENDS: each successful send appends "<notification id> <channel>" to the
file CHAOS_SENT_LOG (one short O_APPEND write, so concurrent processes never interleave),
which is how the suite counts messages lost or sent twice. The e-mail channel sleeps
while the file CHAOS_SLOW_FILE holds a number of seconds (the "slow channel" fault)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from notifications.models import Notification


def _record(notification: Notification, channel: str) -> None:
    line = f"{notification.pk} {channel}\n".encode()
    fd = os.open(os.environ["CHAOS_SENT_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class ConsoleRecording:
    channel = "console"

    def send(self, notification: Notification) -> None:
        _record(notification, self.channel)


class EmailRecording:
    channel = "email"

    def send(self, notification: Notification) -> None:
        slow = Path(os.environ.get("CHAOS_SLOW_FILE", "/nonexistent"))
        with contextlib.suppress(OSError, ValueError):
            time.sleep(float(slow.read_text() or 0))
        _record(notification, self.channel)
