"""The signed-in person's worker record, looked up on every worker page and poll with its
query written out (workers.selectors.worker_for_user): the same record, with its pool, as
the ORM loads, in one query; nothing for someone who is not, or no longer, a worker."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests import factories as f
from workers.models import Worker
from workers.selectors import worker_for_user

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no worker cached on it


def test_the_worker_found_is_the_one_the_orm_loads_with_its_pool_in_one_query(worker):
    user = _fresh(worker.user)
    with CaptureQueriesContext(connection) as ctx:
        found = worker_for_user(user=user)
        assert found is not None
        pool = found.pool
    assert len(ctx.captured_queries) == 1
    expected = Worker.objects.select_related("pool").get(pk=worker.pk)
    for field in Worker._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    for field in type(pool)._meta.concrete_fields:
        assert getattr(pool, field.attname) == getattr(expected.pool, field.attname), field.name
    assert not found._state.adding
    assert found._state.db == expected._state.db


def test_someone_who_is_not_a_worker_has_no_worker_record(manager):
    assert worker_for_user(user=_fresh(manager)) is None


def test_a_worker_who_left_has_no_worker_record(pool):
    left = f.WorkerFactory(pool=pool, status=Worker.Status.LEFT)
    assert worker_for_user(user=_fresh(left.user)) is None
