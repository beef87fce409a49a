"""A 10 s DynamoDB outage while games run and players register.

The fault proxy between the server and the endpoint resets every connection for
10 s. Meanwhile solo players play games back to back (created, started, finished:
every step a write on the batch writer), a spectator joins a running game, and the
account API is asked to register and sign in every quarter second. The games must
go on ticking; the API must answer 503 during the outage and work after it; and every
write the server accepted must be in the table afterwards (read through a healthy
client): lost writes = 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import pytest

from snaketron import protocol
from snaketron.client import AccountClient, AccountError, GameClient
from snaketron.engine import SOLO, CustomGameSettings
from snaketron.game_server import GameServer
from support.server_watch import TickWatch
from support.solo_loop import SoloLoop

OUTAGE_S = 10.0
SOLO_PLAYERS = 4
API_PACE_S = 0.25  # one account request per quarter second, as a trickle of users would
WATCHED_GAME = CustomGameSettings(game_mode=SOLO, max_players=1, is_private=False, arena_width=200, arena_height=40)


@dataclass
class ApiCall:
    what: str
    started: float
    ended: float
    status: int


async def _connected(server: GameServer, token: str) -> GameClient:
    client = await GameClient.connect(server.ws_url)
    await client.authenticate(token)
    return client


async def _timed(what: str, call) -> ApiCall:
    started = time.monotonic()
    try:
        await call
        status = 200
    except AccountError as exc:
        status = exc.status
    return ApiCall(what, started, time.monotonic(), status)


async def _account_traffic(accounts: AccountClient, known: str, prefix: str, until: asyncio.Event) -> list[ApiCall]:
    """Register a new user and sign a known one in, in turns, until told to stop."""
    calls: list[ApiCall] = []
    while not until.is_set():
        n = len(calls)
        if n % 2 == 0:
            calls.append(await _timed("register", accounts.register(f"{prefix}n{n}", "secret1")))
        else:
            calls.append(await _timed("login", accounts.login(known, "secret1")))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), API_PACE_S)
    return calls


@pytest.fixture
def db(faulty_db):
    """This module's servers reach DynamoDB through the fault proxy."""
    return faulty_db


async def test_ten_second_outage_loses_no_accepted_write(
    faulty_db, proxy, start_server, accounts_of, direct_db, report, server_errors
):
    # The latecomer below keeps one connection through the whole outage, unauthenticated,
    # and signs in after it: longer than the default authentication deadline allows.
    server = await start_server(ws_auth_deadline_seconds=120)
    writer = faulty_db.writer
    accounts = accounts_of(server)
    prefix = f"out{time.monotonic_ns() % 10**8}"
    signed = [await accounts.register(f"{prefix}p{i}", "secret1") for i in range(SOLO_PLAYERS + 3)]
    loops = [SoloLoop(await _connected(server, s.token)).start() for s in signed[:SOLO_PLAYERS]]
    watcher = await _connected(server, signed[SOLO_PLAYERS].token)
    known = signed[SOLO_PLAYERS + 1]
    for loop in loops:  # each holds a game and a block of game ids before the lights go out
        await asyncio.wait_for(loop.playing.wait(), 10)
    # Solo games admit no spectators: the watcher gets a public one-player custom game,
    # on a board wide enough (200 cells, 20 s to the wall) to outlast the outage.
    host = await _connected(server, signed[SOLO_PLAYERS + 2].token)
    await host.send(protocol.CreateCustomGame(settings=WATCHED_GAME))
    watched = (await host.expect(protocol.CustomGameCreated)).game_id
    await host.send(protocol.StartCustomGame())
    await host.expect(protocol.CustomGameStarting)

    ticks = TickWatch(server.host)
    ticks.start()
    accepted_before, failures_before = writer.metrics.accepted, writer.metrics.send_failures
    outage_over = asyncio.Event()
    proxy.outage = True
    down = time.monotonic()
    traffic = asyncio.create_task(_account_traffic(accounts, known.username, prefix, outage_over))

    # A spectator joins a running game: its row is one more write to keep.
    await watcher.send(protocol.SpectateGame(game_id=watched, game_code=None))
    await watcher.expect(protocol.SpectatorJoined)
    # Signing in on the WebSocket needs the user record: refused for now, connection kept.
    latecomer = await GameClient.connect(server.ws_url)
    await latecomer.send(protocol.Token(token=known.token))
    refused = await latecomer.recv()
    assert isinstance(refused, protocol.Error) and refused.code == "unavailable", refused

    await asyncio.sleep(OUTAGE_S - (time.monotonic() - down))  # the outage itself
    during = ticks.figures()
    accepted_during = writer.metrics.accepted - accepted_before
    unsent_at_end = writer.pending
    proxy.heal()
    back = time.monotonic()
    outage_over.set()
    calls = await traffic

    # Everything works again.
    after = await _timed("register", accounts.register(f"{prefix}after", "secret1"))
    again = await _timed("login", accounts.login(known.username, "secret1"))
    await latecomer.authenticate(known.token)
    played = [game for loop in loops for game in await loop.stop()]
    await asyncio.wait_for(faulty_db.flush(), 30)

    # Every game the server hosted, read back through a healthy client.
    lost_games, lost_rows = [], 0
    for game in played:
        stored = await direct_db.get_game(game.game_id)
        if stored.game.status != "complete" or stored.game.final_tick is None:
            lost_games.append(game.game_id)
        lost_rows += 1 - sum(1 for p in stored.players if p.placement == 1)
    spectators = {s.user_id for s in await direct_db.list_spectators(watched)}
    lost_rows += watcher.user_id not in spectators
    in_outage = [c for c in calls if c.started >= down and c.ended <= back]
    touched = [g for g in played if down <= g.created <= back or down <= g.completed <= back]
    errors = server_errors.all()
    report(
        outage_s=round(back - down, 2),
        games_played=len(played),
        games_created_or_ended_in_outage=len(touched),
        games_created_in_outage=sum(1 for g in played if down <= g.created <= back),
        writes_accepted_in_outage=accepted_during,
        unsent_when_endpoint_returned=unsent_at_end,
        batch_send_failures=writer.metrics.send_failures - failures_before,
        lost_games=len(lost_games),
        lost_rows=lost_rows,
        writer_lost=writer.metrics.lost,
        api_calls_in_outage=len(in_outage),
        api_statuses_in_outage=sorted({c.status for c in in_outage}),
        api_after=[after.status, again.status],
        proxy_refused=proxy.counts["refused"],
        server_errors=len(errors),
        **during,
    )
    assert accepted_during > 0 and unsent_at_end > 0  # writes were accepted that could not be sent
    assert touched and lost_games == [] and lost_rows == 0
    assert writer.metrics.lost == 0 and writer.pending == 0
    assert in_outage and all(c.status == 503 for c in in_outage), in_outage
    assert after.status == again.status == 200
    assert during["ticks"] > 0 and any(down <= g.completed <= back for g in played)  # games went on
    assert errors == [], errors
