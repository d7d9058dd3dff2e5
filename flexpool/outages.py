"""Graceful degradation: when the database or the broker cannot be reached, people get a
plain 503 with ``Retry-After`` (a page, or JSON for the API), never a 500.

``UnavailableMiddleware`` turns such an error raised by a view into that answer;
``server_error`` (the project's handler500) does the same for one raised in a middleware
(say, loading the session's user), and is the ordinary 500 page otherwise.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("flexpool.outages")

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    BrokerError,
    RedisConnectionError,
    RedisTimeoutError,
)

PAGE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>FlexPool is unavailable</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: arial, sans-serif; margin: 2em; max-width: 40em">
<main id="main-content"><h1>Sorry, FlexPool is unavailable for a moment</h1>
<p>Nothing you sent has been lost if you saw no confirmation: please try again in a minute.</p>
<p>If you posted a shift, check your shifts list before posting it again.</p></main>
</body></html>
"""


def is_outage(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    if isinstance(exc, UNAVAILABLE):
        return True
    # psycopg raises "connection already closed" style errors as DatabaseError subclasses.
    return isinstance(exc, DatabaseError) and "connect" in str(exc).lower()


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    log.warning(
        "503 for %s %s: %s: %s",
        request.method,
        request.path,
        type(exc).__name__,
        str(exc)[:200],
        extra={"path": request.path, "error": type(exc).__name__},
    )
    wants_json = request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )
    response: HttpResponse
    if wants_json:
        response = JsonResponse(
            {
                "detail": "The service is unavailable for a moment; try again shortly.",
                "retry_after": RETRY_AFTER_SECONDS,
            },
            status=503,
        )
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class UnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_outage(exception):
            return unavailable_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 if the error is an outage, else a plain 500 page."""
    exc = sys.exc_info()[1]
    if is_outage(exc):
        assert exc is not None
        return unavailable_response(request, exc)
    return HttpResponse(
        '<!DOCTYPE html><html lang="en-GB"><head><title>Server error</title></head><body>'
        "<h1>Sorry, something went wrong</h1><p>The team has been told.</p></body></html>",
        status=500,
        content_type="text/html; charset=utf-8",
    )
