from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest

# The header's areas in order: the first role the person holds names their area.
AREAS = (("coordinator", "coordinator"), ("provider_membership", "provider"), ("worker", "worker"))


@cache
def _roles_sql() -> str:
    """One row saying which of the three role records exist for a user. Written out, not
    built by the ORM: it runs on every page, where building the query cost ten times
    running it."""
    model = get_user_model()
    exists = []
    for name, _ in AREAS:
        relation = model._meta.get_field(name)
        table = relation.related_model._meta.db_table  # type: ignore[union-attr]
        column = relation.field.column  # type: ignore[union-attr]
        exists.append(f'EXISTS (SELECT 1 FROM "{table}" WHERE "{column}" = %s)')
    return "SELECT " + ", ".join(exists)


def navigation(request: HttpRequest) -> dict[str, object]:
    """Which area of the product the signed-in person belongs to, for the header links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_area": None}
    relations = [user._meta.get_field(name) for name, _ in AREAS]
    if all(relation.is_cached(user) for relation in relations):  # loaded with the user
        held = [getattr(user, name, None) is not None for name, _ in AREAS]
    else:
        with connection.cursor() as cursor:
            cursor.execute(_roles_sql(), [user.pk] * len(AREAS))
            held = list(cursor.fetchone() or (False,) * len(AREAS))
    return {
        "nav_area": next((area for (_, area), has in zip(AREAS, held, strict=True) if has), None)
    }
