"""Fixtures of the reliability tests: servers on any database (healthy or behind the
fault proxy), the errors they log, and the figures each test reports.

Every test reports its figures with `report(**figures)`: one line on stdout
(`pytest -s`) and one JSON line in `<pytest basetemp>/reliability.jsonl`, which is
where RELIABILITY.md's numbers come from.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from snaketron.client import AccountClient
from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.interface import Database
from snaketron.game_server import GameServer
from support.fault_proxy import FaultProxy
from support.server_watch import ErrorWatch

# The fast argon2 cost and unlimited API rate of a test server; everything else as given.
TEST_SERVER = {
    "host": "127.0.0.1",
    "ws_port": 0,
    "api_port": 0,
    "api_rate_per_min": 0,
    "argon2_time_cost": 1,
    "argon2_memory_kib": 64,
    "argon2_parallelism": 1,
}

Launch = Callable[..., Awaitable[GameServer]]


@pytest.fixture
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., None]:
    path = tmp_path_factory.getbasetemp() / "reliability.jsonl"

    def write(**figures: Any) -> None:
        line = json.dumps({"test": request.node.name, **figures}, default=str, sort_keys=True)
        print(f"\nRELIABILITY {line}")
        with path.open("a") as out:
            out.write(line + "\n")

    return write


@pytest.fixture
def server_errors() -> Iterator[ErrorWatch]:
    with ErrorWatch() as watch:
        yield watch


@pytest.fixture
async def proxy(dynamo_endpoint: str) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(dynamo_endpoint, seed=20261127) as fault_proxy:
        yield fault_proxy


@pytest.fixture
async def faulty_db(
    request: pytest.FixtureRequest, settings: Settings, proxy: FaultProxy
) -> AsyncIterator[DynamoDatabase]:
    """The test's tables, reached through the fault proxy. Ask for it before `launch`
    so that servers stop (and flush through it) before the proxy goes away. Setting
    overrides come as an indirect parameter:
    `@pytest.mark.parametrize("faulty_db", [{"db_retry_attempts": 12}], indirect=True)`."""
    overrides = getattr(request, "param", {})
    async with open_database(dataclasses.replace(settings, dynamodb_endpoint=proxy.url, **overrides)) as database:
        yield database
        proxy.heal()  # the final flush must get through


@pytest.fixture
async def launch(settings: Settings, db: Database) -> AsyncIterator[Launch]:
    """`await launch(database=db, **setting_overrides)`: a started GameServer, stopped
    after the test. Without `database`, it runs on the healthy `db` fixture."""
    started: list[GameServer] = []

    async def start(database: Database | None = None, **overrides: Any) -> GameServer:
        server_settings = dataclasses.replace(settings, **{**TEST_SERVER, **overrides})
        server = GameServer(server_settings, database if database is not None else db)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def accounts_of() -> AsyncIterator[Callable[[GameServer], AccountClient]]:
    """An AccountClient for a server's API, closed after the test."""
    opened: list[AccountClient] = []

    def open_for(server: GameServer) -> AccountClient:
        client = AccountClient(server.api_url)
        opened.append(client)
        return client

    yield open_for
    for client in opened:
        await client.close()
