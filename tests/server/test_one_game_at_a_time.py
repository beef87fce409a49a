"""Limits on what one account or one connection can make the server host, over real
WebSockets: one running solo game per user, the server's game cap (SNAKETRON_MAX_GAMES),
one matched seat at a time, and no frame outside the message budget (Pings included)."""

from __future__ import annotations

import asyncio
import urllib.parse

import msgspec
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from snaketron import protocol
from snaketron.client import AccountClient
from snaketron.engine import CommandId, CustomGameSettings, Direction, GameCommand, GameCommandMessage, Turn
from snaketron.engine.types import SOLO, CommandScheduled, type_team_match
from support.gameplay import create_lobby, events_until_complete, expect_denied, join_lobby, snapshot, turn
from support.server_fixtures import Players


async def _solo_created(client) -> int:
    await client.send(protocol.CreateSoloGame())
    return (await client.expect(protocol.SoloGameCreated)).game_id


async def test_creating_solo_games_over_and_over_keeps_one_running_per_user(server, players) -> None:
    ann = await players.new()
    other_tab = await players.connect()
    await other_tab.authenticate(ann.token)
    first = await _solo_created(ann)
    await other_tab.send(protocol.JoinGame(game_id=first))
    await snapshot(other_tab)
    created = [await _solo_created(ann) for _ in range(5)]
    assert len(set(created)) == 5 and first not in created
    # The newest wins: every earlier one was abandoned, and whoever was in it is told so.
    assert [r.game_id for r in server.rooms.running_games()] == [created[-1]]
    ended = await events_until_complete(other_tab)
    assert ended[-1].event.StatusUpdated.status.Complete.winning_snake_id is None
    # Another user's solo game is not touched.
    bob = await players.new()
    bobs = await _solo_created(bob)
    assert {r.game_id for r in server.rooms.running_games()} == {created[-1], bobs}


async def test_past_max_games_new_solo_games_and_lobbies_are_refused(start_server) -> None:
    server = await start_server(max_games=2)
    async with AccountClient(server.api_url) as accounts:
        crowd = Players(server, accounts)
        try:
            ann, bob, cat = await crowd.new(), await crowd.new(), await crowd.new()
            await _solo_created(ann)
            await _solo_created(bob)
            await expect_denied(cat, protocol.CreateSoloGame(), "this server is full")
            await expect_denied(cat, protocol.CreateCustomGame(), "this server is full")
            assert server.rooms.running_game_count() == 2
            # The cap is checked before a user's earlier solo game is replaced.
            await expect_denied(ann, protocol.CreateSoloGame(), "this server is full")
            assert server.rooms.running_game_count() == 2
        finally:
            for client in crowd.clients:
                await client.close()


async def test_a_command_carries_its_senders_user_id_whatever_the_client_wrote(players) -> None:
    ann = await players.new()
    game_id = await _solo_created(ann)
    await ann.send(protocol.JoinGame(game_id=game_id))
    first = await snapshot(ann)
    forged = CommandId(tick=first.tick, user_id=ann.user_id + 1000, sequence_number=7)
    await ann.send(
        GameCommandMessage(
            command_id_client=forged, command_id_server=None, command=GameCommand(Turn=Turn(direction=Direction.UP))
        )
    )
    while True:
        event = await ann.recv()
        scheduled = getattr(getattr(event, "event", None), "CommandScheduled", None)
        if isinstance(scheduled, CommandScheduled):
            break
    echoed = scheduled.command_message.command_id_client
    assert (echoed.user_id, echoed.tick, echoed.sequence_number) == (ann.user_id, first.tick, 7)


async def test_a_game_command_that_is_not_utf8_closes_the_connection(players) -> None:
    ann = await players.new()
    game_id = await _solo_created(ann)
    await ann.send(protocol.JoinGame(game_id=game_id))
    first = await snapshot(ann)
    command = msgspec.json.encode(
        {
            "GameCommand": {
                "command_id_client": {"tick": first.tick, "user_id": ann.user_id, "sequence_number": 1},
                "command_id_server": None,
                "command": {"Turn": {"direction": "Up"}},
                "x": "@@",
            }
        }
    ).replace(b"@@", b"\xff\xfe")
    await ann.connection.send(command, text=True)  # a text frame, sent unchecked
    code, _ = await ann.wait_closed(timeout=10)
    assert code == 1007  # invalid frame payload data
    # Nothing of it was scheduled: the snake still heads left, with no command queued.
    state = players.server.rooms.get(game_id).game.state
    assert state.command_queue.queue == [] and state.arena.snakes[0].direction is Direction.LEFT


