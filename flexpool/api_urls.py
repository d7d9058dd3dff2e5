"""Every /api/v1/ route, gathered from the apps that own them."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("shifts.api_urls")),
    path("", include("reports.api_urls")),
]
