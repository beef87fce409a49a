"""Game commands are handled as their frame arrives (ws_connection), in order with
everything else the client sent."""

from __future__ import annotations

from websockets.frames import Frame, Opcode

from snaketron import protocol
from snaketron.engine import Direction, GameEventMessage
from support.gameplay import snapshot, turn


async def start_solo(client) -> GameEventMessage:
    await client.send(protocol.CreateSoloGame())
    created = await client.expect(protocol.SoloGameCreated)
    await client.send(protocol.JoinGame(game_id=created.game_id))
    return await snapshot(client)


async def test_a_command_is_taken_in_place(server, players):
    client = await players.new()
    first = await start_solo(client)
    before = server.ws.commands_in_place
    command = turn(client, Direction.UP, first.tick + 1)
    await client.send(command)
    scheduled = await client.expect(GameEventMessage)
    while scheduled.event.CommandScheduled is None:
        scheduled = await client.expect(GameEventMessage)
    stamped = scheduled.event.CommandScheduled.command_message
    assert stamped.command_id_client == command.command_id_client
    assert server.ws.commands_in_place == before + 1


async def test_a_command_behind_a_queued_frame_keeps_its_place(server, players):
    """Two frames in one TCP segment: a bad one (which the handler task answers with an
    Error) and then a command. The command must not overtake it."""
    client = await players.new()
    first = await start_solo(client)
    command = turn(client, Direction.UP, first.tick + 1)
    frames = [b'{"NoSuchMessage": {}}', protocol.encode_client_message(command)]
    wire = b"".join(Frame(Opcode.TEXT, f).serialize(mask=True, extensions=[]) for f in frames)
    before = server.ws.commands_in_place
    client.connection.transport.write(wire)
    replies = []
    while len(replies) < 2:
        message = await client.recv()
        if isinstance(message, protocol.Error) or (
            isinstance(message, GameEventMessage) and message.event.CommandScheduled is not None
        ):
            replies.append(message)
    assert isinstance(replies[0], protocol.Error) and replies[0].code == "unknown_message"
    assert replies[1].event.CommandScheduled.command_message.command_id_client == command.command_id_client
    assert server.ws.commands_in_place == before  # it waited its turn in the queue


async def test_refusals_still_take_the_usual_path(server, players):
    """A spectator's command, or one with a bad payload, gets the usual error."""
    client = await players.new()
    await start_solo(client)
    await client.send_raw('{"GameCommand": {"command": "Jump"}}')
    error = await client.expect(protocol.Error)
    assert error.code == "invalid_message"
