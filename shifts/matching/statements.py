"""Querysets a wave asks every time, compiled by Django once per process.

Turning a queryset into SQL costs Django more than PostgreSQL needs to answer the small
look-ups a wave starts with: on the 20,000-worker bench the shift's lock with its pool,
site, provider and role took 4.7 ms, 1.6 of them in the database, and the six look-ups
of what the wave knows 7.5 ms, mostly compiling. Those statements differ from one wave to
the next only in ids, so each is compiled once, with stand-in ids, and afterwards only the
ids change. The querysets stay the one definition of what is asked (``build``).

On PostgreSQL only (where ``fetch_many`` takes rows as psycopg returns them); elsewhere
the querysets run as they are. Only for querysets whose SQL does not depend on the ids'
values (no ``IN`` lists of varying length, no ids written into the text): the first
compile checks that every stand-in came back as a parameter and none in the text. Every
value other than the ids is frozen at that first compile, so a queryset that reads the
clock or a setting does not belong here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models import query as django_query
from django.db.models.sql.compiler import SQLCompiler

from shifts.matching.rules import RawRows

M = TypeVar("M", bound=Model)

# Stand-ins for the ids while compiling: negative, far from any id a table hands out.
_STAND_IN = -7_340_000_001


@dataclass(frozen=True)
class _Template:
    sql: str
    slots: tuple[int | None, ...]  # per parameter: which id goes there, or None (a constant)
    constants: tuple[Any, ...]
    compiler: SQLCompiler

    def params(self, ids: tuple[int, ...]) -> tuple[Any, ...]:
        return tuple(
            c if slot is None else ids[slot]
            for slot, c in zip(self.slots, self.constants, strict=True)
        )


_TEMPLATES: dict[str, _Template] = {}


def _template(name: str, build: Callable[..., QuerySet[Any]], count: int) -> _Template:
    template = _TEMPLATES.get(name)
    if template is not None:
        return template
    stand_ins = tuple(_STAND_IN - i for i in range(count))
    queryset = build(*stand_ins)
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    slots = tuple(stand_ins.index(p) if type(p) is int and p in stand_ins else None for p in params)
    if any(str(s) in sql for s in stand_ins) or {s for s in slots if s is not None} != set(
        range(count)
    ):
        raise ValueError(f"{name}: its SQL depends on the ids' values; it cannot be reused")
    template = _TEMPLATES[name] = _Template(sql, slots, tuple(params), compiler)
    return template


def statement_rows(
    name: str, build: Callable[..., QuerySet[Any]], *ids: int
) -> RawRows | QuerySet[Any]:
    """``build(*ids)`` (a ``values_list`` queryset) as a ``RawRows`` for ``fetch_many``,
    compiled once per process under ``name``."""
    if connection.vendor != "postgresql":
        return build(*ids)
    template = _template(name, build, len(ids))
    return RawRows(template.sql, template.params(ids))


def statement_instances(name: str, build: Callable[..., QuerySet[M]], *ids: int) -> Iterator[M]:
    """The model instances of ``build(*ids)`` (``select_related`` included), compiled once
    per process under ``name``: Django's own way from rows to instances (as its
    ``ModelIterable`` does), without compiling the query again."""
    if connection.vendor != "postgresql":
        yield from build(*ids)
        return
    template = _template(name, build, len(ids))
    compiler = template.compiler
    with connection.cursor() as cursor:
        cursor.execute(template.sql, template.params(ids))
        rows = cursor.fetchall()
    select, klass_info = compiler.select, compiler.klass_info
    assert klass_info is not None
    model: type[M] = klass_info["model"]
    first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [column[0].target.attname for column in select[first:last]]
    # Django's own (unexported) helper for select_related, as its ModelIterable uses it.
    populators = django_query.get_related_populators(  # type: ignore[attr-defined]
        klass_info, select, connection.alias
    )
    for row in compiler.results_iter(results=[rows]):
        instance = model.from_db(connection.alias, init_list, row[first:last])
        for populator in populators:
            populator.populate(row, instance)
        yield instance
