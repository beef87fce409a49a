"""Solo games over real connections: create, join, play to the wall, again."""

from __future__ import annotations

import itertools

from snaketron import protocol
from snaketron.engine import SOLO_GAME_TYPE, Direction
from support.gameplay import events_until_complete, snapshot, turn


async def play_solo_to_the_wall(client) -> tuple[int, list]:
    await client.send(protocol.CreateSoloGame())
    created = await client.expect(protocol.SoloGameCreated)
    await client.send(protocol.JoinGame(game_id=created.game_id))
    first = await snapshot(client)
    state = first.event.Snapshot.game_state
    assert state.game_type == SOLO_GAME_TYPE  # Custom, mode Solo: what clients recognise
    assert list(state.players) == [client.user_id]
    head = state.arena.snakes[0].body[0]
    assert (head.x, head.y, state.arena.snakes[0].direction) == (35, 20, Direction.LEFT)
    # Turn up: the wall at y = -1 is 21 cells away, sooner than the left wall.
    await client.send(turn(client, Direction.UP, first.tick))
    events = [first, *await events_until_complete(client)]
    return created.game_id, events


async def test_solo_game_runs_to_the_wall_and_is_recorded(players, db):
    client = await players.new()
    game_id, events = await play_solo_to_the_wall(client)
    tags = [e.event.tag for e in events]
    assert "CommandScheduled" in tags and "SnakeTurned" in tags and "SnakeDied" in tags
    assert events[-1].event.StatusUpdated.status.Complete.winning_snake_id is None
    # No gaps: each event takes the next number, a Snapshot repeats the last one.
    for before, event in itertools.pairwise(events):
        assert event.sequence == before.sequence + (0 if event.event.Snapshot is not None else 1)
    assert all(e.game_id == game_id for e in events)
    await db.flush()
    stored = await db.get_game(game_id)
    assert stored.game.status == "complete"
    assert stored.game.game_mode == "solo"
    assert [p.user_id for p in stored.players] == [client.user_id]
    assert stored.players[0].placement == 1


async def test_two_solo_games_in_a_row_on_one_connection(players):
    client = await players.new()
    first_id, _ = await play_solo_to_the_wall(client)
    second_id, events = await play_solo_to_the_wall(client)
    assert second_id != first_id
    assert events[-1].event.StatusUpdated is not None
