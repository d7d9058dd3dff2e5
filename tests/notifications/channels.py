"""Channels for tests: one that fails on demand (as SMTP does with an OSError)."""

from __future__ import annotations

from notifications.models import Notification


class FlakyBackend:
    """The "console" channel (every person has it). Fails for the people in ``failing``,
    or for the next ``fail_next`` sends; records every successful send in ``sent``."""

    channel = "console"
    failing: set[str] = set()
    fail_next = 0
    sent: list[int] = []

    def send(self, notification: Notification) -> None:
        cls = type(self)
        if notification.user.email in cls.failing or cls.fail_next > 0:
            cls.fail_next = max(cls.fail_next - 1, 0)
            raise OSError("connection refused by the mail server")
        cls.sent.append(notification.pk)

    @classmethod
    def reset(cls) -> None:
        cls.failing = set()
        cls.fail_next = 0
        cls.sent = []
