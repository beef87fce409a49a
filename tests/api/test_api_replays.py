"""GET /api/games/<id> and /api/games/<id>/replay over real HTTP, on the embedded endpoint."""

from __future__ import annotations

import msgspec

from snaketron.db.models import GamePlayerRecord, GameRecord
from snaketron.engine import SOLO, GameEventMessage, type_team_match
from snaketron.replays.store import ReplayStore, ReplaySummary
from support.accounts import account
from support.replay_games import Plan, play

DAY_S = 86_400
_events = msgspec.json.Decoder(list[GameEventMessage])


async def finished_game(db, plan: Plan, *, private: bool, mode: str = "matchmaking", replay_clock=None):
    """Write what a finished game leaves behind: its game item, player rows and replay."""
    game, live, _ = play(plan)
    if not game.is_complete:  # the bots outlived the plan: the host ends the game
        live += game.abandon()
    await store_finished(db, game, private=private, mode=mode, replay_clock=replay_clock)
    return game, live


async def store_finished(db, game, *, private: bool, mode: str = "matchmaking", replay_clock=None) -> None:
    """Store a finished engine `game` as the server does: game item, player rows, replay."""
    recording = game.recording()
    assert recording is not None
    winner = next((u for u, s in game.players.items() if s == game.winning_snake_id), None)
    start_ms = recording.start_ms or 0
    record = GameRecord(
        game_id=game.game_id,
        server_id=1,
        game_type=msgspec.to_builtins(game.game_type),
        game_mode=mode,
        status="complete",
        is_private=private,
        created_at_ms=start_ms - 1000,
        started_at_ms=start_ms,
        ended_at_ms=start_ms + game.tick * game.tick_ms,
        winning_snake_id=game.winning_snake_id,
        winner_user_id=winner,
        final_tick=game.tick,
    )
    places = {user_id: i + 1 for i, user_id in enumerate(game.placements())}
    rows = [
        GamePlayerRecord(game_id=game.game_id, user_id=u, username=game.usernames[u], snake_id=s, placement=places[u])
        for u, s in game.players.items()
    ]
    db.save_game_nowait(record, rows)
    store = ReplayStore(db, ttl_seconds=30 * DAY_S, **({"clock_ms": replay_clock} if replay_clock else {}))
    store.save(recording, ReplaySummary(is_private=private, ended_at_ms=record.ended_at_ms or 0))
    await db.flush()


def duel_plan(seed: int) -> Plan:
    return Plan(type_team_match(1), 2, 0, seed, (1, 2), (0, 3), 0, None)


async def test_a_public_game_is_summarised_and_replayed_for_anyone(api) -> None:
    game, live = await finished_game(api.db, duel_plan(5), private=False)
    status, body, _ = await api.get(f"/api/games/{game.game_id}")
    assert status == 200, body
    assert body["replay_available"] is True
    assert body["game_type"] == {"TeamMatch": {"per_team": 1}}
    assert [p["username"] for p in body["players"]] == [game.usernames[u] for u in game.placements()]
    assert body["players"][0]["placement"] == 1
    assert body["duration_ms"] == game.tick * game.tick_ms
    assert body["final_tick"] == game.tick
    async with api.http.get(f"{api.url}/api/games/{game.game_id}/replay") as resp:
        assert resp.status == 200
        raw = await resp.read()
    replay = msgspec.json.decode(raw)
    assert replay["final_tick"] == game.tick
    events = _events.decode(msgspec.json.encode(replay["events"]))
    assert events[0].event.Snapshot is not None
    assert msgspec.json.encode(events[1:]) == msgspec.json.encode(live)
    assert events[-1].event.StatusUpdated is not None


async def test_a_private_game_is_seen_by_its_players_only(api) -> None:
    game, _ = await finished_game(api.db, Plan(SOLO, 1, 0, 8, (2,), (0,), 0, None), private=False, mode="solo")
    path = f"/api/games/{game.game_id}"
    player = api.tokens.issue(100, "bot0")
    stranger = api.tokens.issue(555, "someone")
    await account(api.db, 100, "bot0")
    await account(api.db, 555, "someone")
    for suffix in ("", "/replay"):
        status, body, _ = await api.get(path + suffix)
        assert status == 404 and body == {"error": "Game not found"}
        status, body, _ = await api.get(path + suffix, headers={"Authorization": f"Bearer {stranger}"})
        assert status == 404 and body == {"error": "Game not found"}
        status, _, _ = await api.get(path + suffix, headers={"Authorization": f"Bearer {player}"})
        assert status == 200
        status, body, _ = await api.get(path + suffix, headers={"Authorization": "Bearer nonsense"})
        assert status == 401


async def test_a_private_lobby_game_is_hidden_like_an_unknown_one(api) -> None:
    game, _ = await finished_game(api.db, duel_plan(9), private=True, mode="custom")
    assert (await api.get(f"/api/games/{game.game_id}"))[:2] == (404, {"error": "Game not found"})
    token = api.tokens.issue(101, "bot1")
    await account(api.db, 101, "bot1")
    status, body, _ = await api.get(f"/api/games/{game.game_id}", headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and body["is_private"] is True


async def test_unknown_and_expired_are_404(api) -> None:
    assert (await api.get("/api/games/987654"))[0] == 404
    assert (await api.get("/api/games/987654/replay"))[0] == 404
    assert (await api.get("/api/games/99999999999999999999"))[0] == 404
    assert (await api.get("/api/games/abc"))[0] == 404
    # Written 31 days ago with a 30-day TTL: DynamoDB may still hold it; nobody sees it.
    import time

    long_ago = int(time.time() * 1000) - 31 * DAY_S * 1000
    game, _ = await finished_game(api.db, duel_plan(12), private=False, replay_clock=lambda: long_ago)
    status, body, _ = await api.get(f"/api/games/{game.game_id}")
    assert status == 200 and body["replay_available"] is False
    status, body, _ = await api.get(f"/api/games/{game.game_id}/replay")
    assert status == 404 and "expired" in body["error"]


async def test_a_replay_of_other_rules_is_a_clear_409(api) -> None:
    game, _ = await finished_game(api.db, duel_plan(13), private=False)
    recording = game.recording()
    assert recording is not None
    ReplayStore(api.db, ttl_seconds=DAY_S).save(
        msgspec.structs.replace(recording, rules_version=0), ReplaySummary(is_private=False, ended_at_ms=0)
    )
    await api.db.flush()
    status, body, _ = await api.get(f"/api/games/{game.game_id}/replay")
    assert status == 409
    assert "rules version 0" in body["error"]


async def test_game_reads_are_rate_limited_per_address(start_api_server) -> None:
    api = await start_api_server(read_rate_per_min=3, api_rate_per_min=1)
    statuses = [(await api.get("/api/games/1"))[0] for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    api.clock.now += 60
    assert (await api.get("/api/games/1"))[0] == 404
