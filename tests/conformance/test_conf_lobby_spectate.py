"""Conformance over a real WebSocket: a custom lobby (create, join by code, start), its
game's events, a spectator, leaving and rejoining, frame by frame as existing clients
read them (expected frames from the audit in PROTOCOL.md)."""

from __future__ import annotations

from wire import Peer, assert_numbered_without_gaps, event_tag, now_ms, state_of, tag_of

DUEL_SETTINGS = {"game_mode": "Duel", "max_players": 2, "is_private": False, "allow_spectators": True}


def turn_frame(peer: Peer, tick: int, direction: str, number: int) -> dict:
    return {
        "GameCommand": {
            "command_id_client": {"tick": tick, "user_id": peer.user_id, "sequence_number": number},
            "command_id_server": None,
            "command": {"Turn": {"direction": direction}},
        }
    }


async def open_lobby(players, **settings: object) -> tuple[Peer, Peer, int, dict]:
    """A public duel lobby created by one player and joined by code by another; returns
    both, the game id and the last lobby state the host saw."""
    host = Peer(await players.new())
    before_ms = now_ms()
    await host.send({"CreateCustomGame": {"settings": {**DUEL_SETTINGS, **settings}}})
    created = await host.next()
    assert tag_of(created) == "CustomGameCreated" and set(created["CustomGameCreated"]) == {"game_id", "game_code"}
    game_id, code = created["CustomGameCreated"]["game_id"], created["CustomGameCreated"]["game_code"]
    lobby = state_of(await host.event())
    assert lobby["status"] == "Stopped"
    # Not 0: a lobby carries its creation time until the start sets it.
    assert before_ms - 1000 <= lobby["start_ms"] <= now_ms()
    assert lobby["game_code"] == code and lobby["host_user_id"] == host.user_id
    assert lobby["game_type"]["Custom"]["settings"]["game_mode"] == "Duel"
    guest = Peer(await players.new())
    await guest.send({"JoinCustomGame": {"game_code": code.lower()}})
    assert await guest.next() == {"CustomGameJoined": {"game_id": game_id}}
    seen_by_guest = state_of(await guest.event())
    seen_by_host = state_of(await host.event())  # a fresh Snapshot after the change of seats
    for state in (seen_by_guest, seen_by_host):
        assert state["status"] == "Stopped" and state["start_ms"] == lobby["start_ms"]
        assert set(state["players"]) == {str(host.user_id), str(guest.user_id)}
    return host, guest, game_id, seen_by_host


async def start(host: Peer, guest: Peer) -> list[dict]:
    """StartCustomGame: every member gets CustomGameStarting, then a Started Snapshot."""
    before_ms = now_ms()
    await host.send("StartCustomGame")
    firsts = []
    for member in (host, guest):
        assert await member.next() == "CustomGameStarting"
        first = await member.event()
        state = state_of(first)
        assert tag_of(state["status"]) == "Started"
        assert before_ms <= state["start_ms"] <= now_ms()
        firsts.append(first)
    return firsts


async def test_lobby_create_join_start_and_play_to_the_end(players):
    host, guest, game_id, _ = await open_lobby(players)
    host_first, guest_first = await start(host, guest)
    assert host_first["sequence"] == guest_first["sequence"]
    # The host turns into the top wall; the guest goes on: the guest wins.
    await host.send(turn_frame(host, host_first["tick"], "Up", 1))
    host_events = [host_first, *await host.events_until_complete()]
    guest_events = [guest_first, *await guest.events_until_complete()]
    for events in (host_events, guest_events):
        assert all(e["game_id"] == game_id and e["user_id"] is None for e in events)
        assert_numbered_without_gaps(events)
    # Both members saw the same events, numbered alike.
    assert [(e["sequence"], event_tag(e)) for e in host_events if event_tag(e) != "Snapshot"] == [
        (e["sequence"], event_tag(e)) for e in guest_events if event_tag(e) != "Snapshot"
    ]
    scheduled = next(e for e in host_events if event_tag(e) == "CommandScheduled")
    message = scheduled["event"]["CommandScheduled"]["command_message"]
    assert message["command_id_client"]["user_id"] == host.user_id
    assert message["command_id_server"]["user_id"] == host.user_id
    assert message["command"] == {"Turn": {"snake_id": 0, "direction": "Up"}}
    assert host_events[-1]["event"] == {"StatusUpdated": {"status": {"Complete": {"winning_snake_id": 1}}}}


