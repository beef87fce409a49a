"""Fixtures for every test that needs a started game server (WebSocket + HTTP API +
game host) on 127.0.0.1, port 0, against the real `settings`/`db` fixtures, and
authenticated players for it. tests/conftest.py registers them for the whole suite;
a folder may override `server` with its own settings (see tests/matchmaking)."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from snaketron.client import AccountClient, GameClient
from snaketron.config import Settings
from snaketron.db.dynamo import DynamoDatabase
from snaketron.game_server import GameServer
from snaketron.games import wall_clock_ms

# Cheap password hashing: the tests exercise the protocol, not argon2's cost.
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "argon2_parallelism": 1}

_names = itertools.count(1)


def server_settings(settings: Settings, **overrides: object) -> Settings:
    values = {
        "bind_address": "127.0.0.1",
        "ws_port": 0,
        "api_port": 0,
        "api_rate_per_min": 0,  # many registrations from 127.0.0.1
        **FAST_HASH,
        **overrides,
    }
    return dataclasses.replace(settings, **values)


@dataclasses.dataclass
class Players:
    """Registers accounts over HTTP and connects them, authenticated."""

    server: GameServer
    accounts: AccountClient
    clients: list[GameClient] = dataclasses.field(default_factory=list)

    async def new(self, name: str | None = None) -> GameClient:
        account = await self.accounts.register(name or f"player{next(_names)}", "secret1")
        client = await self.connect()
        await client.authenticate(account.token)
        return client

    async def connect(self) -> GameClient:
        client = await GameClient.connect(self.server.ws_url)
        self.clients.append(client)
        return client


StartServer = Callable[..., Awaitable[GameServer]]


@pytest.fixture
async def start_server(settings: Settings, db: DynamoDatabase) -> AsyncIterator[StartServer]:
    started: list[GameServer] = []

    async def start(
        *, clock_ms: Callable[[], int] | None = None, clock: Callable[[], float] | None = None, **overrides: object
    ) -> GameServer:
        """A started server with these settings; `clock_ms` replaces its clock (a test
        that needs a game to end in another season), `clock` the monotonic one of its
        HTTP rate limits and caches."""
        server = GameServer(
            server_settings(settings, **overrides),
            db,
            clock_ms=clock_ms or wall_clock_ms,
            clock=clock or time.monotonic,
        )
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def server(start_server: StartServer) -> GameServer:
    return await start_server()


@pytest.fixture
async def players(server: GameServer) -> AsyncIterator[Players]:
    async with AccountClient(server.api_url) as accounts:
        crowd = Players(server, accounts)
        yield crowd
        for client in crowd.clients:
            await client.close()
