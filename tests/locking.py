"""Two transactions at once, on PostgreSQL with real threads: the harness the race tests share
(a trigger's lock, a service's ``select_for_update``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


def someone_waits_for_a_lock() -> bool:
    """Another backend of this database waits for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


@contextmanager
def triggers_unlocked(sync_functions_sql: Callable[..., str]) -> Iterator[None]:
    """A race test's control: the trigger functions of ``sync_functions_sql`` without their
    lock for the time being (``lock=False``), the locked ones put back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute(sync_functions_sql(lock=False))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sync_functions_sql())


def two_changes_at_once(
    first: Callable[[], object], second: Callable[[], object]
) -> list[BaseException]:
    """The first transaction makes its change and stays open until the second, making the
    other, is waiting for a lock; then both commit. Returns what either raised; fails if the
    second never waited (then the two did not race)."""
    made, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run(change: Callable[[], object], hold: bool) -> None:
        try:
            with transaction.atomic():
                change()
                if hold:
                    made.set()
                    release.wait(20)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=run, args=(first, True))
    holder.start()
    assert made.wait(20)
    other = threading.Thread(target=run, args=(second, False))
    other.start()
    deadline = time.monotonic() + 20
    while not someone_waits_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    waited = someone_waits_for_a_lock()
    release.set()
    holder.join(30)
    other.join(30)
    assert waited, "the second transaction never waited for the first"
    return errors
