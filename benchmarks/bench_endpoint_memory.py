"""The embedded endpoint over a long run: its memory and request latency after 100 and
after 10,000 registrations, half of them refused (the name is already taken).

Starts the embedded endpoint exactly as `snaketron serve` does (`EmbeddedEndpoint`,
in memory, on 127.0.0.1), creates the tables, then registers users one after the
other through `DynamoDatabase.create_user` (one TransactWriteItems each; a refused
one also reads the name's claim). Every second registration reuses the name before
it, so half are refused. At each checkpoint it prints the endpoint process's
resident memory (VmRSS) and the latency of the last `--window` registrations and of
`--window` GetItem probes.

    python benchmarks/bench_endpoint_memory.py [--registrations 10000] [--checkpoints 100,1000,10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from pathlib import Path

from snaketron.config import Settings
from snaketron.db.client import DynamoClient
from snaketron.db.codec import to_item
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.errors import UsernameTaken
from snaketron.db.tables import TableNames, ensure_tables


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def ms(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def probe_reads(client: DynamoClient, table: str, count: int) -> list[float]:
    took = []
    for i in range(count):
        start = time.perf_counter()
        await client.call("get_item", TableName=table, Key=to_item({"pk": f"USER#{i + 1}", "sk": "PROFILE"}))
        took.append(time.perf_counter() - start)
    return took


async def open_database(endpoint: EmbeddedEndpoint, prefix: str) -> tuple[DynamoClient, DynamoDatabase]:
    """A client and a database on a fresh embedded endpoint, its tables created."""
    settings = Settings.from_env(
        {},
        dynamodb_endpoint=endpoint.url,
        table_prefix=prefix,
        embedded_db=False,
        create_tables=False,
        log_level="warning",
    )
    client = DynamoClient(settings, endpoint.url)
    await client.start()
    await ensure_tables(client, prefix)
    return client, DynamoDatabase(client, settings)


async def run(registrations: int, checkpoints: list[int], window: int) -> None:
    prefix = "bench"
    async with EmbeddedEndpoint() as endpoint:
        client, db = await open_database(endpoint, prefix)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        print(f"endpoint pid {endpoint.pid}: RSS {rss_mib(endpoint.pid):.1f} MiB with empty tables")
        print("registrations | refused | endpoint RSS MiB | register p50 / p90 ms | GetItem p50 / p90 ms")
        took: list[float] = []
        refused = 0
        name = ""
        for n in range(1, registrations + 1):
            if n % 2:
                name = f"player{n}"  # odd: a new name; even: the same name again, refused
            start = time.perf_counter()
            try:
                await db.create_user(name, "hash", now_ms=n)
            except UsernameTaken:
                refused += 1
            took.append(time.perf_counter() - start)
            if n in checkpoints:
                recent = took[-window:]
                reads = await probe_reads(client, TableNames.for_prefix(prefix).main, window)
                print(
                    f"{n:>13,} | {refused:>7,} | {rss_mib(endpoint.pid):>16.1f} | "
                    f"{ms(recent, 0.5):>8.2f} / {ms(recent, 0.9):>6.2f} | "
                    f"{ms(reads, 0.5):>7.2f} / {ms(reads, 0.9):>6.2f}",
                    flush=True,
                )
        await db.close()
        print(f"mean registration {statistics.fmean(took) * 1000:.2f} ms over {registrations:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registrations", type=int, default=10_000, help="registrations in all (default 10000)")
    parser.add_argument(
        "--checkpoints", default="100,1000,10000", help="when to print figures (default 100,1000,10000)"
    )
    parser.add_argument("--window", type=int, default=100, help="registrations and reads per figure (default 100)")
    args = parser.parse_args()
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    asyncio.run(run(args.registrations, checkpoints, args.window))


if __name__ == "__main__":
    main()
