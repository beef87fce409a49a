"""Shared pieces of the migration tests: seeded source, migration calls, target snapshots."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.client import DynamoClient
from snaketron.db.codec import from_item
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.tables import ensure_tables
from snaketron.migrate import migrate_from_postgres
from snaketron.migrate.progress import ProgressSink
from snaketron.migrate.report import MigrationReport
from snaketron.migrate.runner import MigrateOptions
from support.dynamo_settings import make_settings, unique_prefix
from support.postgres import SeedSpec, SeedSummary

# Enough to cross several checkpoints and batches; small enough for the embedded endpoint.
TEST_SEED = SeedSpec(users=2_000, games=700, lobbies=60)
SMALL_SEED = SeedSpec(users=600, games=250, lobbies=20, seed=11)
# Verification reads cost the embedded endpoint ~10-80 ms each: a small sample.
TEST_SAMPLE = 24


@dataclass(frozen=True)
class Legacy:
    dsn: str
    seed: SeedSummary


@dataclass(frozen=True)
class Migrated:
    settings: Settings
    db: DynamoDatabase
    report: MigrationReport
    legacy: Legacy


def options(dsn: str, **overrides: Any) -> MigrateOptions:
    values: dict[str, Any] = {"dsn": dsn, "sample_size": TEST_SAMPLE, "checkpoint_rows": 100, "fetch_size": 150}
    values.update(overrides)
    return MigrateOptions(**values)


async def migrate(
    dsn: str, db: DynamoDatabase, *, progress: ProgressSink | None = None, **overrides: Any
) -> MigrationReport:
    return await migrate_from_postgres(options(dsn, **overrides), db.settings, progress=progress, target=db)


@contextlib.asynccontextmanager
async def fresh_target(endpoint: str, admin: DynamoClient) -> AsyncIterator[DynamoDatabase]:
    """An open database on new, empty tables (for fixtures wider than one test)."""
    prefix = unique_prefix()
    await ensure_tables(admin, prefix)
    # Generous timeouts: the embedded endpoint slows down a lot when the machine is busy,
    # and these tests are about outcomes, not latency.
    async with open_database(make_settings(endpoint, prefix, db_read_timeout=30.0, db_deadline_ms=60_000)) as db:
        yield db


async def scan_all(db: DynamoDatabase, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table}
    while True:
        page = await db.client.call("scan", **params)
        found.extend(from_item(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _sort_key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item.get("pk", item.get("username", item.get("gameCode")))), str(item.get("sk", ""))


async def snapshot(db: DynamoDatabase) -> dict[str, list[dict[str, Any]]]:
    """Every item of the three tables, sorted, without the migration's own bookkeeping."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in (db.tables.main, db.tables.usernames, db.tables.game_codes):
        items = [i for i in await scan_all(db, name) if not str(i.get("pk", "")).startswith("MIGRATION#")]
        tables[name] = sorted(items, key=_sort_key)
    return tables
