"""A started account API on 127.0.0.1 (port 0) against the real `db` fixture."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from snaketron.auth import PasswordHasher, TokenIssuer
from snaketron.http_api import create_api_app, start_api

TEST_SECRET = "api-test-secret-long-enough-for-hs256!"


class FakeClock:
    """Monotonic seconds the test moves by hand (rate limits, lockouts)."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class RunningApi:
    url: str
    http: aiohttp.ClientSession
    tokens: TokenIssuer
    clock: FakeClock
    db: Any

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
        """POST JSON (or raw `data=`); returns status, decoded JSON body (or None) and the response."""
        if body is not None:
            kwargs["json"] = body
        async with self.http.post(self.url + path, **kwargs) as resp:
            return resp.status, await _json(resp), resp

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
        async with self.http.get(self.url + path, **kwargs) as resp:
            return resp.status, await _json(resp), resp

    async def register(self, username: str, password: str = "secret1", **kwargs: Any):
        return await self.post("/api/auth/register", {"username": username, "password": password}, **kwargs)

    async def login(self, username: str, password: str = "secret1", **kwargs: Any):
        return await self.post("/api/auth/login", {"username": username, "password": password}, **kwargs)


async def _json(resp: aiohttp.ClientResponse) -> Any:
    if resp.content_type != "application/json":
        return None
    return await resp.json()


@pytest.fixture(scope="session")
def cheap_hasher() -> PasswordHasher:
    # The production cost (19 MiB, 2 passes) would make each register/login ~30 ms of
    # CPU; the behaviour under test does not depend on the cost.
    hasher = PasswordHasher(time_cost=1, memory_kib=8, parallelism=1)
    yield hasher
    hasher.close()


@pytest.fixture
async def start_api_server(settings, db, cheap_hasher) -> AsyncIterator[Callable[..., Any]]:
    """`await start_api_server(**setting_overrides, database=..., hasher=...)` -> RunningApi;
    stopped after the test."""
    runners = []
    sessions = []

    async def start(*, database: Any = None, hasher: PasswordHasher | None = None, **overrides: Any) -> RunningApi:
        api_settings = dataclasses.replace(settings, **overrides)
        tokens = TokenIssuer(TEST_SECRET, api_settings.jwt_ttl_seconds)
        clock = FakeClock()
        target_db = db if database is None else database
        app = create_api_app(api_settings, target_db, tokens, hasher or cheap_hasher, clock=clock)
        runner, port = await start_api(app, "127.0.0.1", 0)
        runners.append(runner)
        http = aiohttp.ClientSession()
        sessions.append(http)
        return RunningApi(f"http://127.0.0.1:{port}", http, tokens, clock, target_db)

    yield start
    for http in sessions:
        await http.close()
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def api(start_api_server) -> RunningApi:
    """The API with default limits."""
    return await start_api_server()
