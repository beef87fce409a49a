"""The data layer: DynamoDB tables, client and retries, batch writer, embedded endpoint.

The server needs one call: `async with open_database(settings) as db:`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from snaketron.config import ConfigError
from snaketron.db.errors import DatabaseUnavailable, TableNotFound

if TYPE_CHECKING:
    from snaketron.config import Settings
    from snaketron.db.dynamo import DynamoDatabase


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[DynamoDatabase]:
    """Connect to the configured endpoint (or start the embedded one when none is
    configured and SNAKETRON_EMBEDDED_DB is on), create the tables when
    SNAKETRON_CREATE_TABLES is on, and yield a `DynamoDatabase`. An embedded endpoint
    whose process dies is restarted with its tables (`EmbeddedSupervisor`). On exit it
    flushes the batch writer, closes the client and stops the embedded endpoint."""
    from snaketron.db.client import DynamoClient
    from snaketron.db.dynamo import DynamoDatabase
    from snaketron.db.embedded import EmbeddedEndpoint, EmbeddedSupervisor
    from snaketron.db.tables import ensure_tables
    from snaketron.logs import get_logger

    log = get_logger("snaketron.db")
    async with contextlib.AsyncExitStack() as stack:
        endpoint = settings.effective_dynamodb_endpoint
        embedded: EmbeddedEndpoint | None = None
        if not endpoint:
            if not settings.embedded_db:
                log.info("using AWS DynamoDB", region=settings.aws_region, prefix=settings.table_prefix)
            else:
                embedded = await stack.enter_async_context(EmbeddedEndpoint())
                endpoint = embedded.url
                log.warning(
                    "no DynamoDB endpoint configured: started the embedded endpoint; "
                    "data lives in memory only and is lost when the server stops",
                    endpoint=endpoint,
                )
        client = DynamoClient(settings, endpoint_url=endpoint)
        try:
            await client.start()
        except ValueError as exc:  # botocore: "Invalid endpoint: ..."
            raise ConfigError(f"{exc}: set AWS_ENDPOINT_URL_DYNAMODB to an http(s) URL") from exc
        db = DynamoDatabase(client, settings, embedded=embedded is not None)
        stack.push_async_callback(db.close)  # flush first, then the client; the endpoint stops after
        if embedded is not None:
            supervisor = EmbeddedSupervisor(embedded, db.recreate_after_data_loss, db.set_state)
            supervisor.start()
            stack.push_async_callback(supervisor.stop)  # first of all: stopping is no death
        try:
            # One request first: an unreachable endpoint fails once, not once per table.
            await client.call("list_tables", Limit=1)
            if settings.create_tables:
                await ensure_tables(client, settings.table_prefix)
            else:
                await db.ping()
        except TableNotFound as exc:
            raise ConfigError(
                f"the tables {settings.table_prefix}-* do not exist at {endpoint or 'AWS DynamoDB'} and "
                "SNAKETRON_CREATE_TABLES is off: run `snaketron tables create`, set SNAKETRON_CREATE_TABLES=1, "
                "or check DYNAMODB_TABLE_PREFIX"
            ) from exc
        except DatabaseUnavailable as exc:
            raise ConfigError(_unreachable(endpoint, settings, exc)) from exc
        log.info("database ready", endpoint=endpoint or "aws", prefix=settings.table_prefix)
        yield db


def _unreachable(endpoint: str, settings: Settings, exc: DatabaseUnavailable) -> str:
    """Why start-up found no database, and which settings lead to one."""
    if endpoint:
        return (
            f"DynamoDB at {endpoint} is not reachable ({exc}): check AWS_ENDPOINT_URL_DYNAMODB "
            "(or AWS_ENDPOINT_URL), or leave both empty for the embedded endpoint"
        )
    return (
        f"AWS DynamoDB in {settings.aws_region} is not reachable ({exc}): check AWS_REGION and the AWS "
        "credentials, or set AWS_ENDPOINT_URL_DYNAMODB (or SNAKETRON_EMBEDDED_DB=1 for the embedded endpoint)"
    )


__all__ = ["open_database"]
