"""On PostgreSQL a worker row carries a copy of its role and skill ids (``role_ids``,
``skill_ids``), which matching's role and skills rules read instead of the link tables.
The link tables stay the truth: whichever way they change, the copies follow (one place:
the triggers of workers migration 0006), and matching finds exactly who holds them."""

from __future__ import annotations

import pytest
from django.db import connection

from pools.models import Role, Skill
from shifts.matching import shift_eligible_workers
from tests import factories as f
from workers.models import Worker

pytestmark = pytest.mark.postgres


def copies(worker: Worker) -> tuple[list[int], list[int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT role_ids, skill_ids FROM workers_worker WHERE id = %s", [worker.pk])
        role_ids, skill_ids = cursor.fetchone()
    return list(role_ids), list(skill_ids)


def truth(worker: Worker) -> tuple[list[int], list[int]]:
    return (
        sorted(worker.roles.values_list("pk", flat=True)),
        sorted(worker.skills.values_list("pk", flat=True)),
    )


def test_the_copies_follow_roles_and_skills_set_added_removed_and_cleared(pool):
    worker = f.WorkerFactory(pool=pool, roles=["care-worker"], skills=["hoist"])
    assert copies(worker) == truth(worker) != ([], [])

    worker.roles.add(Role.objects.get(slug="nurse"), Role.objects.get(slug="senior-carer"))
    worker.skills.set(Skill.objects.filter(slug__in=["dementia", "driver", "hoist"]))
    assert copies(worker) == truth(worker)
    assert len(copies(worker)[0]) == 3 and len(copies(worker)[1]) == 3

    worker.roles.remove(Role.objects.get(slug="care-worker"))
    worker.skills.through.objects.filter(worker=worker, skill__slug="driver").delete()
    assert copies(worker) == truth(worker)

    worker.roles.clear()
    worker.skills.clear()
    assert copies(worker) == ([], [])


def test_rows_written_straight_to_a_link_table_are_copied_too(pool):
    """As the demo builder and the lab write them: many workers in one statement."""
    workers = [f.WorkerFactory(pool=pool, roles=[]) for _ in range(3)]
    nurse = Role.objects.get(slug="nurse")
    Worker.roles.through.objects.bulk_create(
        [Worker.roles.through(worker_id=w.pk, role_id=nurse.pk) for w in workers]
    )
    Worker.roles.through.objects.filter(worker_id=workers[0].pk).update(
        role_id=Role.objects.get(slug="care-worker").pk
    )
    for worker in workers:
        assert copies(worker) == truth(worker)
    assert copies(workers[0])[0] == [Role.objects.get(slug="care-worker").pk]


def test_matching_finds_those_who_hold_the_role_and_every_skill_as_changed(site, pool):
    shift = f.ShiftFactory(site=site, skills=["hoist", "dementia"])
    both = f.WorkerFactory(pool=pool, skills=["hoist", "dementia"])
    one = f.WorkerFactory(pool=pool, skills=["hoist"])
    other_role = f.WorkerFactory(pool=pool, roles=["nurse"], skills=["hoist", "dementia"])

    def found() -> set[int]:
        return {c.worker_id for c in shift_eligible_workers(shift=shift)}

    assert found() == {both.pk}
    one.skills.add(Skill.objects.get(slug="dementia"))
    other_role.roles.add(shift.role)
    both.roles.clear()
    assert found() == {one.pk, other_role.pk}
