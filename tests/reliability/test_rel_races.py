"""Races: many joins into one lobby, and a queued player who joins a lobby meanwhile.

- 20 players send JoinCustomGame to a 4-seat lobby in the same instant: exactly 3 are
  seated (CustomGameJoined), the other 17 get AccessDenied "full", and the lobby, its
  snapshot and its stored player rows all hold the same 4 players.
- A player queued for a two-player free-for-all joins a lobby while the matcher pairs
  them with a second queued player, at delays that put the join before, during and
  after the match. Expected outcome: the player ends up seated in exactly one game, and
  what the client was told agrees: either it joined the lobby (and no
  matched game seats it), or it was matched (and the lobby refused it).
"""

from __future__ import annotations

import asyncio
import time

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.engine import CustomGameSettings, GameEventMessage, type_free_for_all
from snaketron.game_server import GameServer
from snaketron.games import Room
from support.gameplay import create_lobby, snapshot

JOINERS = 20
SEATS = 4
FFA2 = type_free_for_all(2)
QUICK_MATCHING = {"matcher_interval_ms": 250, "matcher_idle_interval_ms": 250, "match_poll_ms": 100}
# When the join goes out after both players queued: before the first matching round,
# around it, and well after the match was delivered.
JOIN_DELAYS_S = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8)


async def _players(server: GameServer, accounts: AccountClient, count: int, prefix: str) -> list[GameClient]:
    clients = []
    for i in range(count):
        signed = await accounts.register(f"{prefix}{i}", "secret1")
        client = await GameClient.connect(server.ws_url)
        await client.authenticate(signed.token)
        clients.append(client)
    return clients


async def _reply(client: GameClient) -> protocol.ServerMessage:
    """The first answer that is not a game event or a queue update."""
    while isinstance(message := await client.recv(), (GameEventMessage, protocol.QueueUpdate)):
        pass
    return message


async def test_twenty_joins_into_a_four_seat_lobby_seat_exactly_three(start_server, accounts_of, db, report):
    server = await start_server()
    stamp = time.monotonic_ns() % 10**8
    host, *joiners = await _players(server, accounts_of(server), 1 + JOINERS, f"race{stamp}x")
    created = await create_lobby(host, CustomGameSettings(arena_width=30, arena_height=20, max_players=SEATS))
    frame = protocol.encode_client_message(protocol.JoinCustomGame(game_code=created.game_code))
    # Every frame on the wire before the server reads any of them.
    await asyncio.gather(*(c.connection.send(frame, text=True) for c in joiners))
    replies = await asyncio.gather(*(_reply(c) for c in joiners))

    admitted = {c.user_id for c, r in zip(joiners, replies, strict=True) if isinstance(r, protocol.CustomGameJoined)}
    denied = [r.reason for r in replies if isinstance(r, protocol.AccessDenied)]
    hosted = server.rooms.get(created.game_id)
    seated = set(hosted.game.players)
    latest = (await snapshot(host)).event.Snapshot.game_state
    while len(latest.players) < SEATS:  # snapshots of the earlier joins come first
        latest = (await snapshot(host)).event.Snapshot.game_state
    await db.flush()
    stored = {p.user_id for p in (await db.get_game(created.game_id)).players}
    report(joiners=JOINERS, seats=SEATS, admitted=len(admitted), denied=len(denied), denied_reasons=sorted(set(denied)))
    assert len(admitted) == SEATS - 1 and len(denied) == JOINERS - SEATS + 1
    assert all("full" in reason for reason in denied), denied
    assert seated == set(latest.players) == stored == admitted | {host.user_id}
    for client in (host, *joiners):
        await client.close()


def _games_seating(server: GameServer, user_id: int) -> list[Room]:
    """Every game of the host that seats the user (a matched duel may be over already)."""
    return [h for h in server.rooms.games.values() if h.is_player(user_id)]


async def test_a_queued_player_joining_a_lobby_ends_up_in_exactly_one_game(start_server, accounts_of, report):
    server = await start_server(**QUICK_MATCHING)
    stamp = time.monotonic_ns() % 10**8
    outcomes = []
    for trial, delay in enumerate(JOIN_DELAYS_S):
        host, player, rival = await _players(server, accounts_of(server), 3, f"mm{stamp}t{trial}x")
        lobby = await create_lobby(host, CustomGameSettings(arena_width=30, arena_height=20, max_players=4))
        await rival.send(protocol.QueueForMatch(game_type=FFA2))
        await player.send(protocol.QueueForMatch(game_type=FFA2))
        await asyncio.sleep(delay)  # the race's timing, not a wait for anything
        await player.send(protocol.JoinCustomGame(game_code=lobby.game_code))
        told = []
        while not isinstance(answer := await _reply(player), (protocol.CustomGameJoined, protocol.AccessDenied)):
            told.append(type(answer).__name__)
        told.append(type(answer).__name__)
        await server.matchmaking.matcher.wait_rounds(3, timeout_s=10)  # any match still to come has come
        player.skipped.clear()
        await player.send(protocol.Ping())
        await player.expect(protocol.Pong)
        told += [type(m).__name__ for m in player.skipped if not isinstance(m, GameEventMessage)]

        seats = _games_seating(server, player.user_id)
        kinds = sorted(h.kind for h in seats)
        outcomes.append({"delay_s": delay, "told": told, "seated_in": kinds})
        matched = "MatchFound" in told
        joined = "CustomGameJoined" in told
        assert len(seats) == 1, outcomes[-1]
        assert (kinds == ["custom"]) == joined and (kinds == ["matchmaking"]) == matched, outcomes[-1]
        for client in (host, player, rival):
            await client.close()
    report(
        trials=len(outcomes),
        ended_in_lobby=sum(o["seated_in"] == ["custom"] for o in outcomes),
        ended_in_matched_game=sum(o["seated_in"] == ["matchmaking"] for o in outcomes),
        outcomes=outcomes,
    )
