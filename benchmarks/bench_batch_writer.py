"""Items persisted per second: the batch writer versus one PutItem per item.

Runs both against the same embedded endpoint in one run (started here, in
memory, on 127.0.0.1) and prints items/s and requests per 1000 items:

    python benchmarks/bench_batch_writer.py [--items 3000] [--concurrency 16] [--endpoint URL]

The PutItem side gets `--concurrency` requests in flight so that it is not
handicapped by latency alone; the batch writer runs with the server's default
settings (SNAKETRON_BATCH_*). Items look like game-player rows.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
import uuid

from snaketron.config import Settings
from snaketron.db.batch_writer import BatchWriter
from snaketron.db.client import DynamoClient
from snaketron.db.codec import to_item
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.retry import RetryPolicy
from snaketron.db.tables import TableNames, ensure_tables


def player_row(run: str, i: int) -> dict:
    return to_item(
        {
            "pk": f"GAME#{run}-{i // 8}",
            "sk": f"PLAYER#{i}",
            "gameId": i // 8,
            "userId": i,
            "username": f"player-{i}",
            "snakeId": i % 8,
            "joinedAt": 1_780_000_000_000 + i,
        }
    )


async def one_put_per_item(client: DynamoClient, table: str, items: list[dict], concurrency: int) -> float:
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await client.call("put_item", TableName=table, Item=item)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def through_batch_writer(client: DynamoClient, settings: Settings, names: TableNames, items: list[dict]) -> float:
    writer = BatchWriter(
        client,
        names.key_names(),
        flush_ms=settings.batch_flush_ms,
        max_in_flight=settings.batch_max_in_flight,
        buffer_items=settings.batch_buffer_items,
        policy=RetryPolicy.from_settings(settings),
    )
    start = time.perf_counter()
    futures = [await writer.put(names.main, item) for item in items]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    await writer.close()
    return elapsed


async def run(args: argparse.Namespace) -> None:
    endpoint = EmbeddedEndpoint() if not args.endpoint else None
    url = args.endpoint or await asyncio.to_thread(endpoint.start)  # type: ignore[union-attr]
    try:
        settings = Settings.from_env(
            {},
            dynamodb_endpoint=url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            table_prefix=f"bench-{uuid.uuid4().hex[:6]}",
        )
        names = TableNames.for_prefix(settings.table_prefix)
        async with DynamoClient(settings) as client:
            await ensure_tables(client, settings.table_prefix)
            # Warm the connection pool and the endpoint before timing anything.
            await one_put_per_item(client, names.main, [player_row("warm", i) for i in range(50)], args.concurrency)

            results = []
            for label, kind in (("PutItem per item", "single"), ("BatchWriter", "batch")):
                items = [player_row(kind, i) for i in range(args.items)]
                before = sum(client.metrics.requests.values())
                if kind == "single":
                    elapsed = await one_put_per_item(client, names.main, items, args.concurrency)
                else:
                    elapsed = await through_batch_writer(client, settings, names, items)
                requests = sum(client.metrics.requests.values()) - before
                results.append((label, args.items / elapsed, requests * 1000 / args.items, elapsed))

            count = await client.call("scan", TableName=names.main, Select="COUNT")
            expected = 2 * args.items + 50
            assert count["Count"] == expected, f"{count['Count']} items stored, expected {expected}"
    finally:
        if endpoint is not None:
            await asyncio.to_thread(endpoint.stop)

    print(f"# batch writer benchmark: {args.items} items each, {platform.python_version()}, {platform.machine()}")
    print(f"# endpoint: {'embedded (moto, in memory)' if endpoint else url}; PutItem concurrency {args.concurrency}")
    print(
        f"# batch writer: flush {settings.batch_flush_ms} ms, {settings.batch_max_in_flight} in flight, "
        f"buffer {settings.batch_buffer_items}"
    )
    print(f"{'path':<18} {'items/s':>10} {'requests/1000 items':>20} {'seconds':>8}")
    for label, rate, per_thousand, elapsed in results:
        print(f"{label:<18} {rate:>10.0f} {per_thousand:>20.1f} {elapsed:>8.2f}")
    print(f"speed-up: {results[1][1] / results[0][1]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--endpoint", default="", help="use this endpoint instead of starting the embedded one")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
