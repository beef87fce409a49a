"""Allocate ids from another process: `python allocate_ids.py ENDPOINT PREFIX COUNT BLOCK`.

Prints "ready" once connected, waits for a line on stdin (so that the two processes of
the two-process id test start allocating at the same moment), then prints one id per line.
"""

from __future__ import annotations

import asyncio
import sys

from snaketron.config import Settings
from snaketron.db.client import DynamoClient
from snaketron.db.ids import IdAllocator
from snaketron.db.tables import TableNames


async def main(endpoint: str, prefix: str, count: int, block: int) -> None:
    settings = Settings.from_env({}, dynamodb_endpoint=endpoint, aws_access_key_id="test", aws_secret_access_key="test")
    async with DynamoClient(settings) as client:
        ids = IdAllocator(client, TableNames.for_prefix(prefix).main, block)
        await client.call("describe_table", TableName=TableNames.for_prefix(prefix).main)  # warm the connection
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        await asyncio.to_thread(sys.stdin.readline)
        # Several concurrent callers inside the process too.
        found = await asyncio.gather(*(ids.next_id("game") for _ in range(count)))
    sys.stdout.write("\n".join(map(str, found)) + "\n")


if __name__ == "__main__":
    endpoint, prefix, count, block = sys.argv[1:5]
    asyncio.run(main(endpoint, prefix, int(count), int(block)))
