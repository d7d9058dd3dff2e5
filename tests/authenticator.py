"""What a person's authenticator app shows, for tests that sign in with a code.

A code is good only in its own 30-second window (allauth's tolerance is 0, as it should be
for us). A test that reads the code a moment before the window turns and submits it a
moment after is refused, so `code_now` waits for a fresh window when the current one is
nearly spent: long enough for a busy machine to submit it in the same window."""

from __future__ import annotations

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

MARGIN_SECONDS = 10


def code_now(secret: str) -> str:
    period = app_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < MARGIN_SECONDS:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))
