"""Django's admin behind the same second factor as the pool's pages.

The admin's own password-only sign-in form is never used: signing in goes through allauth
(which asks staff with an authenticator for their code); staff without one are sent to
enrol; anyone signed in who is not staff gets 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from accounts.access import has_second_factor


class SecondFactorAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and has_second_factor(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
        if user.is_active and user.is_staff and not has_second_factor(user):
            return redirect("mfa_activate_totp")
        if self.has_permission(request):
            return redirect(request.GET.get("next") or reverse("admin:index"))
        raise Http404

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return redirect("account_logout")
