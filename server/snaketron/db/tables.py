"""The one description of SnakeTron's DynamoDB tables, and their creation.

`TABLES` is the single source of truth: the server creates tables from it
(`ensure_tables`), `snaketron tables` manages them, and the LocalStack ready hook
reads `localstack/tables.json`, which a test proves equal to
`localstack_tables_document()` (regenerate it with
`python -m snaketron.db.tables > localstack/tables.json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from snaketron.config import ConfigError, Settings
from snaketron.db.errors import Conflict, DatabaseError, InvalidRequest, TableNotFound
from snaketron.logs import get_logger

log = get_logger("snaketron.db.tables")

TTL_ATTRIBUTE = "ttl"


@dataclass(frozen=True, slots=True)
class TableSpec:
    suffix: str  # table name is f"{prefix}-{suffix}"
    key: tuple[str, ...]  # (hash,) or (hash, range); all string attributes
    indexes: tuple[tuple[str, str, str], ...] = ()  # (index name, hash, range), projecting ALL
    ttl: bool = False

    def name(self, prefix: str) -> str:
        return f"{prefix}-{self.suffix}"

    def create_request(self, prefix: str) -> dict[str, Any]:
        """The CreateTable parameters of this table."""
        attributes = list(self.key)
        for _, hash_key, range_key in self.indexes:
            attributes += [a for a in (hash_key, range_key) if a not in attributes]
        request: dict[str, Any] = {
            "TableName": self.name(prefix),
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
            "KeySchema": _key_schema(self.key),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [
                {"IndexName": name, "KeySchema": _key_schema((h, r)), "Projection": {"ProjectionType": "ALL"}}
                for name, h, r in self.indexes
            ]
        return request


def _key_schema(key: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"AttributeName": a, "KeyType": kind} for a, kind in zip(key, ("HASH", "RANGE"), strict=False)]


MAIN = TableSpec(
    "main",
    ("pk", "sk"),
    indexes=(("GSI1", "gsi1pk", "gsi1sk"), ("GSI2", "gsi2pk", "gsi2sk")),
    ttl=True,
)
USERNAMES = TableSpec("usernames", ("username",))
GAME_CODES = TableSpec("game-codes", ("gameCode",), ttl=True)
TABLES: tuple[TableSpec, ...] = (MAIN, USERNAMES, GAME_CODES)


@dataclass(frozen=True, slots=True)
class TableNames:
    main: str
    usernames: str
    game_codes: str

    @classmethod
    def for_prefix(cls, prefix: str) -> TableNames:
        return cls(MAIN.name(prefix), USERNAMES.name(prefix), GAME_CODES.name(prefix))

    def key_names(self) -> dict[str, tuple[str, ...]]:
        """Key attribute names per table name (the batch writer dedupes by key)."""
        return {self.main: MAIN.key, self.usernames: USERNAMES.key, self.game_codes: GAME_CODES.key}


def localstack_tables_document() -> dict[str, Any]:
    """What `localstack/tables.json` must contain: CreateTable requests with the
    prefix left as `{prefix}`, and which tables get TTL on which attribute."""
    return {
        "generatedFrom": "snaketron.db.tables",
        "ttlAttribute": TTL_ATTRIBUTE,
        "tables": [{"createTable": spec.create_request("{prefix}"), "ttl": spec.ttl} for spec in TABLES],
    }


# --- creation -------------------------------------------------------------------


async def ensure_tables(client: Any, prefix: str, *, timeout_s: float = 60.0) -> None:
    """Create missing tables and enable TTL; idempotent and safe when several servers
    race: losing a CreateTable race (ResourceInUse) counts as success once the table
    is ACTIVE. `client` is a `snaketron.db.client.DynamoClient`."""
    await asyncio.gather(*(_ensure_table(client, spec, prefix, timeout_s) for spec in TABLES))


async def _ensure_table(client: Any, spec: TableSpec, prefix: str, timeout_s: float) -> None:
    name = spec.name(prefix)
    try:
        response = await client.call("create_table", **spec.create_request(prefix))
        created = True
        status = response["TableDescription"].get("TableStatus", "CREATING")
        log.info("table created", table=name)
    except Conflict:  # ResourceInUseException: it exists, or another server is creating it
        created = False
        status = ""
    if status != "ACTIVE":
        await _wait_active(client, name, timeout_s)
    if not created:
        await _verify_keys(client, spec, prefix)
    if spec.ttl:
        await _ensure_ttl(client, name, assume_off=created)


async def _wait_active(client: Any, name: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            table = (await client.call("describe_table", TableName=name))["Table"]
            if table.get("TableStatus") == "ACTIVE" and all(
                gsi.get("IndexStatus", "ACTIVE") == "ACTIVE" for gsi in table.get("GlobalSecondaryIndexes", [])
            ):
                return
        except TableNotFound:
            pass  # the racing creator's request is not visible yet
        if time.monotonic() > deadline:
            raise DatabaseError(f"table {name} did not become ACTIVE within {timeout_s:.0f}s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def _verify_keys(client: Any, spec: TableSpec, prefix: str) -> None:
    """An existing table must have our keys and indexes, or every query would fail later."""
    table = (await client.call("describe_table", TableName=spec.name(prefix)))["Table"]
    expected = spec.create_request(prefix)
    if table.get("KeySchema") != expected["KeySchema"]:
        raise DatabaseError(
            f"table {spec.name(prefix)} has key {table.get('KeySchema')}, expected {expected['KeySchema']}"
        )
    have = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
    missing = {name for name, _, _ in spec.indexes} - have
    if missing:
        raise DatabaseError(f"table {spec.name(prefix)} lacks indexes {sorted(missing)}")


async def _ensure_ttl(client: Any, name: str, *, assume_off: bool) -> None:
    if not assume_off:
        described = await client.call("describe_time_to_live", TableName=name)
        ttl = described.get("TimeToLiveDescription", {})
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            if ttl.get("AttributeName") != TTL_ATTRIBUTE:
                raise DatabaseError(f"table {name} has TTL on {ttl.get('AttributeName')!r}, expected {TTL_ATTRIBUTE!r}")
            return
    try:
        await client.call(
            "update_time_to_live",
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
        log.info("table ttl enabled", table=name, attribute=TTL_ATTRIBUTE)
    except InvalidRequest:
        # "TimeToLive is already enabled": another server won that race.
        described = await client.call("describe_time_to_live", TableName=name)
        if described.get("TimeToLiveDescription", {}).get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            raise


async def describe_tables(client: Any, prefix: str) -> list[dict[str, Any]]:
    """Status, item count estimate and TTL of each table (None fields when missing)."""
    rows = []
    for spec in TABLES:
        name = spec.name(prefix)
        try:
            table = (await client.call("describe_table", TableName=name))["Table"]
        except TableNotFound:
            rows.append({"table": name, "status": "MISSING"})
            continue
        row = {
            "table": name,
            "status": table.get("TableStatus"),
            "itemCount": table.get("ItemCount"),
            "indexes": [g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])],
        }
        if spec.ttl:
            ttl = (await client.call("describe_time_to_live", TableName=name)).get("TimeToLiveDescription", {})
            row["ttl"] = f"{ttl.get('TimeToLiveStatus')} on {ttl.get('AttributeName')}"
        rows.append(row)
    return rows


async def delete_tables(client: Any, prefix: str) -> list[str]:
    deleted = []
    for spec in TABLES:
        try:
            await client.call("delete_table", TableName=spec.name(prefix))
            deleted.append(spec.name(prefix))
        except TableNotFound:
            pass
    return deleted


# --- `snaketron tables create|describe|delete` ------------------------------------


def require_shared_endpoint(settings: Settings, consequence: str) -> None:
    """Commands that work on the database from outside `serve` (tables, replay) need an
    endpoint that outlives a process: with none configured, serve's endpoint is its own."""
    if not settings.effective_dynamodb_endpoint and settings.embedded_db:
        raise ConfigError(
            "no DynamoDB endpoint is configured, so `snaketron serve` uses its own embedded endpoint: in memory, "
            f"inside that process, tables created as it starts; {consequence}. Set "
            "AWS_ENDPOINT_URL_DYNAMODB (LocalStack: http://localhost:4566), or SNAKETRON_EMBEDDED_DB=0 for AWS DynamoDB"
        )


def tables_command(args: argparse.Namespace) -> int:
    from snaketron.config import Settings
    from snaketron.db.client import DynamoClient
    from snaketron.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_json)
    # The endpoint as `snaketron serve` picks it (open_database): configured, else embedded, else AWS.
    endpoint = settings.effective_dynamodb_endpoint
    require_shared_endpoint(settings, "there is nothing here to manage")
    where = endpoint or f"AWS DynamoDB in {settings.aws_region}"
    print(f"snaketron tables {args.action}: {where}, tables {settings.table_prefix}-*", file=sys.stderr)

    async def run() -> int:
        async with DynamoClient(settings) as client:
            prefix = settings.table_prefix
            if args.action == "create":
                await ensure_tables(client, prefix)
                print(json.dumps(await describe_tables(client, prefix), indent=2))
            elif args.action == "describe":
                print(json.dumps(await describe_tables(client, prefix), indent=2))
            else:
                print(json.dumps({"deleted": await delete_tables(client, prefix)}))
        return 0

    try:
        return asyncio.run(run())
    except DatabaseError as exc:
        log.error("tables command failed", action=args.action, error=str(exc))
        return 1


if __name__ == "__main__":
    print(json.dumps(localstack_tables_document(), indent=2))
