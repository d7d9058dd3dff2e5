"""The prefilter's questions asked ahead on a connection of its own (``PrefilterAhead``)
change nothing a replay finds, and are refused where that connection could not see what the
run wrote: committed data here, as in a real lab run (a test's own transaction would hide
the demo borough from the second connection)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Exists, F, Q
from django.utils import timezone

from lab.response import response_model_fit
from lab.simulator import Scenario, WorkerBatch, simulate_run
from shifts.matching import Rule, memory, rules
from shifts.matching.memory import PrefilterAnswers
from shifts.models import ShiftRequest
from tests.lab.test_engines import demo, replay  # noqa: F401  (a fixture)
from workers.models import Worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ahead_runs(monkeypatch):
    """Every ``PrefilterAhead`` made while the test runs."""
    made = []
    original = memory.PrefilterAhead.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(memory.PrefilterAhead, "__init__", remember)
    return made


def replay_without_ahead(pool, monkeypatch):
    """``replay`` with the questions asked by the run alone."""
    with monkeypatch.context() as m:
        original = simulate_run

        def alone(**kwargs):
            return original(**kwargs, ask_ahead=False)

        m.setattr("tests.lab.test_engines.simulate_run", alone)
        return replay(pool, "memory")


def test_a_replay_with_the_questions_asked_ahead_finds_what_one_asking_alone_does(
    demo,  # noqa: F811
    ahead_runs,
    monkeypatch,
):
    alone = replay_without_ahead(demo, monkeypatch)
    assert not ahead_runs
    ahead = replay(demo, "memory")
    assert ahead == alone
    assert len(alone["bookings"]) > 20
    [run] = ahead_runs
    assert run.served > 0 and run.refused == 0
    assert run.answers.queries == 0  # the run asked nothing itself


def copy_exists(ctx):
    """A rule that reads a table the run writes (its copies of the shifts)."""
    return Q(Exists(ShiftRequest.objects.filter(pk=ctx.shift.pk)))


def test_a_question_naming_a_table_the_run_wrote_is_left_to_the_run_itself(
    demo,  # noqa: F811
    ahead_runs,
    monkeypatch,
):
    rule = Rule("copy", "the shift exists", "the shift exists", where=copy_exists)
    monkeypatch.setattr(rules, "ELIGIBILITY", (*rules.ELIGIBILITY, rule))
    alone = replay_without_ahead(demo, monkeypatch)
    assert len(alone["bookings"]) > 20
    assert replay(demo, "memory") == alone
    [run] = ahead_runs
    assert run.refused > 0 and run.served == 0

    # The control: let the second connection answer anyway, and it sees no such shift.
    monkeypatch.setattr(memory, "_NAMES", memory.re.compile(r"(?!)"))
    blind = replay(demo, "memory")
    assert ahead_runs[-1].served > 0
    assert blind["bookings"] == [] and blind != alone


def test_a_what_if_that_adds_workers_asks_its_questions_itself(demo, ahead_runs):  # noqa: F811
    today = timezone.localdate()
    scenario = Scenario(
        pool=demo,
        start=today - timedelta(days=7),
        end=today - timedelta(days=1),
        seed=3,
        add_workers=[WorkerBatch(5, "care-worker", (), "BL9")],
    )
    simulate_run(scenario=scenario, model=response_model_fit(pool=demo))
    [run] = ahead_runs
    assert run.served == 0 and run.refused > 0


def test_when_the_thread_asking_ahead_fails_the_run_asks_for_itself_and_finds_the_same(
    demo,  # noqa: F811
    ahead_runs,
    monkeypatch,
    caplog,
):
    alone = replay_without_ahead(demo, monkeypatch)
    asked = []

    def fails_after_three(ctx):
        asked.append(ctx)
        if len(asked) > 3:
            raise ConnectionError("the second connection went away")
        return rules.prefilter_sql(ctx)

    monkeypatch.setattr(memory, "prefilter_sql", fails_after_three)
    assert replay(demo, "memory") == alone
    [run] = ahead_runs
    assert run.served == 3 and run.answers.queries > 0
    assert "asked ahead stopped" in caplog.text


def test_a_run_sharing_answers_an_earlier_run_asked_starts_no_thread_and_finds_the_same(
    demo,  # noqa: F811
    ahead_runs,
):
    shared = PrefilterAnswers()
    first = replay(demo, "memory", prefilter=shared)
    queries = shared.queries
    assert replay(demo, "memory", prefilter=shared) == first
    assert len(ahead_runs) == 1 and shared.queries == queries


# What ``PrefilterAhead`` used to read, kept here as the control below.
STATISTICS_SQL = (
    "SELECT relname FROM pg_stat_xact_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
)


def written_by_statistics():
    with connection.cursor() as cursor:
        cursor.execute(STATISTICS_SQL)
        return {name for (name,) in cursor.fetchall()}


def test_a_table_another_transaction_wrote_a_moment_before_is_not_taken_for_this_ones(demo):  # noqa: F811
    # Two committed writes in quick succession: PostgreSQL flushes a backend's statistics
    # at most once a second, so the second one's counts are still pending when the run's
    # transaction begins (as the demo's own writes were for the replay above, now and then).
    for _ in range(2):
        Worker.objects.filter(pk=Worker.objects.values("pk")[:1]).update(
            travel_radius_km=F("travel_radius_km")
        )
    with transaction.atomic():
        ShiftRequest.objects.filter(pk=ShiftRequest.objects.values("pk")[:1]).update(
            headcount=F("headcount")
        )
        written = memory.tables_written_in_transaction()
        # The control: the statistics view counts the earlier transaction's write as this one's.
        looked_written = written_by_statistics()
    assert "shifts_shiftrequest" in written and "workers_worker" not in written
    assert "workers_worker" in looked_written


def test_an_unquoted_table_name_in_a_question_is_seen_too():
    sql = 'SELECT 1 FROM "workers_worker" w WHERE w.id NOT IN (SELECT worker_id FROM shifts_offer)'
    assert {"workers_worker", "shifts_offer"} <= set(memory._NAMES.findall(sql))
