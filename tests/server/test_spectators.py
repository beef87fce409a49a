"""Spectators and impostors over real connections."""

from __future__ import annotations

from snaketron import protocol
from snaketron.engine import CustomGameSettings, Direction, GameEventMessage
from support.gameplay import create_lobby, expect_denied, join_lobby, snapshot, turn

SLOW = dict(arena_width=40, arena_height=20, tick_duration_ms=100, max_players=2)


async def started_duel(players, **settings):
    host, guest = await players.new(), await players.new()
    created = await create_lobby(host, CustomGameSettings(**{**SLOW, **settings}))
    await join_lobby(guest, created.game_code)
    await snapshot(host)
    await host.send(protocol.StartCustomGame())
    for member in (host, guest):
        await member.expect(protocol.CustomGameStarting)
        await snapshot(member)
    return host, guest, created


async def test_spectate_public_game_by_id_and_private_by_code(players):
    watcher = await players.new()
    _, _, public = await started_duel(players, is_private=False)
    await watcher.send(protocol.SpectateGame(game_id=public.game_id, game_code=None))
    await watcher.expect(protocol.SpectatorJoined)
    state = (await snapshot(watcher)).event.Snapshot.game_state
    assert state.status.Started is not None
    await watcher.send(protocol.LeaveGame())

    _, _, private = await started_duel(players, is_private=True)
    await expect_denied(watcher, protocol.SpectateGame(game_id=private.game_id, game_code=None), "private")
    await expect_denied(watcher, protocol.SpectateGame(game_id=private.game_id, game_code="WRONG000"), "private")
    await expect_denied(watcher, protocol.JoinGame(game_id=private.game_id), "cannot be watched")
    await watcher.send(protocol.SpectateGame(game_id=private.game_id, game_code=private.game_code))
    await watcher.expect(protocol.SpectatorJoined)
    await snapshot(watcher)
    # Admitted by code: a later JoinGame of the same game is allowed too.
    await watcher.send(protocol.LeaveGame())
    await watcher.send(protocol.JoinGame(game_id=private.game_id))
    await snapshot(watcher)


async def test_spectating_refused_when_not_allowed_or_unknown(players):
    watcher = await players.new()
    _, _, closed = await started_duel(players, is_private=False, allow_spectators=False)
    await expect_denied(
        watcher, protocol.SpectateGame(game_id=closed.game_id, game_code=closed.game_code), "does not allow"
    )
    await expect_denied(watcher, protocol.JoinGame(game_id=closed.game_id), "cannot be watched")
    await expect_denied(watcher, protocol.SpectateGame(game_id=99_999_999, game_code=None), "not found")


async def test_spectator_and_impostor_commands_change_nothing(players):
    host, guest, created = await started_duel(players, is_private=False)
    watcher = await players.new()
    await watcher.send(protocol.SpectateGame(game_id=created.game_id, game_code=None))
    await watcher.expect(protocol.SpectatorJoined)
    first = await snapshot(watcher)
    guest_snake = first.event.Snapshot.game_state.players[guest.user_id].snake_id

    await watcher.send(turn(watcher, Direction.UP, first.tick, snake_id=guest_snake))
    reply = await watcher.expect(protocol.Error)
    assert reply.code == "not_a_player"
    await host.send(turn(host, Direction.UP, first.tick, snake_id=guest_snake))
    reply = await host.expect(protocol.Error)
    assert reply.code == "command_rejected" and "own snake" in reply.message

    # Nothing was scheduled or turned for the guest's snake meanwhile.
    await guest.send(protocol.Ping())
    events = []
    while not isinstance(message := await guest.recv(), protocol.Pong):
        if isinstance(message, GameEventMessage):
            events.append(message)
    assert not [e for e in events if e.event.CommandScheduled is not None]
    assert not [e for e in events if e.event.SnakeTurned is not None]


async def test_disconnect_and_rejoin_gets_a_fresh_snapshot_and_further_events(players):
    _, guest, created = await started_duel(players, is_private=True)
    await guest.close()
    back = await players.connect()
    await back.authenticate(guest.token)
    await back.send(protocol.JoinGame(game_id=created.game_id))
    fresh = await snapshot(back)
    state = fresh.event.Snapshot.game_state
    assert guest.user_id in state.players and state.status.Started is not None
    # The rejoined player may steer again and receives the game's later events.
    await back.send(turn(back, Direction.UP, fresh.tick))
    scheduled = None
    while scheduled is None:
        event = await back.expect(GameEventMessage)
        assert event.sequence > fresh.sequence
        if event.event.CommandScheduled is not None:
            scheduled = event
    # Events carry no user_id (as the original server's); the server's stamp names the sender.
    assert scheduled.user_id is None
    assert scheduled.event.CommandScheduled.command_message.command_id_server.user_id == guest.user_id
