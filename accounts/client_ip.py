"""The client's address, for lock-outs and rate limits: from ``TRUSTED_PROXY_COUNT`` proxies
we run ourselves, never from whatever ``X-Forwarded-For`` a client sends.

Each trusted proxy appends the address it received the request from to X-Forwarded-For
(nginx's ``$proxy_add_x_forwarded_for``, a cloud load balancer), so with N trusted proxies
the client is the N-th entry from the right; anything further left was written by the
client and is ignored. With no proxies (the default) the address is ``REMOTE_ADDR``.
This is the semantics of DRF's ``NUM_PROXIES`` and Werkzeug's ``ProxyFix(x_for=N)``.
django-ipware's ``proxy_count`` counts proxies whose own addresses appear in the header
(and with none takes the left-most, client-written entry), which does not fit that setup.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(settings.TRUSTED_PROXY_COUNT)
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < proxies:
        # Fewer hops than our proxies add: the request did not come through them all.
        return remote
    return forwarded[-proxies]
