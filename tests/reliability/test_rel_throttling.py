"""Throttling: a third of all DynamoDB requests refused, half of each batch handed back.

The fault proxy answers a third of the requests (every operation, the server's own
start-up included) with ThrottlingException and returns about half of the items of
every BatchWriteItem as UnprocessedItems, while the server registers and signs in
users, hosts a custom lobby game from code claim to result, and solo players play
games back to back. Every operation must complete within its deadline (no 503, no
operation giving up), every write must land, and the retries are counted: the
client's retry counters must match what the proxy did, one for one.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.engine import CustomGameSettings
from snaketron.game_server import GameServer
from support.gameplay import create_lobby, events_until_complete, join_lobby
from support.server_watch import TickWatch
from support.solo_loop import SoloLoop

THROTTLED = 1 / 3
UNPROCESSED = 0.5
USERS = 12
SOLO_PLAYERS = 3
SOLO_GAMES_EACH = 2
QUICK_LOBBY = CustomGameSettings(arena_width=20, arena_height=12, tick_duration_ms=30, max_players=3, is_private=False)
# With one request in three throttled, 8 attempts give up once in 6 561 operations; 12
# make it one in half a million. The deadline (5 s in tests) still bounds every one.
RETRY_ATTEMPTS = 12


async def _connected(server: GameServer, token: str) -> GameClient:
    client = await GameClient.connect(server.ws_url)
    await client.authenticate(token)
    return client


async def _sign_up(accounts: AccountClient, name: str, durations: list[float]) -> str:
    """Register, sign in and ask who we are: three account operations, timed."""
    started = time.monotonic()
    signed = await accounts.register(name, "secret1")
    await accounts.login(name, "secret1")
    await accounts.me(signed.token)
    durations.append(time.monotonic() - started)
    return signed.token


async def _lobby_game(server: GameServer, tokens: list[str]) -> int:
    host, *guests = [await _connected(server, t) for t in tokens]
    created = await create_lobby(host, QUICK_LOBBY)
    for guest in guests:
        await join_lobby(guest, created.game_code)
    await host.send(protocol.StartCustomGame())
    for member in (host, *guests):
        await member.expect(protocol.CustomGameStarting)
        await events_until_complete(member, timeout=30)
    return created.game_id


@pytest.fixture
def db(faulty_db):
    """This module's servers reach DynamoDB through the fault proxy."""
    return faulty_db


@pytest.mark.parametrize("faulty_db", [{"db_retry_attempts": RETRY_ATTEMPTS}], indirect=True)
async def test_throttling_and_partial_batches_slow_nothing_past_its_deadline(
    faulty_db, proxy, start_server, accounts_of, direct_db, report, server_errors
):
    proxy.throttle = THROTTLED
    proxy.unprocessed = UNPROCESSED
    server = await start_server()
    ticks = TickWatch(server.rooms)
    ticks.start()
    accounts = accounts_of(server)
    prefix = f"thr{time.monotonic_ns() % 10**8}"
    durations: list[float] = []
    tokens = await asyncio.gather(*(_sign_up(accounts, f"{prefix}u{i}", durations) for i in range(USERS)))

    loops = [SoloLoop(await _connected(server, t), SOLO_GAMES_EACH).start() for t in tokens[:SOLO_PLAYERS]]
    lobby_game = await _lobby_game(server, list(tokens[SOLO_PLAYERS : SOLO_PLAYERS + 3]))
    played = [game for loop in loops for game in await loop.finished()]
    await asyncio.wait_for(faulty_db.flush(), 30)
    figures = ticks.figures()

    lobby = await direct_db.get_game(lobby_game)
    incomplete = [g.game_id for g in played if (await direct_db.get_game(g.game_id)).game.status != "complete"]
    metrics, writer = faulty_db.metrics, faulty_db.writer.metrics
    errors = server_errors.all()
    report(
        requests=proxy.counts["requests"],
        throttled=proxy.counts["throttled"],
        unprocessed_items=proxy.counts["unprocessed_items"],
        client_retries=metrics.retries,
        client_gave_up=metrics.gave_up,
        writer_unprocessed_resent=writer.unprocessed,
        writer_items_written=writer.written,
        writer_lost=writer.lost,
        users_signed_up=len(tokens),
        sign_up_seconds_median=round(statistics.median(durations), 3),
        sign_up_seconds_max=round(max(durations), 3),
        deadline_s=faulty_db.client.policy.deadline_ms / 1000,
        games=len(played) + 1,
        incomplete_games=len(incomplete),
        refused_solo_games=sum(len(loop.refusals) for loop in loops),
        server_errors=len(errors),
        **figures,
    )
    assert proxy.counts["throttled"] > 0 and proxy.counts["unprocessed_items"] > 0
    # Counted one for one: each throttled answer is one retry, each withheld item one re-send.
    assert metrics.throttled == metrics.retries == proxy.counts["throttled"]
    assert writer.unprocessed == proxy.counts["unprocessed_items"]
    assert metrics.gave_up == 0 and writer.lost == 0 and writer.send_failures == 0
    assert lobby.game.status == "complete" and len(lobby.players) == 3 and incomplete == []
    assert all(loop.refusals == [] for loop in loops)
    assert errors == [], errors
