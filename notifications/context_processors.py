from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from notifications.selectors import notifications_unread_count


def worker_messages(request: HttpRequest) -> dict[str, object]:
    """For a worker's pages: the unread count beside "Messages" in the menu, and the
    public key the "Get offers on this phone" switch needs (empty while push is off)."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    # Only on the worker pages (the worker_required views have already found the worker,
    # so this costs one count and no second look-up of who the person is).
    if user is None or not user.is_authenticated or match is None or match.app_name != "workers":
        return {}
    return {
        "unread_messages": notifications_unread_count(user=user),
        "push_public_key": settings.WEBPUSH_VAPID_PUBLIC_KEY
        if settings.WEBPUSH_VAPID_PRIVATE_KEY
        else "",
    }
