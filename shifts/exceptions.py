"""Errors the shift services raise that callers are expected to show to people."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "filled": "This shift has already been filled.",
    "not_pending": "This offer is no longer open.",
    "clash": "You already have a booking at that time.",
    "expired": "This offer has expired.",
    "not_eligible": "You cannot take this shift.",
}


class OfferUnavailable(Exception):
    """An offer cannot be accepted (or declined) any more.

    ``code`` is one of "filled", "not_pending", "clash", "expired" or "not_eligible" (a
    rule that changed since the offer was sent); ``message`` is plain
    English for the worker.
    """

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "This offer is no longer available.")
        super().__init__(self.message)
