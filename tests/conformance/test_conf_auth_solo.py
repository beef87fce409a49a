"""Conformance over a real WebSocket: authentication and solo games, frame by frame as
existing clients read them (expected frames from the audit in PROTOCOL.md)."""

from __future__ import annotations

from wire import (
    SOLO_GAME_TYPE,
    Peer,
    assert_numbered_without_gaps,
    event_tag,
    now_ms,
    state_of,
    tag_of,
)


async def test_auth_ping_and_clock_sync(players):
    account = await players.accounts.register("conf_auth", "secret1")
    peer = Peer(await players.connect())
    # Before the token: Ping and clock sync are answered, as the original answered them.
    await peer.send("Ping")
    assert await peer.next() == "Pong"
    await peer.send({"ClockSyncRequest": {"client_time": 1234}})
    reply = await peer.next()
    assert set(reply) == {"ClockSyncResponse"} and reply["ClockSyncResponse"]["client_time"] == 1234
    assert abs(reply["ClockSyncResponse"]["server_time"] - now_ms()) < 60_000
    await peer.send({"Token": account.token})
    # The original sent nothing on success; Authenticated is an extension old clients skip.
    assert await peer.next() == {"Authenticated": {"user_id": account.user_id, "username": "conf_auth"}}


async def test_a_bad_token_is_refused_and_the_socket_closed(players):
    client = await players.connect()
    peer = Peer(client)
    await peer.send({"Token": "not-a-jwt"})
    frame = await peer.next()
    assert tag_of(frame) == "AccessDenied" and "invalid token" in frame["AccessDenied"]["reason"]
    code, _ = await client.wait_closed()
    assert code == 1008


async def play_solo(peer: Peer, create: object, created_tag: str) -> tuple[int, dict, list[dict]]:
    await peer.send(create)
    created = await peer.next()
    assert tag_of(created) == created_tag, created
    game_id = created[created_tag] if created_tag == "JoinGame" else created[created_tag]["game_id"]
    if created_tag == "SoloGameCreated":
        assert created == {"SoloGameCreated": {"game_id": game_id}}
    await peer.send({"JoinGame": game_id})
    first = await peer.event()
    state = state_of(first)
    # A Custom game of mode Solo: the only form the existing clients treat as solo.
    assert state["game_type"] == SOLO_GAME_TYPE
    assert tag_of(state["status"]) == "Started"
    assert abs(state["start_ms"] - now_ms()) < 60_000
    assert state["players"] == {str(peer.user_id): {"user_id": peer.user_id, "snake_id": 0}}
    assert state["arena"]["snakes"][0]["body"] == [{"x": 35, "y": 20}, {"x": 38, "y": 20}]
    assert state["game_code"] is None and state["host_user_id"] is None
    # Turn up: the top wall is 21 cells away.
    await peer.send(
        {
            "GameCommand": {
                "command_id_client": {"tick": first["tick"], "user_id": peer.user_id, "sequence_number": 1},
                "command_id_server": None,
                "command": {"Turn": {"snake_id": 0, "direction": "Up"}},
            }
        }
    )
    events = [first, *await peer.events_until_complete()]
    return game_id, state, events


async def test_a_solo_game_is_custom_solo_from_create_to_game_over(players, db):
    peer = Peer(await players.new())
    game_id, _, events = await play_solo(peer, "CreateSoloGame", "SoloGameCreated")
    assert all(e["game_id"] == game_id for e in events)
    assert all(e["user_id"] is None for e in events), "the original sends user_id null on every event"
    assert_numbered_without_gaps(events)
    tags = [event_tag(e) for e in events]
    assert {"CommandScheduled", "SnakeTurned", "SnakeDied"} <= set(tags)
    scheduled = next(e for e in events if event_tag(e) == "CommandScheduled")
    stamp = scheduled["event"]["CommandScheduled"]["command_message"]["command_id_server"]
    assert stamp["user_id"] == peer.user_id and stamp["tick"] >= events[0]["tick"]
    assert events[-1]["event"] == {"StatusUpdated": {"status": {"Complete": {"winning_snake_id": None}}}}
    # Every periodic Snapshot says the same about the game type.
    assert all(state_of(e)["game_type"] == SOLO_GAME_TYPE for e in events if event_tag(e) == "Snapshot")
    await db.flush()
    stored = await db.get_game(game_id)
    assert stored.game.game_type == SOLO_GAME_TYPE
    assert stored.game.is_private and not stored.game.allow_spectators


async def test_queue_for_match_solo_makes_a_solo_game_at_once(players):
    peer = Peer(await players.new())
    # The matchmaking announcement ({"JoinGame": id}) answers a queued "Solo".
    game_id, state, events = await play_solo(peer, {"QueueForMatch": {"game_type": "Solo"}}, "JoinGame")
    assert state["game_type"] == SOLO_GAME_TYPE
    assert events[-1]["game_id"] == game_id


async def test_a_solo_game_admits_no_spectators(players):
    player = Peer(await players.new())
    await player.send("CreateSoloGame")
    game_id = (await player.next())["SoloGameCreated"]["game_id"]
    watcher = Peer(await players.new())
    for frame in ({"SpectateGame": {"game_id": game_id, "game_code": None}}, {"JoinGame": game_id}):
        await watcher.send(frame)
        reply = await watcher.next()
        assert tag_of(reply) == "AccessDenied", reply
    assert await watcher.quiet() == []


async def test_two_solo_games_back_to_back_on_one_connection(players):
    peer = Peer(await players.new())
    first_id, _, _ = await play_solo(peer, "CreateSoloGame", "SoloGameCreated")
    second_id, _, _ = await play_solo(peer, "CreateSoloGame", "SoloGameCreated")
    assert second_id != first_id
