"""Two transactions give one worker a role each at the same time, on PostgreSQL with real
threads: the worker row's ``role_ids`` ends up with both (the triggers lock the worker
before recomputing, workers migration 0007). A control test puts back the triggers
without the lock and shows the race loses a role, so the first test can fail."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from pools.models import Role
from tests import factories as f
from tests.locking import triggers_unlocked, two_changes_at_once
from workers.models import Worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

locked_sync = importlib.import_module("workers.migrations.0007_worker_role_skill_ids_locked")


def role_ids(worker_id: int) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT role_ids FROM workers_worker WHERE id = %s", [worker_id])
        return set(cursor.fetchone()[0])


def two_roles_added_at_once(worker_id: int, first: Role, second: Role) -> list[BaseException]:
    """The first transaction adds its role and stays open until the second, adding the
    other, is waiting for it; then both commit."""

    def add(role: Role) -> Callable[[], object]:
        return lambda: Worker.roles.through.objects.create(worker_id=worker_id, role_id=role.pk)

    return two_changes_at_once(add(first), add(second))


@pytest.fixture
def unlocked_triggers() -> Iterator[None]:
    with triggers_unlocked(locked_sync.sync_functions_sql):
        yield


def test_two_roles_given_at_once_both_reach_the_worker_row(pool):
    worker = f.WorkerFactory(pool=pool, roles=["care-worker"])
    nurse, senior = Role.objects.get(slug="nurse"), Role.objects.get(slug="senior-carer")

    assert two_roles_added_at_once(worker.pk, nurse, senior) == []

    held = set(worker.roles.values_list("pk", flat=True))
    assert held == {worker.roles.get(slug="care-worker").pk, nurse.pk, senior.pk}
    assert role_ids(worker.pk) == held


def test_control_without_the_lock_the_race_loses_a_role(pool, unlocked_triggers):
    worker = f.WorkerFactory(pool=pool, roles=["care-worker"])
    nurse, senior = Role.objects.get(slug="nurse"), Role.objects.get(slug="senior-carer")

    assert two_roles_added_at_once(worker.pk, nurse, senior) == []

    held = set(worker.roles.values_list("pk", flat=True))
    assert len(held) == 3
    assert role_ids(worker.pk) != held
    assert nurse.pk not in role_ids(worker.pk)
