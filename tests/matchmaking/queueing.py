"""Helpers for matchmaking tests: queue, wait for a match, join, set a rating."""

from __future__ import annotations

import itertools

from snaketron import protocol
from snaketron.client import GameClient
from snaketron.db.models import RatingUpdate
from snaketron.engine import Direction, GameEventMessage, GameType, type_free_for_all, type_team_match
from snaketron.game_server import GameServer
from snaketron.rating import skill_from_mmr
from support.gameplay import events_until_complete, snapshot, turn

# The real rating windows and start delay; only rounds and polls come faster than in
# production (4 matching rounds a second), so tests spend their time on what they measure.
QUICK_MATCHING = {"matcher_interval_ms": 250, "match_poll_ms": 100, "queue_update_ms": 1_000}

FFA2 = type_free_for_all(2)
FFA3 = type_free_for_all(3)
FFA4 = type_free_for_all(4)
DUEL = type_team_match(1)

_rated_names = itertools.count(1)


async def queue(client: GameClient, game_type: GameType) -> None:
    await client.send(protocol.QueueForMatch(game_type=game_type))


async def queued(client: GameClient, game_type: GameType) -> protocol.QueueUpdate:
    """Queue where no match can form yet; returns once the ticket is in the queue (its
    first QueueUpdate)."""
    await queue(client, game_type)
    return await client.expect(protocol.QueueUpdate, timeout=5)


async def match_found(client: GameClient, timeout: float = 5.0) -> int:
    found = await client.expect(protocol.MatchFound, timeout=timeout)
    return found.game_id


async def join(client: GameClient, game_id: int) -> GameEventMessage:
    """JoinGame (the client's answer to MatchFound); returns the first Snapshot."""
    await client.send(protocol.JoinGame(game_id=game_id))
    return await snapshot(client)


async def nothing_matched(server: GameServer, *clients: GameClient, rounds: int = 3) -> None:
    """Let the matcher run `rounds` more rounds, then check no client was sent a match
    (a Ping's Pong comes after anything the server sent before it)."""
    assert server.matchmaking.matcher is not None
    await server.matchmaking.matcher.wait_rounds(rounds, timeout_s=10)
    for client in clients:
        client.skipped.clear()
        await client.send(protocol.Ping())
        await client.expect(protocol.Pong)
        assert not [m for m in client.skipped if isinstance(m, protocol.MatchFound)], client.skipped


async def rated_player(players, db, mmr: int) -> GameClient:
    """A new player with this rating, signed in after it was set: the session carries
    the rating its sign-in read, and a ticket carries the session's copy."""
    account = await players.accounts.register(f"rated{next(_rated_names)}", "secret1")
    await set_rating(db, account.user_id, account.username, mmr)
    client = await players.connect()
    await client.authenticate(account.token)
    return client


async def set_rating(db, user_id: int, username: str, mmr: int) -> None:
    """Give a registered player a rating (user item and usernames copy)."""
    skill = skill_from_mmr(mmr)
    await db.update_ratings(
        [
            RatingUpdate(
                user_id=user_id,
                username=username,
                mmr=mmr,
                rating_mu=skill.mu,
                rating_sigma=skill.sigma,
                games_played=0,
            )
        ]
    )


async def matched_duel(ann: GameClient, bob: GameClient) -> tuple[int, GameEventMessage]:
    """Both queue for a duel and, once matched, join; the game id and ann's first Snapshot."""
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    game_id = await match_found(ann)
    assert await match_found(bob) == game_id
    first = await join(ann, game_id)
    await join(bob, game_id)
    return game_id, first


def duel_sides(first: GameEventMessage, ann: GameClient, bob: GameClient) -> tuple[GameClient, GameClient]:
    """(winner, loser) once the loser steers into the wall: the loser is team 0's."""
    state = first.event.Snapshot.game_state
    snake_of = {uid: entry.snake_id for uid, entry in state.players.items()}
    loser = next(c for c in (ann, bob) if state.arena.snakes[snake_of[c.user_id]].team_id == 0)
    return (bob if loser is ann else ann), loser


async def lose_into_the_wall(loser: GameClient, first: GameEventMessage, *clients: GameClient) -> None:
    """The loser turns into the top wall at the first tick; waits for the end on `clients`."""
    await loser.send(turn(loser, Direction.UP, first.tick))
    for client in clients:
        await events_until_complete(client, timeout=15)


async def played_duel(ann: GameClient, bob: GameClient) -> tuple[int, GameClient, GameClient]:
    """A matched duel played to its end (team 0 loses); the game id, winner and loser."""
    game_id, first = await matched_duel(ann, bob)
    winner, loser = duel_sides(first, ann, bob)
    await lose_into_the_wall(loser, first, ann, bob)
    return game_id, winner, loser
