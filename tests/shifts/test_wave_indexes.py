"""The tables an urgent wave writes a thousand rows to at once (offers, their messages)
carry no index another already answers for: each index costs every insert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notifications_due
from shifts.models import Offer
from tests import factories as f

pytestmark = pytest.mark.django_db

WAVE_TABLES = [Offer._meta.db_table, Notification._meta.db_table]


def btree_indexes(table: str) -> dict[str, tuple[list[str], bool]]:
    """Each btree index of ``table``: its columns in order and whether it is partial."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indpred IS NOT NULL, ARRAY(SELECT a.attname FROM "
            "unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam "
            "WHERE i.indrelid = %s::regclass AND am.amname = 'btree'",
            [table],
        )
        return {name: (columns, partial) for name, partial, columns in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue")
@pytest.mark.parametrize("table", WAVE_TABLES)
def test_no_index_on_a_wave_table_is_the_leading_part_of_another(table: str) -> None:
    indexes = btree_indexes(table)
    full = {name: columns for name, (columns, partial) in indexes.items() if not partial}
    for name, columns in full.items():
        for other, longer in full.items():
            if other != name:
                assert longer[: len(columns)] != columns, f"{name} is answered by {other}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue")
def test_only_messages_held_back_are_indexed_by_when_they_may_be_sent() -> None:
    [(columns, partial)] = [
        value
        for name, value in btree_indexes(Notification._meta.db_table).items()
        if name == "notification_held_back"
    ]
    assert columns == ["deliver_after"] and partial


def test_a_message_held_back_for_quiet_hours_is_still_found_when_its_time_comes() -> None:
    now = timezone.now()
    user, outsider = f.UserFactory(), f.UserFactory()
    held = Notification.objects.create(
        user=user, kind="offer", subject="s", body="b", deliver_after=now - timedelta(minutes=1)
    )
    Notification.objects.create(
        user=outsider, kind="offer", subject="s", body="b", deliver_after=now + timedelta(hours=1)
    )
    Notification.objects.create(user=outsider, kind="offer", subject="s", body="b")
    assert notifications_due(now=now) == [held.pk]
