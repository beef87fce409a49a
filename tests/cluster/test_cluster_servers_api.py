"""`GET /api/servers?region=` over real HTTP on a started server (in process, the
embedded endpoint): another region's answer is shared for a second, and neither one
client nor many can turn region names into queries without bound.

Before: no budget and no cache, one GSI2 query per request; a flood of distinct
region names (`r0`, `r1`, ...) from one client took another client's WebSocket
sign-in from 3.8 to 66 ms."""

from __future__ import annotations

import asyncio

import aiohttp

from snaketron.cluster.servers_api import REGION_CACHE_SECONDS, REGION_QUERIES_PER_SECOND
from snaketron.db.models import ServerRecord
from snaketron.games import wall_clock_ms

# No heartbeat and no matcher round in a test's time: the queries counted are its own.
QUIET = {"heartbeat_seconds": 3600, "matcher_enabled": False}


class Clock:
    """The server's monotonic clock for rate limits and caches, moved by the test."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


async def servers(api_url: str, region: str | None = None, *, address: str = "127.0.0.2") -> tuple[int, dict, dict]:
    """GET /api/servers from a loopback source address of its own (per-address budgets)."""
    query = "" if region is None else f"?region={region}"
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(f"{api_url}/api/servers{query}") as response,
    ):
        return response.status, dict(response.headers), await response.json()


async def test_another_regions_answer_is_shared_for_a_second(start_server, db):
    clock = Clock()
    server = await start_server(clock=clock, **QUIET)
    now = wall_clock_ms()
    far = ServerRecord(
        server_id=9_001,
        region="far",
        ws_url="ws://192.0.2.1:8080/ws",
        api_url="http://192.0.2.1:3001",
        max_game_capacity=10,
        last_heartbeat_ms=now,
        created_at_ms=now,
    )
    await db.register_server(far)
    queries = db.client.metrics.requests
    before = queries["query"]

    answers = await asyncio.gather(*(servers(server.api_url, "far") for _ in range(10)))
    assert [(status, [s["id"] for s in body["servers"]]) for status, _, body in answers] == [(200, [9_001])] * 10
    assert queries["query"] - before == 1  # ten requests at once: one query

    await db.heartbeat_server(9_001, "far", game_count=7, player_count=3, now_ms=now + 1)
    status, _, body = await servers(server.api_url, "far")
    assert status == 200 and body["servers"][0]["games"] == 0  # the second's answer
    clock.now += REGION_CACHE_SECONDS
    status, _, body = await servers(server.api_url, "far")
    assert status == 200 and body["servers"][0]["games"] == 7
    assert queries["query"] - before == 2

    # This server's own region is the registry's view: never a query.
    status, _, body = await servers(server.api_url)
    assert status == 200 and body["region"] == server.settings.region
    assert [s["id"] for s in body["servers"]] == [server.server_id]
    assert queries["query"] - before == 2


async def test_a_flood_of_region_names_is_bounded_for_all_clients_together(start_server, db):
    clock = Clock()
    server = await start_server(clock=clock, **QUIET)
    queries = db.client.metrics.requests
    before = queries["query"]

    for i in range(REGION_QUERIES_PER_SECOND):
        status, _, body = await servers(server.api_url, f"r{i}")
        assert (status, body) == (200, {"region": f"r{i}", "servers": []})
    status, headers, body = await servers(server.api_url, "r-next")
    assert (status, headers["Retry-After"], body) == (503, "1", {"error": "Server busy, try again shortly"})
    assert queries["query"] - before == REGION_QUERIES_PER_SECOND  # the refusal read nothing

    # Another client: a new name waits too; a region just read, and this server's own, answer.
    assert (await servers(server.api_url, "r-other", address="127.0.0.3"))[0] == 503
    assert (await servers(server.api_url, "r0", address="127.0.0.3"))[0] == 200
    assert (await servers(server.api_url, address="127.0.0.3"))[0] == 200
    assert queries["query"] - before == REGION_QUERIES_PER_SECOND
    clock.now += 1.0  # the Retry-After
    assert (await servers(server.api_url, "r-other", address="127.0.0.3"))[0] == 200
    assert queries["query"] - before == REGION_QUERIES_PER_SECOND + 1


async def test_each_address_has_a_budget_like_the_leaderboards(start_server):
    clock = Clock()
    server = await start_server(clock=clock, read_rate_per_min=3, **QUIET)
    for _ in range(3):
        assert (await servers(server.api_url))[0] == 200
    status, headers, body = await servers(server.api_url, "anywhere")
    assert (status, headers["Retry-After"], body) == (429, "20", {"error": "Too many requests, try again later"})
    assert (await servers(server.api_url, address="127.0.0.3"))[0] == 200
    clock.now += 20
    assert (await servers(server.api_url))[0] == 200
