"""django-allauth in FlexPool's own name: its e-mails carry the service's name and
address (``SITE_URL``), not the host name the request happened to use."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        super().send_mail(template_prefix, email, {**context, "site_url": settings.SITE_URL})