async def test_only_the_host_may_start_and_settings_reach_every_member(players):
    host, guest, _, _ = await open_lobby(players)
    await guest.send("StartCustomGame")
    assert tag_of(await guest.next()) == "AccessDenied"
    await host.send({"UpdateCustomGameSettings": {"settings": {"arena_width": 30}}})
    for member in (host, guest):
        updated = await member.next()
        assert tag_of(updated) == "CustomGameSettingsUpdated"
        assert updated["CustomGameSettingsUpdated"]["settings"]["arena_width"] == 30
        state = state_of(await member.event())
        assert state["arena"]["width"] == 30 and state["start_ms"] > 0


async def test_a_spectator_by_id_as_a_string_sees_the_game_without_gaps(players):
    host, guest, game_id, _ = await open_lobby(players)
    host_first, _ = await start(host, guest)
    watcher = Peer(await players.new())
    # The browser client sends the id typed into its box as a string.
    await watcher.send({"SpectateGame": {"game_id": str(game_id), "game_code": None}})
    assert await watcher.next() == "SpectatorJoined"
    joined = await watcher.event()
    state = state_of(joined)
    assert set(state["players"]) == {str(host.user_id), str(guest.user_id)}
    # The spectator's Snapshot took no number: the players' stream has no gap.
    await host.send(turn_frame(host, joined["tick"], "Up", 1))
    host_events = [host_first, *await host.events_until_complete()]
    watcher_events = [joined, *await watcher.events_until_complete()]
    assert_numbered_without_gaps(host_events)
    assert_numbered_without_gaps(watcher_events)
    assert watcher_events[-1] == host_events[-1]


async def test_a_private_game_needs_its_code_to_be_watched(players):
    host = Peer(await players.new())
    await host.send({"CreateCustomGame": {"settings": {**DUEL_SETTINGS, "is_private": True}}})
    created = (await host.next())["CustomGameCreated"]
    watcher = Peer(await players.new())
    await watcher.send({"SpectateGame": {"game_id": created["game_id"], "game_code": None}})
    assert tag_of(await watcher.next()) == "AccessDenied"
    await watcher.send({"SpectateGame": {"game_id": str(created["game_id"]), "game_code": created["game_code"]}})
    assert await watcher.next() == "SpectatorJoined"
    assert state_of(await watcher.event())["status"] == "Stopped"


async def test_leave_then_rejoin_by_string_id_and_a_repeated_join_changes_nothing(players):
    # A wide arena: the two snakes, head to head on one row, meet only after ~10 s.
    host, guest, game_id, _ = await open_lobby(players, arena_width=200, arena_height=200)
    # A second JoinGame for the game a client is in: the original ignored it, so does this server.
    await guest.send({"JoinGame": game_id})
    assert await guest.quiet() == []
    await start(host, guest)
    # LeaveGame has no reply, and no game event follows it.
    await guest.send("LeaveGame")
    assert all(tag_of(frame) == "GameEvent" for frame in await guest.quiet())
    assert await guest.quiet() == []
    # Rejoin, with the id as a string: a Snapshot of where the game is, the snake kept.
    await guest.send({"JoinGame": str(game_id)})
    state = state_of(await guest.event())
    assert state["players"][str(guest.user_id)] == {"user_id": guest.user_id, "snake_id": 1}
    assert tag_of(state["status"]) == "Started"
    # A disconnected player reconnects and rejoins the same way.
    await host.client.close()
    again = Peer(await players.connect())
    await again.client.authenticate(host.client.token)
    await again.send({"JoinGame": game_id})
    state = state_of(await again.event())
    assert state["players"][str(host.user_id)]["snake_id"] == 0 and tag_of(state["status"]) == "Started"


async def test_non_numeric_ids_are_refused_and_change_nothing(players):
    peer = Peer(await players.new())
    for frame in ({"JoinGame": "3a"}, {"JoinGame": "-3"}, {"SpectateGame": {"game_id": "x", "game_code": None}}):
        await peer.send(frame)
        reply = await peer.next()
        assert tag_of(reply) == "Error" and reply["Error"]["code"] == "invalid_message", reply
    assert await peer.quiet() == []
