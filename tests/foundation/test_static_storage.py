"""Production's static storage keeps each file's URL once worked out from the manifest
(flexpool/storage.py), and answers as WhiteNoise's does: the hashed name, and an error for
a file the manifest does not list."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from flexpool.storage import StaticStorage


def _storage(tmp_path) -> StaticStorage:
    manifest = {"paths": {"js/worker.js": "js/worker.abc123.js"}, "version": "1.1", "hash": "x"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticStorage(location=str(tmp_path), base_url="/static/")


@override_settings(DEBUG=False)
def test_a_file_s_url_is_its_hashed_name_each_time(tmp_path):
    storage = _storage(tmp_path)
    assert storage.url("js/worker.js") == "/static/js/worker.abc123.js"
    assert storage.url("js/worker.js") == "/static/js/worker.abc123.js"


@override_settings(DEBUG=False)
def test_a_file_missing_from_the_manifest_fails_every_time(tmp_path):
    storage = _storage(tmp_path)
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("js/missing.js")
