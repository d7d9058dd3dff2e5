"""Static files in production: WhiteNoise's compressed, hashed files, each file's URL
worked out once per process. The manifest the URLs come from is read when the process
starts and does not change while it runs, and every page asks for the same half-dozen
URLs (style sheets, scripts, icons), each costing about a tenth of a reversed URL's
parsing and joining."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    KEEP_AT_MOST = 2000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or name is None or settings.DEBUG:  # DEBUG: the names as they are
            return str(super().url(name, force))
        kept = self._urls.get(name)
        if kept is None:
            kept = str(super().url(name, force))  # a file not in the manifest raises, unkept
            if len(self._urls) < self.KEEP_AT_MOST:
                self._urls[name] = kept
        return kept

    def post_process(self, *args: Any, **kwargs: Any) -> Any:
        self._urls.clear()  # collectstatic is rewriting the manifest
        yield from super().post_process(*args, **kwargs)
        self._urls.clear()
