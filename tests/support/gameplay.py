"""Playing helpers for tests that drive games over real connections."""

from __future__ import annotations

import time
from collections.abc import Callable

from snaketron import protocol
from snaketron.client import GameClient
from snaketron.engine import (
    CommandId,
    CustomGameSettings,
    Direction,
    GameCommand,
    GameCommandMessage,
    GameEventMessage,
    GameState,
    Turn,
)

_sequence = iter(range(1, 1_000_000))


def turn(client: GameClient, direction: Direction, tick: int, snake_id: int | None = None) -> GameCommandMessage:
    return GameCommandMessage(
        command_id_client=CommandId(tick=tick, user_id=client.user_id, sequence_number=next(_sequence)),
        command_id_server=None,
        command=GameCommand(Turn=Turn(snake_id=snake_id, direction=direction)),
    )


def is_complete(event: GameEventMessage) -> bool:
    status = event.event.StatusUpdated
    return status is not None and status.status != "Stopped" and status.status.Complete is not None


async def events_until_complete(client: GameClient, timeout: float = 20.0) -> list[GameEventMessage]:
    """Every game event up to and including the one that completes the game."""
    events: list[GameEventMessage] = []
    deadline = time.monotonic() + timeout
    while True:
        event = await client.expect(GameEventMessage, timeout=max(0.01, deadline - time.monotonic()))
        events.append(event)
        if is_complete(event):
            return events


async def snapshot(client: GameClient, timeout: float = 5.0) -> GameEventMessage:
    """The next Snapshot event (other events before it are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        event = await client.expect(GameEventMessage, timeout=max(0.01, deadline - time.monotonic()))
        if event.event.Snapshot is not None:
            return event


async def state_where(client: GameClient, wanted: Callable[[GameState], bool], timeout: float = 5.0) -> GameState:
    """The game state of the first Snapshot from now on that is `wanted` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        state = (await snapshot(client, max(0.01, deadline - time.monotonic()))).event.Snapshot.game_state
        if wanted(state):
            return state


async def expect_denied(client: GameClient, message: protocol.ClientMessage, reason_part: str) -> str:
    await client.send(message)
    reply = await client.recv()
    while isinstance(reply, GameEventMessage):  # snapshots of a lobby may be in flight
        reply = await client.recv()
    assert isinstance(reply, protocol.AccessDenied), reply
    assert reason_part in reply.reason, reply.reason
    return reply.reason


async def create_lobby(client, settings: CustomGameSettings) -> protocol.CustomGameCreated:
    await client.send(protocol.CreateCustomGame(settings=settings))
    created = await client.expect(protocol.CustomGameCreated)
    first = await snapshot(client)
    assert first.event.Snapshot.game_state.status == "Stopped"
    return created


async def join_lobby(client, code: str) -> protocol.CustomGameJoined:
    await client.send(protocol.JoinCustomGame(game_code=code))
    joined = await client.expect(protocol.CustomGameJoined)
    await snapshot(client)
    return joined
