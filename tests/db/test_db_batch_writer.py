"""BatchWriter behaviour: chunking, coalescing, isolation of bad items, back-pressure,
and the shutdown flush."""

from __future__ import annotations

import asyncio
import base64
import dataclasses

import pytest

from snaketron.db import open_database
from snaketron.db.batch_writer import BatchWriter, _approx_size
from snaketron.db.client import DynamoClient
from snaketron.db.codec import to_item
from snaketron.db.errors import DatabaseUnavailable, InvalidRequest, WriteDropped
from snaketron.db.models import GamePlayerRecord, GameRecord
from support.dynamo_reads import items_with_pk
from support.fault_proxy import FaultProxy


def row(pk: str, sk: int, **extra) -> dict:
    return to_item({"pk": pk, "sk": f"{sk:05d}", **extra})


async def test_holds_says_whether_a_write_of_the_key_is_still_pending(db):
    """What the result's transaction checks before it writes a game's rows itself: an
    earlier queued write of the same key must land first."""
    writer = BatchWriter(db.client, db.tables.key_names(), flush_ms=10_000)
    item = row("HOLDS", 1)
    assert not writer.holds(db.tables.main, item)
    future = writer.put_nowait(db.tables.main, item)
    assert writer.holds(db.tables.main, row("HOLDS", 1, v=2))  # the key, whatever the value
    assert not writer.holds(db.tables.main, row("HOLDS", 2))
    await writer.flush()
    assert future.done() and not writer.holds(db.tables.main, item)
    await writer.close()


async def test_chunks_of_25_and_coalesced_duplicates(db):
    writer = BatchWriter(db.client, db.tables.key_names(), flush_ms=10_000, max_in_flight=2)
    before = db.metrics.requests["batch_write_item"]
    futures = [writer.put_nowait(db.tables.main, row("CHUNK", i)) for i in range(60)]
    futures += [writer.put_nowait(db.tables.main, row("CHUNK", 3, v=v)) for v in (1, 2, 3)]
    await writer.flush()
    assert all(f.done() and f.exception() is None for f in futures)
    # 60 distinct keys: 25 + 25 + 10, one request each (the embedded endpoint never throttles).
    assert db.metrics.requests["batch_write_item"] - before == 3
    assert writer.metrics.coalesced == 3 and writer.metrics.written == 60
    items = await items_with_pk(db, "CHUNK")
    assert len(items) == 60
    assert next(i for i in items if i["sk"] == "00003")["v"] == 3
    await writer.close()


async def test_flushes_by_itself_after_flush_ms(db):
    writer = BatchWriter(db.client, db.tables.key_names(), flush_ms=20)
    future = writer.put_nowait(db.tables.main, row("TIMER", 1))
    await asyncio.wait_for(future, timeout=5)  # no flush() call: the timer sent it
    assert len(await items_with_pk(db, "TIMER")) == 1
    await writer.close()


async def test_an_invalid_item_fails_alone(db):
    writer = BatchWriter(db.client, db.tables.key_names(), flush_ms=10_000)
    good = [writer.put_nowait(db.tables.main, row("MIXED", i)) for i in range(5)]
    bad = writer.put_nowait(db.tables.main, to_item({"pk": "MIXED", "sk": ""}))  # empty key: rejected
    await writer.flush()
    with pytest.raises(InvalidRequest):
        await bad
    await asyncio.gather(*good)
    assert len(await items_with_pk(db, "MIXED")) == 5
    assert writer.metrics.rejected == 1
    with pytest.raises(InvalidRequest):
        writer.put_nowait(db.tables.main, to_item({"pk": "NO-SORT-KEY"}))
    await writer.close()


