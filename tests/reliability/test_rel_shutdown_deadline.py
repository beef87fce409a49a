"""SIGTERM while DynamoDB is unreachable still ends: after the grace period the flush
has its deadline (SNAKETRON_SHUTDOWN_FLUSH_SECONDS), the writes it could not make are
logged with their count, and the process exits 1 because it dropped some.

The endpoint is the test's own embedded one, stopped while a solo game runs (its id
comes from a block reserved before, so the game starts with the database gone and
its writes wait in the batch writer)."""

from __future__ import annotations

import asyncio
import re
import signal
import time

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.db.embedded import EmbeddedEndpoint
from support.serve_process import default_env, serve_process_async

GRACE_S = 1
FLUSH_S = 2


async def test_sigterm_with_the_endpoint_stopped_ends_and_counts_what_it_dropped(report, tmp_path):
    endpoint = EmbeddedEndpoint()
    await asyncio.to_thread(endpoint.start)
    env = default_env(
        AWS_ENDPOINT_URL_DYNAMODB=endpoint.url,
        SNAKETRON_DEV_MODE="1",  # an explicit endpoint is production by default
        SNAKETRON_DRAIN_GRACE_SECONDS=str(GRACE_S),
        SNAKETRON_SHUTDOWN_FLUSH_SECONDS=str(FLUSH_S),
        SNAKETRON_ARGON2_MEMORY_KIB="64",
    )
    log_path = tmp_path / "serve.log"
    try:
        async with serve_process_async(env, str(log_path)) as (process, banner):
            ws_url = re.search(r"WebSocket\s+(ws://\S+)", banner)[1]
            async with AccountClient(re.search(r"HTTP API\s+(http://\S+)", banner)[1]) as accounts:
                token = (await accounts.register("stranded", "secret1")).token
            client = await GameClient.connect(ws_url)
            await client.authenticate(token)
            await client.send(protocol.CreateSoloGame())
            await client.expect(protocol.SoloGameCreated)  # reserves a block of game ids

            await asyncio.to_thread(endpoint.stop)
            await client.send(protocol.CreateSoloGame())
            stranded = await client.expect(protocol.SoloGameCreated)

            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            exit_code = await asyncio.wait_for(process.wait(), 120)
            exited_after = time.monotonic() - signalled
            await client.close()
    finally:
        endpoint.stop()
    text = log_path.read_text()
    dropped = re.search(r"batch writer dropped unflushed writes\s+count=(\d+)", text)
    report(
        grace_s=GRACE_S,
        flush_deadline_s=FLUSH_S,
        stranded_game=stranded.game_id,
        exit_code=exit_code,
        exited_after_s=round(exited_after, 1),
        dropped_writes=int(dropped[1]) if dropped else None,
    )
    assert exit_code == 1, text[-4000:]
    assert dropped and int(dropped[1]) >= 1, text[-4000:]
    assert "exiting with status 1: accepted writes were dropped" in text
    assert "Traceback" not in text
