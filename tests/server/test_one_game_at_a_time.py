"""Limits on what one account or one connection can make the server host, over real
WebSockets: one running solo game per user, the server's game cap (SNAKETRON_MAX_GAMES),
one matched seat at a time, and no frame outside the message budget (Pings included)."""

from __future__ import annotations

import msgspec

from snaketron import protocol
from snaketron.client import AccountClient
from snaketron.engine import CommandId, Direction, GameCommand, GameCommandMessage, Turn
from snaketron.engine.types import CommandScheduled
from support.gameplay import events_until_complete, expect_denied, snapshot
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
