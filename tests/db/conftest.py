"""Fixtures of the data-layer tests that need requests to fail: the fault proxy in front
of the embedded endpoint, and a database that talks through it."""

from __future__ import annotations

import pytest

from support.fault_proxy import FaultProxy, database_through


@pytest.fixture
async def proxy(dynamo_endpoint):
    async with FaultProxy(dynamo_endpoint, seed=7) as p:
        yield p


@pytest.fixture
async def faulty_db(settings, proxy):
    """A DynamoDatabase whose every request passes through the fault proxy."""
    async with database_through(proxy, settings) as database:
        yield database
