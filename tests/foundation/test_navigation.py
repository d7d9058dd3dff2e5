"""The header's links name the signed-in person's area: a coordinator's, a provider
member's or a worker's, the first of those they hold; someone with none gets none. And
who holds which role is found in as few queries as can be (accounts.access)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts.access import Who, access_holder
from accounts.authentication import TokenAuthentication
from accounts.context_processors import navigation
from tests import factories as f
from workers.models import Worker

pytestmark = pytest.mark.django_db


def _area(user) -> str | None:
    request = RequestFactory().get("/")
    request.user = user
    return navigation(request)["nav_area"]


def test_each_person_gets_their_own_area(worker, manager, coordinator):
    assert _area(worker.user) == "worker"
    assert _area(manager) == "provider"
    assert _area(coordinator) == "coordinator"
    assert _area(f.UserFactory(email="nobody@example.test")) is None
    assert _area(AnonymousUser()) is None


def test_a_coordinator_who_is_also_a_worker_gets_the_coordinators_area(worker, pool):
    f.CoordinatorFactory(user=worker.user, pool=pool)
    assert _area(worker.user) == "coordinator"


def test_the_area_costs_one_query(worker):
    with CaptureQueriesContext(connection) as ctx:
        assert _area(worker.user) == "worker"
    assert len(ctx.captured_queries) == 1


def test_with_a_token_the_workers_record_and_pool_come_with_the_user(worker):
    token = Token.objects.create(user=worker.user)
    with CaptureQueriesContext(connection) as ctx:
        user, _ = TokenAuthentication().authenticate_credentials(token.key)
        assert access_holder(user, Who.WORKER) == worker
        assert access_holder(user, Who.WORKER).pool.distance_unit
    assert len(ctx.captured_queries) == 1


def test_with_a_token_a_worker_who_has_left_holds_no_worker_record(worker):
    worker.status = Worker.Status.LEFT
    worker.save()
    token = Token.objects.create(user=worker.user)
    user, _ = TokenAuthentication().authenticate_credentials(token.key)
    assert access_holder(user, Who.WORKER) is None
