"""`GET /api/games`: the live public games the browser client's Watch panel lists,
served by a started game server from the games table (real HTTP, real endpoint)."""

from __future__ import annotations

import asyncio

import aiohttp

from snaketron.client import AccountClient
from snaketron.db.models import GameRecord


def game(game_id: int, **fields: object) -> GameRecord:
    values: dict = {"server_id": 1, "game_type": "Solo", "game_mode": "solo", "status": "started", **fields}
    return GameRecord(game_id=game_id, created_at_ms=game_id, updated_at_ms=game_id, **values)


async def get(url: str, token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.json()


async def test_lists_public_watchable_games_of_the_asked_status(server, db):
    custom = {"Custom": {"settings": {"game_mode": "Duel"}}}
    for record in (
        game(901, started_at_ms=5),
        game(902, game_type=custom, game_mode="custom", game_code="SECRET12", is_private=True),
        game(903, game_type=custom, game_mode="custom", game_code="OPENLOBB"),
        game(904, allow_spectators=False),
        game(905, status="waiting"),
        game(906, status="complete"),
    ):
        db.save_game_nowait(record)
    await db.flush()
    async with AccountClient(server.api_url) as accounts:
        token = (await accounts.register("watcher1", "secret1")).token

    status, body = await get(f"{server.api_url}/api/games?status=started", token)
    assert status == 200
    listed = {g["game_id"]: g for g in body["games"]}
    assert set(listed) == {901, 903}  # not private 902, not 904 without spectators
    assert listed[901] == {
        "game_id": 901,
        "game_type": "Solo",
        "game_mode": "solo",
        "status": "started",
        "server_id": 1,
        "started_at_ms": 5,
    }
    assert "game_code" not in listed[903]  # a code lets people join a lobby: not listed

    status, body = await get(f"{server.api_url}/api/games?status=waiting", token)
    assert [g["game_id"] for g in body["games"]] == [905]


async def test_needs_a_token_and_a_live_status(server):
    status, body = await get(f"{server.api_url}/api/games?status=started", None)
    assert status == 401 and "token" in body["error"]
    status, _ = await get(f"{server.api_url}/api/games?status=started", "not-a-token")
    assert status == 401
    async with AccountClient(server.api_url) as accounts:
        token = (await accounts.register("watcher2", "secret1")).token
    status, body = await get(f"{server.api_url}/api/games?status=complete", token)
    assert status == 400 and "status" in body["error"]


class Clock:
    """The server's monotonic clock for rate limits and caches, moved by the test."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


async def get_from(address: str, url: str, token: str) -> tuple[int, dict, dict]:
    """GET from a loopback source address of its own (per-address budgets)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(url, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        return response.status, dict(response.headers), await response.json()


async def test_a_flood_of_listings_costs_one_read_a_second_and_runs_out_of_budget(start_server, db):
    """Before: no budget, and every request one Query (~145 ms of the embedded endpoint
    with ~3,000 games written): one client's flood took another's WebSocket sign-in
    from 3.6 ms to 1.5 s. Now one read a second serves every request, and each
    address and each user has `read_rate_per_min` requests a minute."""
    clock = Clock()
    # No heartbeat or matcher round in the test's time: the queries counted are its own.
    server = await start_server(clock=clock, read_rate_per_min=30, heartbeat_seconds=3600, matcher_enabled=False)
    url = f"{server.api_url}/api/games?status=started"
    async with AccountClient(server.api_url) as accounts:
        alice = (await accounts.register("flooder1", "secret1")).token
        bob = (await accounts.register("watcher3", "secret1")).token
    db.save_game_nowait(game(911))
    await db.flush()
    queries = db.client.metrics.requests

    before = queries["query"]
    answers = await asyncio.gather(*(get_from("127.0.0.2", url, alice) for _ in range(20)))
    assert {status for status, _, _ in answers} == {200}
    assert all([g["game_id"] for g in body["games"]] == [911] for _, _, body in answers)
    assert queries["query"] - before == 1  # 20 requests at once: one read

    db.save_game_nowait(game(912))
    await db.flush()
    status, _, body = await get_from("127.0.0.2", url, alice)
    assert status == 200 and [g["game_id"] for g in body["games"]] == [911]  # the same second's answer
    assert queries["query"] - before == 1
    clock.now += 1.0
    status, _, body = await get_from("127.0.0.2", url, alice)
    assert status == 200 and {g["game_id"] for g in body["games"]} == {911, 912}
    assert queries["query"] - before == 2

    # The address's budget: 30 a minute (one every 2 s), 22 spent and half a request
    # earned back in that second; the 31st request is refused.
    for _ in range(8):
        assert (await get_from("127.0.0.2", url, alice))[0] == 200
    status, headers, body = await get_from("127.0.0.2", url, alice)
    assert status == 429 and headers["Retry-After"] == "1" and "Too many requests" in body["error"]
    # The user's budget too, from any address; another user there is served.
    status, headers, _ = await get_from("127.0.0.3", url, alice)
    assert status == 429 and headers["Retry-After"] == "1"
    assert (await get_from("127.0.0.3", url, bob))[0] == 200
    clock.now += 1.0  # the Retry-After
    assert (await get_from("127.0.0.3", url, alice))[0] == 200
    assert queries["query"] - before == 3  # nothing refused was read
