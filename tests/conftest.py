"""Shared fixtures: one embedded DynamoDB endpoint per test session, a fresh table
prefix per test.

- `dynamo_endpoint`: URL of the endpoint (the embedded one, started once, the same
  way `snaketron serve` starts it; or SNAKETRON_TEST_DYNAMODB_ENDPOINT, e.g. a
  LocalStack at http://localhost:4566).
- `settings`: `Settings` pointing at it with a unique table prefix whose tables
  already exist (`create_tables` is off so servers started with it skip the check).
- `db`: an open `DynamoDatabase` on those tables, closed (flushed) after the test.
- `start_server`, `server`, `players`: a started game server and its players
  (tests/support/server_fixtures.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.client import DynamoClient
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.tables import ensure_tables
from support.dynamo_settings import make_settings, unique_prefix
from support.server_fixtures import players, server, start_server  # noqa: F401  (fixtures for every folder)


@pytest.fixture(scope="session")
def dynamo_endpoint() -> Iterator[str]:
    external = os.environ.get("SNAKETRON_TEST_DYNAMODB_ENDPOINT")
    if external:
        yield external
        return
    with EmbeddedEndpoint() as endpoint:
        yield endpoint.url


@pytest.fixture(scope="session")
async def dynamo_admin(dynamo_endpoint: str) -> AsyncIterator[DynamoClient]:
    """One client for creating tables, shared by the session."""
    async with DynamoClient(make_settings(dynamo_endpoint, "admin"), dynamo_endpoint) as client:
        yield client


@pytest.fixture
async def settings(dynamo_endpoint: str, dynamo_admin: DynamoClient) -> Settings:
    prefix = unique_prefix()
    await ensure_tables(dynamo_admin, prefix)
    return make_settings(dynamo_endpoint, prefix)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[DynamoDatabase]:
    async with open_database(settings) as database:
        yield database
