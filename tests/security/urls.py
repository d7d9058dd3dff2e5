"""Every URL pattern the project serves, read from the resolver (shared by the access
matrix and the data-minimisation walk, so a new URL is seen by both)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    path: str  # as written in urls.py, e.g. "api/v1/offers/<int:offer_id>/accept/"
    name: str  # "namespace:name" or "" for unnamed patterns
    callback: object

    def url(self, **values: object) -> str:
        import re

        def fill(match: re.Match[str]) -> str:
            key = match.group(2)
            if key not in values:
                raise KeyError(f"no value for <{key}> in {self.path}")
            return str(values[key])

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, self.path)

    @property
    def params(self) -> list[str]:
        import re

        return [m.group(2) for m in re.finditer(r"<(?:(\w+):)?(\w+)>", self.path)]


def routes() -> Iterator[Route]:
    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            pattern = str(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = entry.namespace or ""
                inner = f"{namespace}:{ns}".strip(":") if ns else namespace
                yield from walk(entry, prefix + pattern, inner)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}".strip(":") if entry.name else ""
                yield Route(path=prefix + pattern, name=name, callback=entry.callback)

    yield from walk(get_resolver(), "", "")
