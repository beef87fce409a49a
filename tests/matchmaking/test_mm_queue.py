"""Matchmaking over real connections: queues, matches, leaving, reconnecting.

Issue 5's scenarios, against a started server and the embedded endpoint.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from queueing import DUEL, FFA2, FFA4, join, match_found, nothing_matched, queue, queued, rated_player

from snaketron import protocol
from snaketron.engine import Direction, GameTypeObject, TeamMatch, type_free_for_all, type_team_match
from snaketron.matchmaking.queues import RULES
from support.gameplay import expect_denied


async def test_two_players_of_a_duel_free_for_all_get_the_same_game(server, players, db):
    ann, bob = await players.new(), await players.new()
    await queue(ann, FFA2)
    await queue(bob, FFA2)
    game_id = await match_found(ann)
    assert await match_found(bob) == game_id
    first = await join(ann, game_id)
    state = first.event.Snapshot.game_state
    assert set(state.players) == {ann.user_id, bob.user_id}
    assert state.game_type == FFA2
    await db.flush()
    stored = await db.get_game(game_id)
    assert stored.game.game_mode == "matchmaking"
    assert stored.game.server_id == server.server_id
    assert {p.user_id: p.mmr_before for p in stored.players} == {ann.user_id: 1000, bob.user_id: 1000}
    # Delivered tickets are deleted.
    assert await db.list_region_tickets(server.settings.region, now_ms=int(time.time() * 1000)) == []


async def test_a_matched_game_starts_three_seconds_after_it_forms(server, players):
    ann, bob = await players.new(), await players.new()
    await queue(ann, FFA2)
    await queue(bob, FFA2)
    game_id = await match_found(ann)
    found_at = time.time() * 1000
    state = (await join(ann, game_id)).event.Snapshot.game_state
    assert state.status != "Stopped" and state.status.Started is not None
    assert server.settings.matchmade_start_delay_ms == 3_000
    assert 2_500 <= state.start_ms - found_at <= 3_000


async def test_four_players_of_free_for_all_4_make_one_game_of_four(server, players):
    crowd = [await players.new() for _ in range(4)]
    for client in crowd[:3]:
        await queue(client, FFA4)
    await nothing_matched(server, *crowd[:3], rounds=2)  # three are not a game of four
    await queue(crowd[3], FFA4)
    ids = {await match_found(client) for client in crowd}
    assert len(ids) == 1
    state = (await join(crowd[0], ids.pop())).event.Snapshot.game_state
    assert set(state.players) == {c.user_id for c in crowd}


async def test_six_players_of_free_for_all_2_make_exactly_three_games(server, players):
    crowd = [await players.new() for _ in range(6)]
    for client in crowd:
        await queue(client, FFA2)
    games: dict[int, list[int]] = {}
    for client in crowd:
        games.setdefault(await match_found(client), []).append(client.user_id)
    assert len(games) == 3
    assert sorted(len(members) for members in games.values()) == [2, 2, 2]


async def test_sizes_outside_the_bounds_are_refused_naming_the_bounds(server, players):
    client = await players.new()
    for game_type in (
        type_free_for_all(1),
        type_free_for_all(17),
        type_team_match(5),
        GameTypeObject(TeamMatch=TeamMatch(per_team=0)),
    ):
        denied = await expect_denied(client, protocol.QueueForMatch(game_type=game_type), "matchmaking offers")
        assert "FreeForAll for 2 to 16 players" in denied and "TeamMatch for 1 to 4 per team" in denied
    assert server.matchmaking.waiting == {}
    assert sorted(RULES) == sorted([f"ffa{n}" for n in range(2, 17)] + [f"team{k}" for k in range(1, 5)])


async def test_a_lone_player_who_leaves_the_queue_is_never_matched(server, players, db):
    ann, bob, cat = await players.new(), await players.new(), await players.new()
    update = await queued(ann, FFA2)
    assert update.position == 1 and update.estimated_wait_seconds >= 1
    await ann.send(protocol.LeaveQueue())
    await ann.expect(protocol.QueueLeft)
    await queued(bob, FFA2)
    await nothing_matched(server, ann, bob)
    await db.flush()
    tickets = await db.list_region_tickets(server.settings.region, now_ms=int(time.time() * 1000))
    assert [t.user_id for t in tickets] == [bob.user_id]
    # The queue works: the next player is matched with the one still waiting.
    await queue(cat, FFA2)
    assert await match_found(bob) == await match_found(cat)


async def test_a_waiting_player_gets_queue_updates_every_few_seconds(server, players):
    ann = await players.new()
    first = await queued(ann, FFA4)
    began = time.monotonic()
    second = await ann.expect(protocol.QueueUpdate, timeout=5)
    interval_s = server.settings.queue_update_ms / 1000
    assert time.monotonic() - began >= interval_s - 0.2
    assert first.position == second.position == 1
    assert 1 <= second.estimated_wait_seconds <= first.estimated_wait_seconds


async def test_a_player_who_disconnects_while_queued_is_never_matched(server, players):
    ann, bob, cat = await players.new(), await players.new(), await players.new()
    await queued(ann, FFA2)
    await ann.close()
    await queued(bob, FFA2)
    await nothing_matched(server, bob)
    assert ann.user_id not in server.matchmaking.waiting
    await queue(cat, FFA2)
    assert await match_found(bob) == await match_found(cat)


async def test_queueing_again_replaces_the_old_ticket(server, players, db):
    ann, bob = await players.new(), await players.new()
    await queued(ann, FFA2)
    await queued(ann, FFA4)
    await db.flush()
    tickets = await db.list_region_tickets(server.settings.region, now_ms=int(time.time() * 1000))
    assert [(t.user_id, t.queue_key) for t in tickets] == [(ann.user_id, "ffa4")]
    # Ann is no longer in the two-player queue.
    await queue(bob, FFA2)
    await nothing_matched(server, ann, bob, rounds=2)


async def test_a_matched_player_who_reconnects_rejoins_with_a_snapshot(server, players):
    ann, bob = await players.new(), await players.new()
    await queue(ann, FFA2)
    await queue(bob, FFA2)
    game_id = await match_found(ann)
    await match_found(bob)
    await join(ann, game_id)
    await ann.close()
    again = await players.connect()
    await again.authenticate(ann.token)
    # The server reminds a returning player of their running matchmade game.
    assert await match_found(again) == game_id
    state = (await join(again, game_id)).event.Snapshot.game_state
    assert ann.user_id in state.players
    assert state.status != "Stopped"


async def test_pairs_queued_three_seconds_apart_land_in_three_games(server, players, db):
    pairs = [(1400, 1420), (1480, 1500), (1580, 1600)]
    clients = []
    for pair in pairs:
        clients.append([await rated_player(players, db, mmr) for mmr in pair])
    found: list[asyncio.Task[int]] = []
    for i, two in enumerate(clients):
        if i:
            await asyncio.sleep(3)  # the scenario itself: pairs arrive 3 s apart
        for client in two:
            await queue(client, FFA2)
            found.append(asyncio.create_task(match_found(client, timeout=15)))
    ids = await asyncio.gather(*found)
    games = [ids[0:2], ids[2:4], ids[4:6]]
    assert all(a == b for a, b in games), games
    assert len({a for a, _ in games}) == 3


async def test_twelve_players_with_spread_ratings_mostly_match_within_a_minute(server, players, db):
    ratings = [1000, 1050, 1230, 1260, 1500, 1720, 1800, 1990, 2300, 2350, 2700, 3300]
    random.Random(5).shuffle(ratings)
    crowd = [await rated_player(players, db, mmr) for mmr in ratings]
    began = time.monotonic()
    waits = [asyncio.create_task(match_found(c, timeout=60)) for c in crowd]
    for client in crowd:
        await queue(client, FFA2)
    matched: dict[int, float] = {}
    pending = set(waits)
    while len(matched) < 0.8 * len(crowd) and pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is None:
                matched[waits.index(task)] = time.monotonic() - began
    for task in pending:
        task.cancel()
    assert len(matched) >= 0.8 * len(crowd), matched
    assert max(matched.values()) < 60


async def test_duel_snapshot_puts_teams_at_their_start_positions(server, players):
    ann, bob = await players.new(), await players.new()
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    game_id = await match_found(ann)
    assert await match_found(bob) == game_id
    state = (await join(bob, game_id)).event.Snapshot.game_state
    assert state.game_type == DUEL
    width = state.arena.width
    snakes = state.arena.snakes
    assert [s.team_id for s in snakes] == [0, 1]
    heads = [(s.body[0].x, s.direction) for s in snakes]
    assert heads == [(5, Direction.RIGHT), (width - 5, Direction.LEFT)]
    assert state.arena.team_zone_config is not None


@pytest.mark.parametrize("game_type", [type_team_match(2)])
async def test_team_match_of_two_a_side_needs_four(server, players, game_type):
    crowd = [await players.new() for _ in range(4)]
    for client in crowd[:3]:
        await queue(client, game_type)
    await nothing_matched(server, *crowd[:3], rounds=2)
    await queue(crowd[3], game_type)
    ids = {await match_found(c) for c in crowd}
    assert len(ids) == 1
    state = (await join(crowd[0], ids.pop())).event.Snapshot.game_state
    assert sorted(s.team_id for s in state.arena.snakes) == [0, 0, 1, 1]


async def test_queue_updates_give_each_player_their_own_place(server, players):
    ann, bob, cat = await players.new(), await players.new(), await players.new()
    assert (await queued(ann, FFA4)).position == 1
    assert (await queued(bob, FFA4)).position == 2
    assert (await queued(cat, FFA4)).position == 3
