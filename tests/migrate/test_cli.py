"""`snaketron migrate from-postgres` as an operator runs it, killed midway included."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import msgspec
from migration_runs import Legacy

from snaketron.config import Settings
from snaketron.migrate.report import MigrationReport


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SNAKETRON_", "DYNAMODB_"))}
    env.update(
        AWS_ENDPOINT_URL_DYNAMODB=settings.dynamodb_endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        DYNAMODB_TABLE_PREFIX=settings.table_prefix,
        SNAKETRON_CREATE_TABLES="0",
        SNAKETRON_LOG_JSON="1",
        SNAKETRON_LOG_LEVEL="debug",
        # Patient: the embedded endpoint slows down when the machine is busy.
        SNAKETRON_DB_READ_TIMEOUT="30",
        SNAKETRON_DB_DEADLINE_MS="60000",
    )
    env.update(extra)
    return env


async def _start(dsn: str, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "snaketron.cli",
        "migrate",
        "from-postgres",
        "--dsn",
        dsn,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _wait_for_checkpoint(process: asyncio.subprocess.Process, phase: str) -> dict[str, object]:
    """Read the child's JSON log lines until it reports a checkpoint of `phase`."""
    assert process.stderr is not None
    async with asyncio.timeout(120):
        while line := await process.stderr.readline():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # the progress display
            if event.get("event") == "migration checkpoint" and event.get("phase") == phase:
                return event
    raise AssertionError(f"the migration ended before a {phase} checkpoint")


async def test_killed_midway_then_run_again_ends_verified(
    legacy_small: Legacy, settings: Settings, tmp_path: Path
) -> None:
    report_path = tmp_path / "report.json"
    args = ("--checkpoint-rows", "50", "--fetch-size", "100", "--sample-size", "10", "--report", str(report_path))
    first = await _start(legacy_small.dsn, _env(settings), *args)
    checkpoint = await _wait_for_checkpoint(first, "players")
    assert checkpoint["done"] is False
    first.send_signal(signal.SIGKILL)  # no cleanup, no flush: a crash
    await first.wait()
    assert not report_path.exists()

    second = await _start(legacy_small.dsn, _env(settings), *args)
    _, stderr = await second.communicate()
    assert second.returncode == 0, stderr.decode()[-3000:]
    report = msgspec.json.decode(report_path.read_bytes(), type=MigrationReport)
    assert "players" in report.resumed_from
    assert report.written.users == 0  # done before the kill
    verification = report.verification
    assert verification is not None and verification.mismatches == []
    counts = legacy_small.seed.counts
    assert verification.target.users == verification.target.usernames == counts["users"]
    assert verification.target.players == counts["game_players"]
    assert verification.target.spectators == counts["game_spectators"]
    assert verification.target.lobbies == counts["live_lobbies"]
    assert len(report.renamed) == sum(len(ids) - 1 for ids in legacy_small.seed.case_groups.values())
    assert b"accounts renamed" in stderr


async def test_the_in_memory_endpoint_is_refused(legacy_small: Legacy, settings: Settings) -> None:
    env = _env(settings)
    del env["AWS_ENDPOINT_URL_DYNAMODB"]
    process = await _start(legacy_small.dsn, env, "--report", "")
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"memory only" in stderr


async def test_an_unreachable_source_fails_cleanly(settings: Settings) -> None:
    process = await _start("postgresql://nobody@127.0.0.1:1/none", _env(settings), "--report", "")
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"Traceback" not in stderr and b"failed" in stderr
