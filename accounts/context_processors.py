from __future__ import annotations

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, object]:
    """Which area of the product the signed-in person belongs to, for the header links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_area": None}
    if user.is_coordinator:
        area = "coordinator"
    elif user.is_provider_member:
        area = "provider"
    elif user.is_worker:
        area = "worker"
    else:
        area = None
    return {"nav_area": area}
