"""Fixtures of the migration tests: a real PostgreSQL seeded like an earlier deployment.

`pg_cluster` is started once per session (installing Debian's postgresql first
when it is missing and we are root); the tests skip with the reason only where it
cannot be had. `legacy` is one seeded database that tests only read (`legacy_small` a smaller one); `migrated`
is one migration per test module, for tests that read it or only add to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from migration_runs import SMALL_SEED, TEST_SEED, Legacy, Migrated, fresh_target, migrate

from snaketron.db.client import DynamoClient
from snaketron.db.dynamo import DynamoDatabase
from support.postgres import PostgresCluster, PostgresUnavailable, ensure_postgres_binaries, seed_legacy_data


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    try:
        ensure_postgres_binaries()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL is not available here: {exc}")
    # Binaries present but the cluster does not start: that is a failure, not a skip.
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def legacy(pg_cluster: PostgresCluster) -> Legacy:
    dsn = pg_cluster.create_database("legacy")
    return Legacy(dsn, seed_legacy_data(dsn, TEST_SEED))


@pytest.fixture(scope="session")
def legacy_small(pg_cluster: PostgresCluster) -> Legacy:
    """For tests that migrate several times: the embedded endpoint is slow."""
    dsn = pg_cluster.create_database("legacy_small")
    return Legacy(dsn, seed_legacy_data(dsn, SMALL_SEED))


@pytest.fixture(scope="module")
async def migrated(legacy: Legacy, dynamo_endpoint: str, dynamo_admin: DynamoClient) -> AsyncIterator[Migrated]:
    async with fresh_target(dynamo_endpoint, dynamo_admin) as db:
        report = await migrate(legacy.dsn, db)
        yield Migrated(db.settings, db, report, legacy)


@pytest.fixture
async def target(dynamo_endpoint: str, dynamo_admin: DynamoClient) -> AsyncIterator[DynamoDatabase]:
    """Empty tables of their own for one test, opened like `db` but with patient timeouts."""
    async with fresh_target(dynamo_endpoint, dynamo_admin) as db:
        yield db
