"""A wave's small look-ups are compiled by Django once per process and reused with other
ids: they answer exactly as the querysets do for every shift, never with another
provider's or another shift's rows, and a queryset whose SQL depends on the ids' values
is refused rather than reused wrongly."""

from __future__ import annotations

import pytest
from django.db import transaction

from pools.models import Skill
from providers.models import Favourite
from shifts.matching import statements
from shifts.matching.rules import RawRows, fetch_many
from shifts.matching.statements import statement_instances, statement_rows
from shifts.matching.waves import _known_statements, _shift_locked
from shifts.models import ShiftRequest
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_templates():
    statements._TEMPLATES.clear()
    yield
    statements._TEMPLATES.clear()


def _favourites(provider_id: int):
    return Favourite.objects.filter(provider_id=provider_id).values_list("worker_id")


def test_a_statement_compiled_for_one_provider_answers_for_another_and_not_with_its_rows(pool):
    ours, theirs = f.ProviderFactory(pool=pool), f.ProviderFactory(pool=pool)
    mine, outsider = f.WorkerFactory(pool=pool), f.WorkerFactory(pool=pool)
    Favourite.objects.create(provider=ours, worker=mine)
    Favourite.objects.create(provider=theirs, worker=outsider)

    first = statement_rows("test.favourites", _favourites, ours.pk)
    second = statement_rows("test.favourites", _favourites, theirs.pk)

    if isinstance(first, RawRows) and isinstance(second, RawRows):  # PostgreSQL
        assert first.sql == second.sql  # compiled once
    assert fetch_many({"a": first, "b": second}) == {
        "a": [(mine.pk,)],
        "b": [(outsider.pk,)],
    }


def test_what_a_wave_knows_is_what_the_querysets_say_for_each_of_two_shifts(site, pool):
    skill = Skill.objects.first()
    one = f.ShiftFactory(site=site)
    other = f.ShiftFactory(site=f.SiteFactory(provider=f.ProviderFactory(pool=pool)))
    assert skill is not None
    one.skills.add(skill)
    Favourite.objects.create(provider=one.provider, worker=f.WorkerFactory(pool=pool))
    for shift in (one, other, one):
        known = fetch_many(_known_statements(shift))
        assert sorted(known["skills"]) == sorted(shift.skills.values_list("pk", "name"))
        assert [w for (w,) in known["favourites"]] == list(
            Favourite.objects.filter(provider_id=shift.provider_id).values_list(
                "worker_id", flat=True
            )
        )
        assert known["offered"] == []


def test_the_locked_shift_comes_with_its_pool_site_provider_and_role_as_the_orm_loads_them(
    site, pool
):
    shifts = [f.ShiftFactory(site=site), f.ShiftFactory(site=site)]
    with transaction.atomic():
        for shift in shifts + shifts:
            (cached,) = statement_instances("test.shift", _shift_locked, shift.pk)
            orm = _shift_locked(shift.pk).get()
            assert cached.pk == shift.pk
            for field in ShiftRequest._meta.concrete_fields:
                assert getattr(cached, field.attname) == getattr(orm, field.attname)
            for related in ("pool", "site", "provider", "role"):
                assert getattr(cached, related) == getattr(orm, related)
                assert related in cached._state.fields_cache  # loaded, not fetched later
            assert cached.site.latitude == orm.site.latitude
            assert cached.pool.first_wave_size == orm.pool.first_wave_size
        assert list(statement_instances("test.shift", _shift_locked, -1)) == []


def test_a_queryset_whose_sql_depends_on_the_ids_is_refused(pool, is_postgres):
    if not is_postgres:
        pytest.skip("compiled once on PostgreSQL only")

    def by_count(n: int):
        return Favourite.objects.filter(worker_id__in=range(max(n, 0) % 5 + 1))

    with pytest.raises(ValueError, match="cannot be reused"):
        statement_rows("test.varying", lambda n: by_count(n).values_list("pk"), 3)
