"""Sign in to a running FlexPool as each demo login, through the real sign-in pages.

    python scripts/demo_logins_check.py http://127.0.0.1:8000

The coordinator's second step is answered with a TOTP code computed from the demo secret.
Prints where each login lands; exit status 0 when all three signed in. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.cookiejar
import re
import struct
import sys
import time
import urllib.parse
import urllib.request

PASSWORD = "flexpool-demo"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
LOGINS = ["coordinator@flexpool.test", "provider@flexpool.test", "worker@flexpool.test"]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def totp_now(secret: str, step: int = 30, digits: int = 6) -> str:
    """RFC 6238: HMAC-SHA1 of the time step, dynamically truncated."""
    key = base64.b32decode(secret, casefold=True)
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def post_form(opener: urllib.request.OpenerDirector, url: str, fields: dict[str, str]) -> str:
    page = opener.open(url, timeout=30)
    match = TOKEN.search(page.read().decode())
    if match is None:
        raise RuntimeError(f"no CSRF token on {url}")
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": match.group(1), **fields}).encode()
    request = urllib.request.Request(url, data=data, headers={"Referer": url})
    return str(opener.open(request, timeout=30).geturl())


def sign_in(base: str, email: str) -> str:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    landed = post_form(opener, f"{base}/accounts/login/", {"login": email, "password": PASSWORD})
    if "/accounts/2fa/authenticate" in landed:
        landed = post_form(opener, landed, {"code": totp_now(TOTP_SECRET)})
    if "/accounts/" in urllib.parse.urlparse(landed).path:
        raise RuntimeError(f"{email} did not get past {landed}")
    return landed


def main(base: str) -> int:
    failed = 0
    for email in LOGINS:
        try:
            print(f"{email}: signed in, landed on {sign_in(base.rstrip('/'), email)}")
        except Exception as exc:  # noqa: BLE001 - report every login, then fail
            print(f"{email}: FAILED: {exc}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
