"""Coordinators see personal data about the whole pool, so they must use a second factor.

A signed-in coordinator with no authenticator is sent to enrol (TOTP) before any page
under /pool/ or the stats API answers; allauth then asks for the code at every sign-in.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

PROTECTED_PREFIXES = ("/pool/", "/api/v1/stats/")


def coordinator_needs_second_factor(user: object) -> bool:
    from allauth.mfa.models import Authenticator

    if not getattr(user, "is_authenticated", False) or not hasattr(user, "coordinator"):
        return False
    return not Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


class CoordinatorMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(PROTECTED_PREFIXES) and coordinator_needs_second_factor(
            request.user
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Set up two-factor authentication before using the API."},
                    status=403,
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
