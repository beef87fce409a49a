"""SIGTERM to a `snaketron serve` process while games run loses no accepted write.

The process runs against the test's tables on the test endpoint (configured by its
environment, as an operator would). A quick duel has just ended (its final write
likely still queued), solo players are mid-game, a three-player custom game with a
spectator is far from its end, and a lobby waits for players when the process gets
SIGTERM with a 1 s grace period. Clients must be told (ServerShutdown,
then Shutdown, then a 1001 close), the process must exit 0, and the table must hold
every game's final item (complete, or abandoned when the grace ran out) with all its
player and spectator rows, and the server's own item must say offline.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.engine import CustomGameSettings
from support.gameplay import create_lobby, events_until_complete, join_lobby
from support.serve_process import default_env, serve_process_async
from support.solo_loop import SoloLoop

GRACE_S = 1
SOLO_PLAYERS = 3
LONG_GAME = CustomGameSettings(arena_width=200, arena_height=200, tick_duration_ms=100, max_players=3, is_private=False)
WAITING_LOBBY = CustomGameSettings(arena_width=30, arena_height=20, max_players=4)
QUICK_DUEL = CustomGameSettings(arena_width=20, arena_height=12, tick_duration_ms=30, max_players=2, is_private=False)


@dataclass
class ServeProcess:
    process: asyncio.subprocess.Process
    server_id: int
    ws_url: str
    api_url: str
    log_path: str

    def log(self) -> str:
        with open(self.log_path, errors="replace") as log:
            return log.read()[-6000:]


@pytest.fixture
async def serve(settings, dynamo_endpoint, tmp_path) -> AsyncIterator[ServeProcess]:
    """`snaketron serve` on the test's tables, configured through its environment only."""
    env = default_env(
        AWS_ENDPOINT_URL_DYNAMODB=dynamo_endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION=settings.aws_region,
        DYNAMODB_TABLE_PREFIX=settings.table_prefix,
        SNAKETRON_CREATE_TABLES="0",
        SNAKETRON_DEV_MODE="1",  # loopback, on the test endpoint
        SNAKETRON_DRAIN_GRACE_SECONDS=str(GRACE_S),
        SNAKETRON_API_RATE_PER_MIN="0",
        SNAKETRON_ARGON2_TIME_COST="1",
        SNAKETRON_ARGON2_MEMORY_KIB="64",
    )
    log_path = str(tmp_path / "serve.log")
    async with serve_process_async(env, log_path) as (process, banner):
        yield ServeProcess(
            process,
            int(re.search(r"server (\d+)", banner).group(1)),
            re.search(r"WebSocket\s+(ws://\S+)", banner).group(1),
            re.search(r"HTTP API\s+(http://\S+)/api", banner).group(1),
            log_path,
        )


async def _connected(ws_url: str, token: str) -> GameClient:
    client = await GameClient.connect(ws_url)
    await client.authenticate(token)
    return client


async def _until_closed(client: GameClient) -> tuple[list[str], int | None]:
    """Every message up to the close (names), and the close code."""
    seen = []
    try:
        while True:
            seen.append(type(await client.recv(timeout=30)).__name__)
    except Exception:
        code, _ = await client.wait_closed()
        return seen, code


async def test_sigterm_mid_game_loses_no_accepted_write(serve, db, report):
    async with AccountClient(serve.api_url) as accounts:
        prefix = f"term{time.monotonic_ns() % 10**8}"
        tokens = [(await accounts.register(f"{prefix}x{i}", "secret1")).token for i in range(SOLO_PLAYERS + 7)]
    loops = [SoloLoop(await _connected(serve.ws_url, t)).start() for t in tokens[:SOLO_PLAYERS]]
    clients = [await _connected(serve.ws_url, t) for t in tokens[SOLO_PLAYERS:]]
    host, guest, third, watcher, lobby_host, duelist, rival = clients
    created = await create_lobby(host, LONG_GAME)
    for member in (guest, third):
        await join_lobby(member, created.game_code)
    await host.send(protocol.StartCustomGame())
    await host.expect(protocol.CustomGameStarting)
    await watcher.send(protocol.SpectateGame(game_id=created.game_id, game_code=None))
    await watcher.expect(protocol.SpectatorJoined)
    waiting = await create_lobby(lobby_host, WAITING_LOBBY)
    duel = await create_lobby(duelist, QUICK_DUEL)
    await join_lobby(rival, duel.game_code)
    await duelist.send(protocol.StartCustomGame())
    await duelist.expect(protocol.CustomGameStarting)
    await events_until_complete(duelist)
    for loop in loops:
        await asyncio.wait_for(loop.playing.wait(), 10)  # every solo player is mid-game

    signalled = time.monotonic()
    serve.process.send_signal(signal.SIGTERM)
    told, close_code = await _until_closed(watcher)
    exit_code = await asyncio.wait_for(serve.process.wait(), 60)
    exited_after = time.monotonic() - signalled
    solo_games = [game for loop in loops for game in await loop.finished()]
    for client in clients:
        await client.close()

    expected = {g.game_id: 1 for g in solo_games}
    expected[created.game_id] = 3
    expected[waiting.game_id] = 1
    expected[duel.game_id] = 2
    statuses, lost_items, lost_rows = {}, [], 0
    for game_id, players in expected.items():
        stored = await db.get_game(game_id)
        statuses[game_id] = stored.game.status
        if stored.game.status not in ("complete", "abandoned") or stored.game.ended_at_ms is None:
            lost_items.append(game_id)
        lost_rows += players - len(stored.players)
    lost_rows += watcher.user_id not in {s.user_id for s in await db.list_spectators(created.game_id)}
    server_status = (await db.get_server(serve.server_id)).status
    report(
        grace_s=GRACE_S,
        games_hosted=len(expected),
        rows_checked=sum(expected.values()) + 1,
        final_statuses=dict(Counter(statuses.values())),
        lost_game_items=len(lost_items),
        lost_rows=lost_rows,
        exit_code=exit_code,
        exited_after_s=round(exited_after, 2),
        spectator_told=told[-3:],
        close_code=close_code,
        server_status=server_status,
    )
    assert exit_code == 0, serve.log()
    assert "ServerShutdown" in told and told[-1] == "Shutdown" and close_code == 1001, told
    assert all(loop.server_closed for loop in loops)
    assert lost_items == [] and lost_rows == 0, (statuses, serve.log())
    assert statuses[created.game_id] == "abandoned"  # far from its end when the grace ran out
    assert statuses[duel.game_id] == "complete"
    assert server_status == "offline"
