"""The reports tests use the coordinators the pools tests use: Colin with a second
factor, Rita of another pool, and Gina who sees the region."""

from tests.pools.conftest import (  # noqa: F401
    coordinator,
    coordinator_without_mfa,
    other_coordinator,
    other_pool,
    regional,
)
