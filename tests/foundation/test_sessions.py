"""Sessions live in PostgreSQL and are read through the cache (flexpool/sessions.py): a
signed-in request reads no session row, a session whose cached copy is gone is read from
the database, signing out ends it in both, and no cached copy outlives
SESSION_CACHE_SECONDS."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from flexpool.sessions import SessionStore

pytestmark = pytest.mark.django_db

PAGE = "/worker/offers/"


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_signed_in_request_reads_its_session_from_the_cache_not_the_database(worker):
    client = _signed_in(worker.user)
    assert client.get(PAGE).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(PAGE).status_code == 200
    assert not [q for q in ctx.captured_queries if "django_session" in q["sql"]]


def test_a_session_whose_cached_copy_is_gone_is_read_from_the_database(worker):
    client = _signed_in(worker.user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    cache.delete(SessionStore(key).cache_key)
    assert client.get(PAGE).status_code == 200
    assert SessionStore(key).cache_key in cache  # ... and cached again


def test_signing_out_ends_the_session_in_the_cache_and_the_database(worker):
    client = _signed_in(worker.user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(PAGE).status_code == 200
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert SessionStore(key).cache_key not in cache
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get(PAGE).status_code == 302  # sent to sign in


def test_no_cached_copy_of_a_session_outlives_session_cache_seconds(worker, settings):
    settings.SESSION_CACHE_SECONDS = 45
    store = SessionStore()
    store["answer"] = 42
    backend = caches[settings.SESSION_CACHE_ALIAS]
    with mock.patch.object(backend, "set", wraps=backend.set) as set_:
        store.create()
        assert set_.call_args.args[2] == 45
        assert store.get_expiry_age() == settings.SESSION_COOKIE_AGE  # the session: unchanged
        cache.delete(store.cache_key)
        set_.reset_mock()
        assert SessionStore(store.session_key)["answer"] == 42  # read from the database ...
        assert set_.call_args.args[2] == 45  # ... and cached for 45 s at most
