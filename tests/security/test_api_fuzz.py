"""The API as a fuzzer sees it: schemathesis reads the OpenAPI schema from the app and
sends every operation a fixed budget of generated requests (valid and invalid) as a
worker, a provider manager and a coordinator (with a second factor), each with their API
token. No answer may be a server error (5xx) or a status the schema does not declare.

Deterministic (Hypothesis derandomised, no example database) and bounded: ``EXAMPLES``
valid and ``NEGATIVE_EXAMPLES`` invalid requests per operation and role. The figures are
printed (``-s`` or a failure shows them; CI runs with ``-rA``-style output too). Select it
alone with ``pytest -m fuzz``.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import status_code_conformance

from flexpool.wsgi import application
from tests import factories as f
from tests.pools.conftest import give_totp
from tests.workers.conftest import make_booking, make_offer

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=False)]

EXAMPLES = 10
NEGATIVE_EXAMPLES = 5
# Operations on one object run once more with the ids of real objects (the worker's offer
# and booking, the manager's shift), so the fuzzer reaches past the 404.
REAL_ID_EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The app is called as WSGI, in this process: like Django's test client, keep the end
    of each request from closing the connection that holds the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """The token endpoint's throttle counts live in the cache: keep the fuzzer's out of the
    shared Redis the other tests see (a later token request would get 429)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "z"}
    }
    cache.clear()


def _run(
    operation: Any,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    path_parameters: dict[str, int] | None = None,
) -> dict:
    sent: Counter[int] = Counter()
    failures: list[str] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def one(case: Any) -> None:
        response = case.call(headers=headers)
        sent[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                failures.append(
                    f"{operation.label} [{mode.value}] {response.status_code}: {failure.title}"
                )

    one()
    return {"sent": sent, "failures": failures}


def test_the_fuzzer_finds_no_server_error_and_no_undeclared_status(
    worker, manager, coordinator, site, capsys
):
    give_totp(coordinator)
    offered = make_offer(f.ShiftFactory(site=site), worker)
    booked = make_booking(f.ShiftFactory(site=site), worker)
    real_ids = {"offer_id": offered.pk, "booking_id": booked.pk, "shift_id": offered.shift_id}
    cast = {"worker": worker.user, "provider manager": manager, "coordinator": coordinator}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    started = time.monotonic()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for who, user in cast.items():
        token = Token.objects.get_or_create(user=user)[0].key
        headers = {"Authorization": f"Token {token}"}
        for operation in operations:
            for mode, examples in (
                (GenerationMode.POSITIVE, EXAMPLES),
                (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
            ):
                runs = [_run(operation, mode, examples, headers)]
                names = [p.name for p in operation.path_parameters]
                if names and mode is GenerationMode.POSITIVE:
                    ids = {name: real_ids[name] for name in names}
                    runs.append(_run(operation, mode, REAL_ID_EXAMPLES, headers, ids))
                for result in runs:
                    statuses.update(result["sent"])
                    failures.extend(f"{who}: {line}" for line in result["failures"])
    seconds = time.monotonic() - started

    sent = sum(statuses.values())
    figures = (
        f"API fuzz: {len(operations)} operations x {len(cast)} roles, "
        f"budget {EXAMPLES} valid + {NEGATIVE_EXAMPLES} invalid per operation and role "
        f"(+{REAL_ID_EXAMPLES} with real ids); "
        f"{sent} requests in {seconds:.1f} s; statuses "
        + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        + f"; {len(failures)} failures"
    )
    with capsys.disabled():
        print("\n" + figures)
        for line in sorted(set(failures)):
            print("  " + line)
    assert sent >= len(operations) * len(cast) * 2
    assert not any(code >= 500 for code in statuses), figures
    assert failures == [], figures


def test_control_the_checks_do_fail_a_status_the_schema_leaves_out(manager):
    """So the run above could fail: the same checks, on a schema without the 404 of one
    operation, flag the 404 that operation answers."""
    raw = copy.deepcopy(schemathesis.openapi.from_wsgi("/api/schema/", application).raw_schema)
    del raw["paths"]["/api/v1/shifts/{shift_id}/"]["get"]["responses"]["404"]
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = application
    operation = schema["/api/v1/shifts/{shift_id}/"]["GET"]
    headers = {"Authorization": f"Token {Token.objects.create(user=manager).key}"}
    case = operation.Case(path_parameters={"shift_id": 999_999})
    response = case.call(headers=headers)
    assert response.status_code == 404
    with pytest.raises(FailureGroup):
        case.validate_response(response, checks=CHECKS, headers=headers)
