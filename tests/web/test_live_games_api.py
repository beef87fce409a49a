"""`GET /api/games`: the live public games the browser client's Watch panel lists,
served by a started game server from the games table (real HTTP, real endpoint)."""

from __future__ import annotations

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
