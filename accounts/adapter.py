"""django-allauth in FlexPool's own name: its e-mails carry the service's name and
address (``SITE_URL``), not the host name the request happened to use; and its rate
limits key on the client's address from our own proxies (``accounts.client_ip``), where
allauth's default takes the left-most X-Forwarded-For entry, which any client can write."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts.client_ip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        super().send_mail(template_prefix, email, {**context, "site_url": settings.SITE_URL})

    def get_client_ip(self, request: Any) -> str:
        return client_ip(request)
