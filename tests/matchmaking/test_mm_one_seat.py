"""One matched seat at a time: a player matched into a game they have not left is not
queued again (each further match would seat them too, opposite a snake nobody steers)."""

from __future__ import annotations

from queueing import DUEL, match_found, queue

from snaketron import protocol
from support.gameplay import expect_denied


async def test_a_player_matched_into_a_game_not_left_cannot_queue_again(server, players) -> None:
    ann, bob = await players.new(), await players.new()
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    game_id = await match_found(ann)
    assert await match_found(bob) == game_id
    # Ann never joins and queues again: refused, and she is not waiting for a match.
    reason = await expect_denied(ann, protocol.QueueForMatch(game_type=DUEL), f"matched into game {game_id}")
    assert "join it (or leave it) first" in reason
    assert ann.user_id not in server.matchmaking.waiting
    # Once she has left it, she may queue again.
    await ann.send(protocol.JoinGame(game_id=game_id))
    await ann.send(protocol.LeaveGame())
    await queue(ann, DUEL)
    await ann.expect(protocol.QueueUpdate, timeout=5)
    assert ann.user_id in server.matchmaking.waiting
