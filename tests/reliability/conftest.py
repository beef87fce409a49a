"""Fixtures of the reliability tests: started servers (the suite's `start_server`), the fault proxy and a database behind it, the errors servers log, and the
figures each test reports.

A test module whose servers must reach DynamoDB through the proxy overrides `db`:

    @pytest.fixture
    def db(faulty_db):
        return faulty_db

and reads the tables back through `direct_db`, which never passes the proxy.

Every test reports its figures with `report(**figures)`: one line on stdout
(`pytest -s`) and one JSON line in `<pytest basetemp>/reliability.jsonl`, which is
where RELIABILITY.md's numbers come from.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from snaketron.client import AccountClient
from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.dynamo import DynamoDatabase
from snaketron.game_server import GameServer
from support.fault_proxy import FaultProxy
from support.server_watch import ErrorWatch


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
    """The test's tables, reached through the fault proxy. Setting overrides come as an
    indirect parameter: `@pytest.mark.parametrize("faulty_db", [{...}], indirect=True)`."""
    overrides = getattr(request, "param", {})
    async with open_database(dataclasses.replace(settings, dynamodb_endpoint=proxy.url, **overrides)) as database:
        yield database
        proxy.heal()  # the final flush must get through


@pytest.fixture
async def direct_db(settings: Settings) -> AsyncIterator[DynamoDatabase]:
    """The test's tables, reached directly: what is really stored, whatever the proxy does."""
    async with open_database(settings) as database:
        yield database


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
