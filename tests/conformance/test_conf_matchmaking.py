"""Conformance over a real WebSocket: matchmaking on the server's default settings, frame
by frame as existing clients read them: a duel, and the browser client's 8-player
free-for-all button pressed by only 3 players (expected frames from the audit in
PROTOCOL.md)."""

from __future__ import annotations

from wire import Peer, assert_numbered_without_gaps, now_ms, state_of, tag_of


async def queue_and_join(peers: list[Peer], game_type: object, timeout: float) -> list[dict]:
    """Every peer queues; each gets {"JoinGame": id} (only QueueUpdates before it),
    answers with its own JoinGame and gets the game's first Snapshot."""
    for peer in peers:
        await peer.send({"QueueForMatch": {"game_type": game_type}})
    game_ids = set()
    for peer in peers:
        found, before = await peer.until("JoinGame", timeout)
        assert all(tag_of(frame) == "QueueUpdate" for frame in before), before
        for update in before:
            assert set(update["QueueUpdate"]) == {"position", "estimated_wait_seconds"}
        assert isinstance(found["JoinGame"], int)
        game_ids.add(found["JoinGame"])
    assert len(game_ids) == 1, "one game for all of them"
    (game_id,) = game_ids
    firsts = []
    for peer in peers:
        await peer.send({"JoinGame": game_id})
        firsts.append(await peer.event())
    return firsts


async def test_a_matchmade_duel_plays_through(players):
    peers = [Peer(await players.new()) for _ in range(2)]
    queued_ms = now_ms()
    firsts = await queue_and_join(peers, {"TeamMatch": {"per_team": 1}}, timeout=15)
    state = state_of(firsts[0])
    assert state["game_type"] == {"TeamMatch": {"per_team": 1}}
    assert tag_of(state["status"]) == "Started" and state["start_ms"] > queued_ms  # a countdown
    assert state["arena"]["team_zone_config"] is not None
    assert {int(uid) for uid in state["players"]} == {p.user_id for p in peers}
    # Head to head on the middle row: both die together, and nobody wins.
    for peer, first in zip(peers, firsts, strict=True):
        events = [first, *await peer.events_until_complete(timeout=20)]
        assert all(e["user_id"] is None for e in events)
        assert_numbered_without_gaps(events)
        assert tag_of(events[-1]["event"]["StatusUpdated"]["status"]) == "Complete"


async def test_the_eight_player_button_forms_a_game_with_three_players(players):
    peers = [Peer(await players.new()) for _ in range(3)]
    ffa8 = {"FreeForAll": {"max_players": 8}}
    # No AccessDenied: after the bounded wait (SNAKETRON_MATCH_PARTIAL_AFTER_MS, 10 s by
    # default) the queue forms a game from the 3 who came.
    firsts = await queue_and_join(peers, ffa8, timeout=30)
    state = state_of(firsts[0])
    assert state["game_type"] == ffa8
    assert len(state["players"]) == 3 and state["arena"]["width"] == 40
    # Seats fill the left column first, as the original server placed them.
    heads = [(snake["body"][0], snake["direction"]) for snake in state["arena"]["snakes"]]
    assert heads == [({"x": 4, "y": 2}, "Right"), ({"x": 4, "y": 38}, "Right"), ({"x": 35, "y": 20}, "Left")]
    for peer, first in zip(peers, firsts, strict=True):
        events = [first, *await peer.events_until_complete(timeout=20)]
        assert_numbered_without_gaps(events)


async def test_sizes_outside_the_bounds_and_custom_types_get_access_denied_naming_the_bounds(players):
    peer = Peer(await players.new())
    too_big = ({"FreeForAll": {"max_players": 17}}, {"TeamMatch": {"per_team": 5}}, {"FreeForAll": {"max_players": 1}})
    # A custom game is made in a lobby, never queued for.
    for game_type in (*too_big, {"Custom": {"settings": {"game_mode": "Duel", "max_players": 2}}}):
        await peer.send({"QueueForMatch": {"game_type": game_type}})
        reply = await peer.next()
        assert tag_of(reply) == "AccessDenied", reply
        assert "2 to 16" in reply["AccessDenied"]["reason"] and "1 to 4" in reply["AccessDenied"]["reason"]
    assert await peer.quiet() == []
