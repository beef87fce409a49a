"""Fixtures for cluster tests: fleets of real server processes on their own tables, with a
database handle on those tables; every process is killed when the fixture ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cluster.fleet import Cluster, ServerFleet
from snaketron.db import open_database
from snaketron.db.client import DynamoClient
from snaketron.db.tables import ensure_tables
from support.dynamo_settings import make_settings, unique_prefix


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.cluster_failed = True  # the fixtures then print the servers' logs
    return report


@contextlib.asynccontextmanager
async def open_cluster(endpoint: str, admin: DynamoClient, log_dir: Path) -> AsyncIterator[Cluster]:
    prefix = unique_prefix()
    await ensure_tables(admin, prefix)
    async with open_database(make_settings(endpoint, prefix)) as db:
        found = Cluster(ServerFleet(endpoint, prefix, log_dir), db)
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def cluster(dynamo_endpoint, dynamo_admin, tmp_path, request) -> AsyncIterator[Cluster]:
    """A fresh cluster (its own tables) for one test; servers are started by the test."""
    async with open_cluster(dynamo_endpoint, dynamo_admin, tmp_path) as found:
        yield found
        if getattr(request.node, "cluster_failed", False):
            print(found.fleet.logs())


@pytest.fixture(scope="module")
async def trio(dynamo_endpoint, dynamo_admin, tmp_path_factory, request) -> AsyncIterator[Cluster]:
    """Three servers A, B, C of one region, shared by a module's tests."""
    async with open_cluster(dynamo_endpoint, dynamo_admin, tmp_path_factory.mktemp("trio")) as found:
        # Only A stands for the matcher lease, so its matches are placed by A's view.
        fast = {"SNAKETRON_MATCH_START_DELAY_MS": "500"}
        await asyncio.gather(
            found.fleet.start("A", **fast),
            found.fleet.start("B", SNAKETRON_MATCHER_ENABLED="0", **fast),
            found.fleet.start("C", SNAKETRON_MATCHER_ENABLED="0", **fast),
        )
        yield found
        if any(getattr(item, "cluster_failed", False) for item in request.session.items):
            print(found.fleet.logs())
