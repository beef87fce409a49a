"""Retry and batch paths under injected faults (throttling, partial batches, dropped
connections, outages): every item lands exactly once, callers see domain errors only."""

from __future__ import annotations

import asyncio
import dataclasses

import msgspec
import pytest

from snaketron.db.codec import to_item
from snaketron.db.errors import DatabaseError, DatabaseUnavailable, RatingConflict, UsernameTaken
from snaketron.db.models import MatchTicket, RatingUpdate, ServerRecord
from support.dynamo_reads import items_with_pk


async def test_throttled_and_failing_requests_are_retried(db, faulty_db, proxy):
    proxy.throttle = 0.3
    proxy.server_error = 0.1
    proxy.drop = 0.1
    proxy.drop_after_forward = 0.1
    for i in range(20):
        server = ServerRecord(server_id=i, region="eu", ws_url="ws", api_url="http", last_heartbeat_ms=db._clock())
        await faulty_db.register_server(server)
        await faulty_db.heartbeat_server(i, "eu", game_count=i, player_count=0, now_ms=db._clock())
        assert (await faulty_db.get_server(i)).current_game_count == i
    assert proxy.counts["throttled"] > 0 and proxy.counts["dropped"] > 0 and proxy.counts["server_errors"] > 0
    m = faulty_db.metrics
    assert (
        m.retries
        == proxy.counts["throttled"]
        + proxy.counts["dropped"]
        + proxy.counts["server_errors"]
        + (proxy.counts["dropped_after_forward"])
    )
    assert m.throttled == proxy.counts["throttled"]
    assert m.gave_up == 0


async def test_lost_answers_of_conditional_writes_are_not_reported_as_conflicts(db, faulty_db, proxy):
    # Every transaction commits, then its answer is lost; the retry fails its own
    # condition, and the data layer must recognise its own write.
    proxy.only = {"TransactWriteItems"}
    proxy.lose_next_answers = 1
    user = await asyncio.wait_for(faulty_db.create_user("Dora", "h", now_ms=1), timeout=30)
    assert (await db.get_user_by_username("dora")).user_id == user.user_id
    assert proxy.counts["dropped_after_forward"] == 1
    with pytest.raises(UsernameTaken):
        await faulty_db.create_user("DORA", "h", now_ms=1)

    tickets = [
        MatchTicket(region="eu", queue_key="q", user_id=u, username="x", mmr=1, server_id=1, enqueued_at_ms=u)
        for u in (1, 2)
    ]
    for t in tickets:
        await db.put_ticket(t, ttl_seconds=3_600)
    proxy.lose_next_answers = 1
    await faulty_db.claim_matches([(tickets, 5)])
    assert [t.matched_game_id for t in await db.list_region_tickets("eu", now_ms=3)] == [5, 5]
    assert proxy.counts["dropped_after_forward"] == 2


async def test_a_guarded_rating_write_whose_answer_was_lost_is_recognised_as_ours(db, faulty_db, proxy):
    # The rating guard (gamesPlayed) fails on the retry of a write that landed: the data
    # layer must see its own rating there, not a stale copy (that would rate twice).
    user = await db.create_user("Rita", "h", now_ms=1)
    proxy.only = {"TransactWriteItems"}
    proxy.lose_next_answers = 1
    update = RatingUpdate(
        user_id=user.user_id,
        username="Rita",
        mmr=1016,
        rating_mu=25.4,
        rating_sigma=8.1,
        games_played=1,
        games_played_before=0,
    )
    await asyncio.wait_for(faulty_db.update_ratings([update]), timeout=30)
    assert proxy.counts["dropped_after_forward"] == 1
    stored = await db.get_user(user.user_id)
    assert (stored.games_played, stored.mmr) == (1, 1016)
    # The same write again is that write (idempotent); a rating computed from the old
    # copy with another outcome is refused.
    await db.update_ratings([update])
    with pytest.raises(RatingConflict):
        await db.update_ratings([msgspec.structs.replace(update, mmr=984, rating_mu=24.6)])


async def test_outage_surfaces_as_database_unavailable(faulty_db, proxy):
    faulty_db.client.policy = dataclasses.replace(faulty_db.client.policy, attempts=3, deadline_ms=1_000)
    proxy.outage = True
    with pytest.raises(DatabaseUnavailable):
        await faulty_db.get_user(1)
    with pytest.raises(DatabaseError):  # every failure is a domain error, never a botocore one
        await faulty_db.create_user("Eve", "h", now_ms=1)
    assert faulty_db.metrics.gave_up == 2
    proxy.heal()
    await faulty_db.create_user("Eve", "h", now_ms=1)


async def test_batch_writes_land_exactly_once_under_every_fault(db, faulty_db, proxy):
    proxy.throttle = 0.2
    proxy.unprocessed = 0.4
    proxy.drop = 0.05
    proxy.drop_after_forward = 0.05
    writer = faulty_db.writer
    futures = []
    for i in range(300):
        item = {"pk": "LOAD", "sk": f"{i:04d}", "n": i, "version": 1}
        futures.append(writer.put_nowait(db.tables.main, to_item(item)))
    # Rewrites of 50 keys: the newest value must win although the first writes may be
    # in flight or handed back as unprocessed.
    for i in range(0, 300, 6):
        futures.append(
            writer.put_nowait(db.tables.main, to_item({"pk": "LOAD", "sk": f"{i:04d}", "n": i, "version": 2}))
        )
    await asyncio.wait_for(asyncio.gather(*futures), timeout=60)

    items = await items_with_pk(db, "LOAD")
    assert len(items) == 300
    assert sorted(i["n"] for i in items) == list(range(300))
    assert all(i["version"] == (2 if i["n"] % 6 == 0 else 1) for i in items)
    assert proxy.counts["unprocessed_items"] > 0 and proxy.counts["throttled"] > 0
    assert writer.metrics.unprocessed > 0
    assert writer.metrics.written + writer.metrics.coalesced == 350
    assert writer.metrics.lost == writer.metrics.rejected == 0


async def test_batch_writer_outlasts_an_outage(db, faulty_db, proxy):
    faulty_db.client.policy = dataclasses.replace(faulty_db.client.policy, attempts=2, deadline_ms=300)
    proxy.outage = True
    futures = [faulty_db.writer.put_nowait(db.tables.main, to_item({"pk": "OUT", "sk": str(i)})) for i in range(40)]
    done, _ = await asyncio.wait(futures, timeout=0.5)
    assert not done  # nothing durable, nothing failed: the writer keeps trying
    assert faulty_db.writer.metrics.send_failures > 0
    proxy.heal()
    await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
    assert len(await items_with_pk(db, "OUT")) == 40
