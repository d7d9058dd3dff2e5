from __future__ import annotations

import threading
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from kombu import Connection

from accounts.access import Who, allow


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, f"{type(exc).__name__}: {exc}"[:200]


_brokers: dict[str, redis.Redis] = {}
_brokers_lock = threading.Lock()


def _redis_broker(url: str) -> redis.Redis:
    """One client (and so one connection pool) per broker URL for the whole process: a
    health check borrows a connection that is already open instead of opening its own."""
    client = _brokers.get(url)
    if client is None:
        with _brokers_lock:
            client = _brokers.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
                )
                _brokers[url] = client
    return client


def _broker_ok() -> tuple[bool, str]:
    url = settings.CELERY_BROKER_URL
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    try:
        if url.startswith("filesystem://"):
            # The embedded broker is a folder: it is up when the folder can be written.
            folder = Path(str(options["data_folder_in"]))
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".healthz"
            probe.write_text("ok")
            probe.unlink()
            return True, "filesystem"
        if url.startswith(("redis://", "rediss://")):
            _redis_broker(url).ping()
            return True, url.split(":", 1)[0]
        with Connection(url, connect_timeout=2, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True, url.split(":", 1)[0]
    except Exception as exc:  # noqa: BLE001
        return False, f"{type(exc).__name__}: {exc}"[:200]


@allow(Who.PUBLIC)
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker status as JSON; 503 when either is down."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    ok = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if ok else "error",
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
        },
        status=200 if ok else 503,
    )


@allow(Who.PUBLIC)
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their own area; strangers see what FlexPool is."""
    user = request.user
    if user.is_authenticated:
        if user.is_coordinator:
            return redirect("pools:board")
        if user.is_provider_member:
            return redirect("providers:dashboard")
        if user.is_worker:
            return redirect("workers:offers")
        return redirect("workers:apply")
    return render(request, "home.html", {"site_url": settings.SITE_URL})


@allow(Who.SIGNED_IN)
def no_area(request: HttpRequest) -> HttpResponse:
    return render(request, "no_area.html")
