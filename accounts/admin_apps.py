"""Installs ``accounts.admin_site.SecondFactorAdminSite`` as ``django.contrib.admin.site``
(kept apart from the site itself: an app config module must import no models)."""

from django.contrib.admin.apps import AdminConfig


class SecondFactorAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.SecondFactorAdminSite"
