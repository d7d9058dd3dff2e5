from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP

from tests import factories as f

DEMO_SECRET = "JBSWY3DPEHPK3PXP"


def give_totp(user) -> None:
    TOTP.activate(user, DEMO_SECRET)


@pytest.fixture
def coordinator(coordinator):
    """Coordinators must have a second factor before seeing pool data: Colin has one."""
    give_totp(coordinator)
    return coordinator


@pytest.fixture
def coordinator_without_mfa(pool):
    user = f.UserFactory(email="nina@council.test", first_name="Nina", last_name="New")
    f.CoordinatorFactory(user=user, pool=pool)
    return user


@pytest.fixture
def other_pool(reference):
    from pools.reference import pool_rates_ensure

    other = f.PoolFactory(name="Rochdale", slug="rochdale")
    pool_rates_ensure(other)
    return other


@pytest.fixture
def other_coordinator(other_pool):
    """Rita coordinates another pool: she must get 404 on Bury's data."""
    user = f.UserFactory(email="rita@rochdale.test", first_name="Rita", last_name="Rochdale")
    f.CoordinatorFactory(user=user, pool=other_pool)
    give_totp(user)
    return user


@pytest.fixture
def regional(pool, other_pool):
    user = f.UserFactory(email="gina@gm.test", first_name="Gina", last_name="Region")
    f.CoordinatorFactory(user=user, pool=pool, is_regional=True)
    give_totp(user)
    return user