async def test_back_pressure_when_the_buffer_is_full(settings, dynamo_endpoint):
    async with FaultProxy(dynamo_endpoint) as proxy:
        client = DynamoClient(dataclasses.replace(settings, dynamodb_endpoint=proxy.url, db_deadline_ms=200))
        await client.start()
        names = {f"{settings.table_prefix}-main": ("pk", "sk")}
        writer = BatchWriter(client, names, flush_ms=1, buffer_items=30, max_in_flight=1)
        proxy.outage = True
        accepted = [writer.put_nowait(f"{settings.table_prefix}-main", row("BP", i)) for i in range(30)]
        blocked = asyncio.ensure_future(writer.put(f"{settings.table_prefix}-main", row("BP", 99)))
        done, _ = await asyncio.wait({blocked}, timeout=0.3)
        assert not done, "put() must wait while the buffer is full"
        # The hot path is never blocked: it is accepted and counted as overflow.
        extra = writer.put_nowait(f"{settings.table_prefix}-main", row("BP", 100))
        assert writer.metrics.overflow == 1
        proxy.heal()
        last = await asyncio.wait_for(blocked, timeout=30)
        await asyncio.wait_for(asyncio.gather(*accepted, extra, last), timeout=30)
        await writer.close()
        await client.close()


async def test_close_flushes_everything_accepted(settings):
    # A long flush interval: whatever did not fill a batch of 25 only close() can write.
    slow = dataclasses.replace(settings, batch_flush_ms=60_000)
    async with open_database(slow) as db:
        futures = [db.writer.put_nowait(db.tables.main, row("SHUTDOWN", i)) for i in range(110)]
        futures.append(
            db.writer.put_nowait(
                db.tables.main, to_item({"pk": "GAME#1", "sk": "SPECTATOR#2", "gameId": 1, "userId": 2})
            )
        )
        assert db.writer.pending > 0
    assert all(f.done() and f.exception() is None for f in futures)
    async with open_database(settings) as reader:
        assert len(await items_with_pk(reader, "SHUTDOWN")) == 110
        assert [s.user_id for s in await reader.list_spectators(1)] == [2]


async def test_close_under_faults_still_lands_everything(settings, dynamo_endpoint):
    async with FaultProxy(dynamo_endpoint, seed=3) as proxy:
        proxy.unprocessed = 0.5
        proxy.throttle = 0.2
        faulty = dataclasses.replace(settings, dynamodb_endpoint=proxy.url, batch_flush_ms=60_000)
        async with open_database(faulty) as db:
            for i in range(80):
                db.writer.put_nowait(db.tables.main, row("FAULTYSHUTDOWN", i))
            players = [GamePlayerRecord(game_id=9, user_id=u, username=f"u{u}") for u in range(30)]
            # A game host's write: handed over at once, durable by the end of close.
            adding = db.save_game_nowait(
                GameRecord(game_id=9, server_id=1, game_type="Solo", game_mode="solo"), players
            )
        assert adding.done() and adding.exception() is None
    async with open_database(settings) as reader:
        assert len(await items_with_pk(reader, "FAULTYSHUTDOWN")) == 80
        assert len(await items_with_pk(reader, "GAME#9")) == 31  # the game and its 30 players


async def test_close_deadline_fails_what_cannot_be_written(settings, dynamo_endpoint):
    async with FaultProxy(dynamo_endpoint) as proxy:
        client = DynamoClient(dataclasses.replace(settings, dynamodb_endpoint=proxy.url, db_deadline_ms=100))
        await client.start()
        writer = BatchWriter(client, {f"{settings.table_prefix}-main": ("pk", "sk")}, flush_ms=1)
        proxy.outage = True
        futures = [writer.put_nowait(f"{settings.table_prefix}-main", row("LOST", i)) for i in range(10)]
        dropped = await asyncio.wait_for(writer.close(timeout_s=0.5), timeout=10)
        assert all(isinstance(f.exception(), WriteDropped) for f in futures)
        assert writer.metrics.lost == 10
        # Each dropped write's key, once (the shutdown logs their count, the keys at debug level).
        assert dropped == sorted(f"{settings.table_prefix}-main:LOST/{i:05d}" for i in range(10))
        assert await writer.close() == []  # closed: nothing more to drop, no retry left running
        with pytest.raises(DatabaseUnavailable):
            writer.put_nowait(f"{settings.table_prefix}-main", row("LOST", 11))
        await client.close()


def test_an_items_size_counts_what_its_request_body_carries() -> None:
    # The 16 MB request limit is judged from these sizes: never less than what the
    # item's values take in the request (binary values travel base64-encoded).
    recording = bytes(range(256)) * 4
    item = to_item({"pk": "GAME#12345", "name": "zoë", "recording": recording})
    carried = len(base64.b64encode(recording)) + len(b"GAME#12345") + len("zoë".encode())
    assert carried < _approx_size(item) < carried + 100
