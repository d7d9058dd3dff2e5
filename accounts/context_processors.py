from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, object]:
    """Which area of the product the signed-in person belongs to, for the header links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_area": None}
    # One query for the three roles, rather than one per role.
    roles = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list("coordinator__id", "provider_membership__id", "worker__id")
        .first()
    )
    coordinator, member, worker = roles or (None, None, None)
    if coordinator is not None:
        area = "coordinator"
    elif member is not None:
        area = "provider"
    elif worker is not None:
        area = "worker"
    else:
        area = None
    return {"nav_area": area}
