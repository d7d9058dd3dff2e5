"""The fixed cast every test can call on, as healthchecks has alice, bob and charlie:

- ``manager``: Mary, admin of Oak Care with the site ``site`` in Bury (pool ``pool``);
- ``worker``: Wendy, a vetted care worker living near that site;
- ``coordinator``: Colin, coordinator of the Bury pool;
- ``outsider``: Otto, manager of another provider; ``other_worker``: Olive, another
  vetted worker. Each must get 404 on what is not theirs.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

from geo.reference import district_centroids_ensure
from pools.reference import pool_rates_ensure, reference_data_ensure
from tests import factories as f
from tests.browser import browser, desktop, phone  # noqa: F401  (one Playwright per session)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need PostgreSQL's locks and constraints; on the embedded
    SQLite default they are skipped (CI always runs them)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _the_cache_starts_empty():
    """Each run starts with an empty cache: the test database is rebuilt, but Redis keeps
    what an earlier run cached (say, a report keyed on a frozen clock and the same ids)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reference(db):
    reference_data_ensure()
    district_centroids_ensure()


@pytest.fixture
def pool(reference):
    pool = f.PoolFactory(name="Bury", slug="bury")
    pool_rates_ensure(pool)
    return pool


@pytest.fixture
def provider(pool):
    return f.ProviderFactory(pool=pool, name="Oak Care")


@pytest.fixture
def site(provider):
    return f.SiteFactory(provider=provider, name="Oak House")


@pytest.fixture
def manager(provider):
    user = f.UserFactory(email="mary@oakcare.test", first_name="Mary", last_name="Manager")
    f.ProviderMemberFactory(user=user, provider=provider, is_admin=True)
    return user


@pytest.fixture
def worker(pool):
    user = f.UserFactory(email="wendy@worker.test", first_name="Wendy", last_name="Walker")
    return f.WorkerFactory(user=user, pool=pool)


@pytest.fixture
def coordinator(pool):
    user = f.UserFactory(email="colin@council.test", first_name="Colin", last_name="Coord")
    f.CoordinatorFactory(user=user, pool=pool)
    return user


@pytest.fixture
def outsider(pool):
    """Otto manages another provider in the same pool: he must see none of Mary's data."""
    other = f.ProviderFactory(pool=pool, name="Elm Homecare")
    f.SiteFactory(provider=other, name="Elm Office")
    user = f.UserFactory(email="otto@elm.test", first_name="Otto", last_name="Outsider")
    f.ProviderMemberFactory(user=user, provider=other, is_admin=True)
    return user


@pytest.fixture
def other_worker(pool):
    user = f.UserFactory(email="olive@worker.test", first_name="Olive", last_name="Other")
    return f.WorkerFactory(user=user, pool=pool)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
