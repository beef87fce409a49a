"""A hosting server dies (kill -9) or drains (SIGTERM) while a game runs on it, with one
player relayed from another server."""

from __future__ import annotations

import signal
import time

from cluster.fleet import Cluster, ServerProcess, eventually
from snaketron import protocol
from snaketron.client import GameClient
from snaketron.engine import CustomGameSettings, GameEventMessage
from support.gameplay import create_lobby, events_until_complete, join_lobby, snapshot

# 1 Hz on a 200-wide arena: runs for minutes unless something ends it.
ENDLESS = CustomGameSettings(arena_width=200, arena_height=20, tick_duration_ms=1000, max_players=2)
# Both snakes reach the far walls after about 3 s.
SHORT = CustomGameSettings(arena_width=40, arena_height=12, tick_duration_ms=100, max_players=2)


async def live_ids(cluster: Cluster, region: str = "local") -> set[int]:
    now_ms = time.time_ns() // 1_000_000
    return {s.server_id for s in await cluster.db.list_live_servers(region, now_ms=now_ms, freshness_ms=3_000)}


async def duel_across_servers(
    cluster: Cluster, host: ServerProcess, other: ServerProcess, settings: CustomGameSettings
) -> tuple[GameClient, GameClient, int, GameEventMessage]:
    """A lobby hosted on `host` by a local player, joined by a player connected to `other`
    (so relayed), started. Returns both players, the game id and the relayed player's
    Started snapshot."""
    await eventually(lambda: _sees(other, host))
    local = await cluster.player(host)
    created = await create_lobby(local, settings)
    assert (await cluster.db.get_lobby(created.game_code, now_ms=0)).server_id == host.server_id
    relayed = await cluster.player(other)
    await join_lobby(relayed, created.game_code)
    await local.send(protocol.StartCustomGame())
    await relayed.expect(protocol.CustomGameStarting)
    started = await snapshot(relayed)
    assert started.event.Snapshot.game_state.status.Started.server_id == host.server_id
    return local, relayed, created.game_id, started


async def _sees(viewer: ServerProcess, server: ServerProcess) -> bool:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{viewer.api_url}/api/servers") as response:
        listed = await response.json()
    return server.server_id in {s["id"] for s in listed["servers"]}


async def test_kill_9_of_the_host_abandons_its_games_and_tells_relayed_clients(cluster: Cluster):
    a, b = await cluster.start("A", "B")
    local, relayed, game_id, started = await duel_across_servers(cluster, a, b, ENDLESS)
    # The host's own player moves to server B and rejoins its game there (relayed to A).
    await local.close()
    local = await cluster.reconnect(local, b)
    await local.send(protocol.JoinGame(game_id=game_id))
    rejoined = (await snapshot(local)).event.Snapshot.game_state
    assert rejoined.status.Started.server_id == a.server_id and local.user_id in rejoined.players

    a.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    assert await a.wait(10) == -signal.SIGKILL

    # The relayed player is told the game is over, next in the game's sequence, without a winner.
    events = [started, *await events_until_complete(relayed, timeout=20)]
    told_after = time.monotonic() - killed_at
    assert told_after < 20
    over = events[-1]
    assert over.event.StatusUpdated.status.Complete.winning_snake_id is None
    assert over.game_id == game_id
    assert over.sequence == max(e.sequence for e in events[:-1]) + 1
    assert over.tick >= started.tick
    # So is the rejoined player (its rejoin Snapshot repeated the last number).
    over_for_local = (await events_until_complete(local, timeout=20))[-1]
    assert over_for_local.event.StatusUpdated.status.Complete.winning_snake_id is None

    async def abandoned():
        return (await cluster.db.get_game(game_id)).game.status == "abandoned"

    await eventually(abandoned, timeout=20 - (time.monotonic() - killed_at))
    assert a.server_id not in await live_ids(cluster)
    assert (await cluster.db.get_server(a.server_id)).status == "offline"  # declared dead once
    assert not await _sees(b, a)

    # Back to local handling: the relayed player can play on at once.
    await relayed.send(protocol.CreateSoloGame())
    solo = await relayed.expect(protocol.SoloGameCreated)
    await relayed.send(protocol.JoinGame(game_id=solo.game_id))
    assert (await snapshot(relayed)).event.Snapshot.game_state.status.Started.server_id == b.server_id


async def test_sigterm_drains_lets_the_game_finish_and_exits_0(cluster: Cluster):
    a, b = await cluster.start("A", "B", SNAKETRON_DRAIN_GRACE_SECONDS="20")
    local, relayed, game_id, _ = await duel_across_servers(cluster, a, b, SHORT)
    latecomer = await cluster.player(a)

    a.signal(signal.SIGTERM)
    notice = await local.expect(protocol.ServerShutdown)
    assert notice.grace_period_seconds == 20

    async def status_of_a():
        return (await cluster.db.get_server(a.server_id)).status

    assert await eventually(lambda: _is(status_of_a, "draining"))
    # No new game on a draining server.
    await latecomer.send(protocol.CreateSoloGame())
    denied = await latecomer.expect(protocol.AccessDenied)
    assert "shutting down" in denied.reason

    # The running game goes on to its natural end, for the local and the relayed player.
    local_events = await events_until_complete(local)
    relayed_events = await events_until_complete(relayed)
    assert [e.sequence for e in local_events][-3:] == [e.sequence for e in relayed_events][-3:]
    # The relayed player's own server is not shutting down: it is not told so.
    assert not any(isinstance(m, (protocol.ServerShutdown, protocol.Shutdown)) for m in relayed.skipped)

    assert await a.wait(30) == 0
    assert await status_of_a() == "offline"
    stored = await cluster.db.get_game(game_id)  # written before the exit: nothing lost
    assert stored.game.status == "complete"
    winner = local_events[-1].event.StatusUpdated.status.Complete.winning_snake_id
    assert stored.game.winning_snake_id == winner and stored.game.ended_at_ms is not None
    # Nobody steers: the snakes may die in one tick, a draw (equal places).
    assert sorted(p.placement for p in stored.players) == ([1, 2] if winner is not None else [1, 1])

    # The relayed player plays on, on its own server (the drained one is gone).
    await relayed.send(protocol.CreateSoloGame())
    solo = await relayed.expect(protocol.SoloGameCreated)
    await relayed.send(protocol.JoinGame(game_id=solo.game_id))
    assert (await snapshot(relayed)).event.Snapshot.game_state.status.Started.server_id == b.server_id


async def _is(read, expected) -> bool:
    return await read() == expected


async def test_sigterm_on_a_relaying_server_lets_its_clients_finish_games_hosted_elsewhere(cluster: Cluster):
    a, b = await cluster.start("A", "B", SNAKETRON_DRAIN_GRACE_SECONDS="20")
    local, relayed, game_id, _ = await duel_across_servers(cluster, a, b, SHORT)

    b.signal(signal.SIGTERM)  # the relayed player's own server, not the game's host
    notice = await relayed.expect(protocol.ServerShutdown)
    assert notice.grace_period_seconds == 20
    relayed_events = await events_until_complete(relayed)  # the game plays on to its end
    await relayed.expect(protocol.Shutdown)
    code, _ = await relayed.wait_closed()
    assert code == 1001
    assert await b.wait(30) == 0

    local_events = await events_until_complete(local)
    assert local_events[-1].sequence == relayed_events[-1].sequence
    stored = await cluster.db.get_game(game_id)
    assert stored.game.status == "complete" and stored.game.server_id == a.server_id
