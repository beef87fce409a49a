"""Draining a server with games running: clients are told, games are recorded."""

from __future__ import annotations

from snaketron import protocol
from snaketron.engine import CustomGameSettings
from support.gameplay import create_lobby, is_complete, join_lobby, snapshot

LONG = CustomGameSettings(arena_width=200, arena_height=20, tick_duration_ms=1000, max_players=2)


async def test_drain_tells_clients_and_records_unfinished_games_as_abandoned(server, players, db):
    host, guest = await players.new(), await players.new()
    created = await create_lobby(host, LONG)
    await join_lobby(guest, created.game_code)
    await snapshot(host)
    await host.send(protocol.StartCustomGame())
    await host.expect(protocol.CustomGameStarting)

    await server.drain(grace_s=0.2)  # far too short for a 1 Hz game on a 200-wide arena

    notice = await host.expect(protocol.ServerShutdown)
    assert notice.grace_period_seconds == 0
    while not is_complete(event := await host.expect(protocol.GameEventMessage)):
        pass
    assert event.event.StatusUpdated.status.Complete.winning_snake_id is None
    await host.expect(protocol.Shutdown)
    code, _ = await host.wait_closed()
    assert code == 1001

    stored = await db.get_game(created.game_id)
    assert stored.game.status == "abandoned"
    assert len(stored.players) == 2
    assert (await db.get_server(server.server_id)).status == "offline"
