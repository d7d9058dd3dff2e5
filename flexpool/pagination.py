"""Every API list comes in pages: ``?limit=&offset=``, answered as
``{"count", "next", "previous", "results"}``.

A list view sets ``pagination_class = Pagination`` (drf-spectacular then documents the
parameters and the envelope) and answers with ``page_response``. A limit or offset that is
not a number is ignored (the first page, 50 long); a limit above 200 is read as 200.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Pagination(LimitOffsetPagination):
    default_limit = DEFAULT_PAGE_SIZE
    max_limit = MAX_PAGE_SIZE

    def page_key(self, request: Request) -> str:
        """Which page ``request`` asks for, as the limit and offset it will get (for ETags
        and cache keys: ``?limit=abc`` and no limit are the same page)."""
        return f"{self.get_offset(request)}+{self.get_limit(request)}"


def page_response(
    *,
    view: APIView,
    request: Request,
    queryset: QuerySet[Any],
    serialize: Callable[[Sequence[Any]], Any],
) -> Response:
    """The page of ``queryset`` that ``request`` asks for, each row through ``serialize``
    (a function of the page's rows: ``lambda rows: S(rows, many=True).data``)."""
    paginator: Pagination = view.pagination_class()  # type: ignore[attr-defined]
    rows = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serialize(rows or []))
