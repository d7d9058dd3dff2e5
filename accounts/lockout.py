"""How django-axes answers once an account is locked after failed sign-ins: the same lock
for the sign-in form and the API token endpoint (both call ``authenticate``), answered
429 — a GOV.UK page for the form, JSON for the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

MESSAGE = "Too many failed attempts to sign in. Wait a few minutes, then try again."


def axes_lockout_response(
    request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": MESSAGE}, status=429, headers={"Retry-After": "900"})
    page = render(request, "429.html", status=429)
    page["Retry-After"] = "900"
    return page


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in attempt is for: the e-mail address, lower case (the form and
    the API both pass it to ``authenticate`` as ``email``)."""
    value = (credentials or {}).get("email") or request.POST.get("login") or ""
    return str(value).strip().lower()
