"""Fixtures of the data-layer tests that need requests to fail: the fault proxy in front
of the embedded endpoint, and a database that talks through it."""

from __future__ import annotations

import dataclasses

import pytest

from snaketron.db.client import DynamoClient
from snaketron.db.dynamo import DynamoDatabase
from support.fault_proxy import FaultProxy


@pytest.fixture
async def proxy(dynamo_endpoint):
    async with FaultProxy(dynamo_endpoint, seed=7) as p:
        yield p


@pytest.fixture
async def faulty_db(settings, proxy):
    """A DynamoDatabase whose every request passes through the fault proxy."""
    faulty = dataclasses.replace(settings, dynamodb_endpoint=proxy.url)
    client = DynamoClient(faulty)
    await client.start()
    database = DynamoDatabase(client, faulty)
    yield database
    proxy.heal()
    await database.close()
