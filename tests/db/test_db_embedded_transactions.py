"""Transactions on the embedded endpoint (embedded_moto): all or nothing under
concurrent requests, and a cost per item, not per table, in memory."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from snaketron.config import Settings
from snaketron.db.client import DynamoClient
from snaketron.db.codec import from_item, to_item
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.errors import TransactionCancelled, UsernameTaken
from snaketron.db.tables import TableNames, ensure_tables
from support.dynamo_settings import make_settings


async def test_concurrent_transactions_stay_all_or_nothing(settings: Settings):
    """Each transaction adds one to a shared counter and claims a name; of the eight
    transactions racing for each name one wins, and the losers' additions (made by moto
    before the claim failed) are taken back, while other transactions change the same
    counter in between. The counter ends equal to the names claimed, and a field the
    losers overwrote is back as it was."""
    tables = TableNames.for_prefix(settings.table_prefix)
    counter_key = {"pk": "COUNTER", "sk": "TEST"}
    names = [f"name{i}" for i in range(12)]
    in_flight = asyncio.Semaphore(16)  # more than the endpoint's 4 threads, within the deadline
    clients = [DynamoClient(settings) for _ in range(8)]
    for client in clients:
        await client.start()
    try:
        await clients[0].call(
            "put_item", TableName=tables.main, Item=to_item({**counter_key, "value": 0, "note": "original"})
        )

        async def claim(client: DynamoClient, name: str, attempt: int) -> bool:
            try:
                async with in_flight:
                    await client.call(
                        "transact_write_items",
                        TransactItems=[
                            {
                                "Update": {
                                    "TableName": tables.main,
                                    "Key": to_item(counter_key),
                                    "UpdateExpression": "ADD #v :one SET #n = :who",
                                    "ExpressionAttributeNames": {"#v": "value", "#n": "note"},
                                    "ExpressionAttributeValues": to_item({":one": 1, ":who": f"{name}/{attempt}"}),
                                }
                            },
                            {
                                "Put": {
                                    "TableName": tables.usernames,
                                    "Item": to_item({"username": name, "attempt": attempt}),
                                    "ConditionExpression": "attribute_not_exists(username)",
                                }
                            },
                        ],
                    )
            except TransactionCancelled:
                return False
            return True

        attempts = [(name, attempt) for attempt in range(8) for name in names]
        outcomes = await asyncio.gather(
            *(claim(clients[i % len(clients)], name, attempt) for i, (name, attempt) in enumerate(attempts))
        )
        won = {name for (name, _), ok in zip(attempts, outcomes, strict=True) if ok}
        assert sorted(won) == sorted(names)  # exactly one winner per name...
        assert outcomes.count(True) == len(names)  # ...and no second one

        answer = await clients[0].call("get_item", TableName=tables.main, Key=to_item(counter_key), ConsistentRead=True)
        counter = from_item(answer["Item"])
        assert counter["value"] == len(names)
        # The last writer of the note is a winner: a loser's note never stays.
        winners = {f"{name}/{attempt}" for (name, attempt), ok in zip(attempts, outcomes, strict=True) if ok}
        assert counter["note"] in winners
    finally:
        for client in clients:
            await client.close()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


async def test_memory_stays_flat_over_many_registrations():
    """600 registrations, half refused, grow the endpoint by a few MiB. moto's own
    transaction deep-copies both tables on every call and grew it by about 150 MiB over
    the first 500 (benchmarks/bench_endpoint_memory.py), far past the bound."""
    async with EmbeddedEndpoint() as endpoint:  # its own: the session's has other tests' data
        settings = make_settings(endpoint.url, "memory")
        async with DynamoClient(settings) as client:
            await ensure_tables(client, "memory")
            db = DynamoDatabase(client, settings)
            # Warm up: moto's code paths and caches, the first blocks of items.
            for i in range(20):
                await db.create_user(f"warm{i}", "hash", now_ms=i)
            before = rss_kib(endpoint.pid)
            numbers = itertools.count()
            refused = 0

            async def register() -> None:
                nonlocal refused
                while (n := next(numbers)) < 600:
                    try:
                        await db.create_user(f"player{n // 2}", "hash", now_ms=n)  # every name twice
                    except UsernameTaken:
                        refused += 1

            await asyncio.gather(*(register() for _ in range(6)))
            grown_mib = (rss_kib(endpoint.pid) - before) / 1024
            await db.close()
    assert refused == 300
    assert grown_mib < 24, f"the endpoint grew by {grown_mib:.0f} MiB over 600 registrations"
