"""Helpers for matchmaking tests: queue, wait for a match, join, set a rating."""

from __future__ import annotations

from snaketron import protocol
from snaketron.client import GameClient
from snaketron.db.models import RatingUpdate
from snaketron.engine import GameEventMessage, GameType, type_free_for_all, type_team_match
from snaketron.game_server import GameServer
from snaketron.rating import skill_from_mmr
from support.gameplay import snapshot

# The real rating windows and start delay; only rounds and polls come faster than in
# production (4 matching rounds a second), so tests spend their time on what they measure.
QUICK_MATCHING = {"matcher_interval_ms": 250, "match_poll_ms": 100, "queue_update_ms": 1_000}

FFA2 = type_free_for_all(2)
FFA3 = type_free_for_all(3)
FFA4 = type_free_for_all(4)
DUEL = type_team_match(1)


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


async def set_rating(db, client: GameClient, mmr: int) -> None:
    """Give a registered player a rating (user item and usernames copy)."""
    skill = skill_from_mmr(mmr)
    await db.update_ratings(
        [
            RatingUpdate(
                user_id=client.user_id,
                username=client.username,
                mmr=mmr,
                rating_mu=skill.mu,
                rating_sigma=skill.sigma,
                games_played=0,
            )
        ]
    )
