"""API token authentication: DRF's, with each role's record (``accounts.access``) loaded
with the user in the token's one query, so the access check asks nothing more."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.access import access_related


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        # As DRF's own, with the role records joined in.
        model: Any = self.get_model()
        try:
            token = model.objects.select_related("user", *access_related("user__")).get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