async def test_a_ping_flood_spends_the_message_budget_and_closes_the_connection(players) -> None:
    flooder, bystander = await players.new(), await players.new()
    # 80 frames of burst at 40 a second, then 20 refusals: well under 200 pings sent at once.
    for i in range(200):
        await flooder.connection.ping(str(i))
    code, reason = await flooder.wait_closed(timeout=10)
    assert (code, reason) == (1008, "too many invalid messages")
    # A client answering pings now and then (keepalive) is untouched.
    pong = await bystander.connection.ping("keepalive")
    await pong
    await bystander.send(protocol.Ping())
    assert isinstance(await bystander.recv(), protocol.Pong)


async def test_solo_games_and_lobbies_made_at_once_stop_at_max_games(start_server) -> None:
    server = await start_server(max_games=3)
    async with AccountClient(server.api_url) as accounts:
        crowd = Players(server, accounts)
        try:
            clients = [await crowd.new() for _ in range(8)]
            # Every request is on the wire before the server answers any: each waits on a
            # read (the game id, the lobby's write) between the cap's check and the room.
            for i, client in enumerate(clients):
                await client.send(protocol.CreateSoloGame() if i % 2 else protocol.CreateCustomGame())
            made, refused = 0, 0
            for client in clients:
                reply = await client.recv()
                if isinstance(reply, (protocol.SoloGameCreated, protocol.CustomGameCreated)):
                    made += 1
                else:
                    assert isinstance(reply, protocol.AccessDenied) and "this server is full" in reply.reason
                    refused += 1
            assert (made, refused) == (3, 5)
            assert server.rooms.running_game_count() == 3
        finally:
            for client in crowd.clients:
                await client.close()


async def test_one_open_lobby_per_host_across_connections(players) -> None:
    ann = await players.new()
    tabs = [await players.connect() for _ in range(3)]
    for tab in tabs:
        await tab.authenticate(ann.token)
    await ann.send(protocol.CreateCustomGame())
    first = await ann.expect(protocol.CustomGameCreated)
    reason = await expect_denied(tabs[0], protocol.CreateCustomGame(), f"you host lobby {first.game_code} already")
    assert "start it or leave it first" in reason
    # Two more tabs at once: neither gets a second lobby.
    for tab in tabs[1:]:
        await tab.send(protocol.CreateCustomGame())
    for tab in tabs[1:]:
        assert isinstance(await tab.recv(), protocol.AccessDenied)
    # Once she has left it, another connection of hers may host one.
    await ann.send(protocol.LeaveGame())
    await ann.send(protocol.Ping())
    await ann.expect(protocol.Pong)
    assert players.server.lobbies.find(first.game_code) is None
    await tabs[0].send(protocol.CreateCustomGame())
    await tabs[0].expect(protocol.CustomGameCreated)


async def test_pings_after_the_close_drop_the_connection(players) -> None:
    """A client that goes on pinging once the server's Close is out is dropped at once:
    websockets would otherwise answer every Ping until the closing handshake's 10 s."""
    url = urllib.parse.urlsplit(players.server.ws_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    client = ClientProtocol(parse_uri(players.server.ws_url))
    client.send_request(client.connect())
    writer.write(b"".join(client.data_to_send()))
    while client.handshake_exc is None and not client.events_received() and client.state is not State.OPEN:
        client.receive_data(await reader.read(1 << 16))
    client.send_ping(b"x" * 125)
    ping = b"".join(client.data_to_send())  # one masked Ping frame, written again and again
    closed_by_server, after_close, dropped = False, 0, False
    try:
        while after_close < 20_000:
            writer.write(ping * 100)
            await writer.drain()
            if closed_by_server:
                after_close += 100
            try:
                data = await asyncio.wait_for(reader.read(1 << 16), 0.001)
            except TimeoutError:
                continue
            if not data:
                dropped = True
                break
            if not closed_by_server:
                client.receive_data(data)
                closed_by_server = any(
                    isinstance(e, Frame) and e.opcode is Opcode.CLOSE for e in client.events_received()
                )
    except ConnectionError:
        dropped = True
    finally:
        writer.close()
    assert closed_by_server and dropped, (closed_by_server, after_close)
    assert after_close < 20_000


SLOW_SOLO_LOBBY = CustomGameSettings(
    game_mode=SOLO, arena_width=200, arena_height=200, tick_duration_ms=1000, is_private=True
)


async def test_one_account_holds_at_most_three_unfinished_games_here(players) -> None:
    """Started and left, a custom game runs on until it ends: without a bound per user,
    one connection could keep the server's whole cap of games busy."""
    ann = await players.new()
    for _ in range(3):
        await ann.send(protocol.CreateCustomGame(settings=SLOW_SOLO_LOBBY))
        await ann.expect(protocol.CustomGameCreated)
        await ann.send(protocol.StartCustomGame())
        await ann.expect(protocol.CustomGameStarting)
        await ann.send(protocol.LeaveGame())
    reason = await expect_denied(ann, protocol.CreateCustomGame(settings=SLOW_SOLO_LOBBY), "unfinished games")
    assert "3 unfinished games here already" in reason
    await expect_denied(ann, protocol.CreateSoloGame(), "unfinished games")
    assert players.server.rooms.running_game_count() == 3


async def test_passing_the_host_role_on_does_not_seat_one_player_in_more_lobbies(players) -> None:
    ann, bob = await players.new(), await players.new()
    tabs = []
    for i in range(4):
        await ann.send(protocol.CreateCustomGame())
        created = await ann.expect(protocol.CustomGameCreated)
        tab = await players.connect()
        await tab.authenticate(bob.token)
        tabs.append(tab)
        await tab.send(protocol.JoinCustomGame(game_code=created.game_code))
        reply = await tab.recv()
        if i < 3:
            assert isinstance(reply, protocol.CustomGameJoined), reply
            await ann.send(protocol.LeaveGame())  # Bob hosts it now
        else:  # Bob sits in three lobbies already
            assert isinstance(reply, protocol.AccessDenied) and "unfinished games" in reply.reason


async def test_a_refused_game_leaves_the_match_queue_entry_alone(start_server) -> None:
    server = await start_server(max_games=1, matcher_interval_ms=60_000)
    async with AccountClient(server.api_url) as accounts:
        crowd = Players(server, accounts)
        try:
            ann, bob = await crowd.new(), await crowd.new()
            await ann.send(protocol.CreateSoloGame())
            await ann.expect(protocol.SoloGameCreated)
            await bob.send(protocol.QueueForMatch(game_type=type_team_match(1)))
            await bob.expect(protocol.QueueUpdate)
            await expect_denied(bob, protocol.CreateSoloGame(), "this server is full")
            await expect_denied(bob, protocol.CreateCustomGame(), "this server is full")
            assert bob.user_id in server.matchmaking.waiting  # still queued
        finally:
            for client in crowd.clients:
                await client.close()


WIDE_FFA = CustomGameSettings(arena_width=200, arena_height=12, tick_duration_ms=100, max_players=3)


async def test_a_game_left_after_ones_snake_died_holds_no_seat(players) -> None:
    """Dead and gone from a free-for-all the others play on: that game no longer counts
    against the player's three seats, however long it lasts."""
    ann = await players.new()
    for _ in range(3):
        others = [await players.new(), await players.new()]
        created = await create_lobby(ann, WIDE_FFA)
        for other in others:
            await join_lobby(other, created.game_code)
        await ann.send(protocol.StartCustomGame())
        await ann.expect(protocol.CustomGameStarting)
        first = await snapshot(ann)
        while first.event.Snapshot.game_state.status.Started is None:
            first = await snapshot(ann)
        mine = first.event.Snapshot.game_state.players[ann.user_id].snake_id
        await ann.send(turn(ann, Direction.UP, first.tick))  # into the top wall, 12 cells away at most
        while True:
            event = await ann.recv()
            died = getattr(getattr(event, "event", None), "SnakeDied", None)
            if died is not None and died.snake_id == mine:
                break
        await ann.send(protocol.LeaveGame())
    assert len(players.server.rooms.seating(ann.user_id)) == 3  # the others play on
    await ann.send(protocol.CreateSoloGame())
    await ann.expect(protocol.SoloGameCreated)
