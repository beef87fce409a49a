"""`snaketron migrate from-postgres`: carry an earlier PostgreSQL deployment into DynamoDB.

Copies users (ids, bcrypt hashes, MMR, creation time, usernames-table entries),
games with their players and spectators, and live custom lobbies with their game
codes; raises the id counters above the highest legacy ids; renames accounts whose
names collide but for letter case (see `snaketron.migrate.usernames`); verifies
the result. Idempotent and resumable (see `snaketron.migrate.checkpoint`).

The DynamoDB side is configured like the server (AWS_ENDPOINT_URL_DYNAMODB,
DYNAMODB_TABLE_PREFIX, ...). The PostgreSQL password is best passed the libpq way
(PGPASSWORD or ~/.pgpass) rather than inside --dsn, where `ps` shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from snaketron.config import Settings
    from snaketron.db.dynamo import DynamoDatabase
    from snaketron.migrate.progress import ProgressSink
    from snaketron.migrate.report import MigrationReport
    from snaketron.migrate.runner import MigrateOptions

EXIT_OK = 0
EXIT_MISMATCH = 1  # verification found differences, or rows could not be mapped
EXIT_REFUSED = 2  # nothing unsafe was done; the message says why


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="migrate_action", required=True)
    pg = sub.add_parser("from-postgres", help="copy an earlier PostgreSQL deployment into the DynamoDB tables")
    pg.add_argument("--dsn", required=True, help="PostgreSQL connection string, e.g. postgresql://user@host:5432/db")
    pg.add_argument("--dry-run", action="store_true", help="read and map everything, write nothing")
    pg.add_argument(
        "--restart", action="store_true", help="forget the checkpoints of earlier runs and copy everything again"
    )
    pg.add_argument("--no-verify", dest="verify", action="store_false", help="skip the final verification")
    pg.add_argument("--verify-only", action="store_true", help="only compare PostgreSQL with DynamoDB")
    pg.add_argument("--sample-size", type=int, default=200, help="users compared field by field (half as many games)")
    pg.add_argument("--fetch-size", type=int, default=2_000, help="rows per server-side cursor fetch")
    pg.add_argument("--checkpoint-rows", type=int, default=5_000, help="rows between checkpoints")
    pg.add_argument("--source-timezone", default="UTC", help="zone of the legacy `timestamp` columns (default UTC)")
    pg.add_argument("--scan-segments", type=int, default=4, help="parallel scan segments when verifying counts")
    pg.add_argument(
        "--allow-nonempty-target",
        action="store_true",
        help="write even though the tables hold accounts created by a server (ids may collide)",
    )
    pg.add_argument("--report", default="migration-report.json", help="where to write the JSON report ('' for nowhere)")


def migrate_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from snaketron.config import Settings
    from snaketron.logs import configure_logging
    from snaketron.migrate.runner import MigrateOptions

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_json)
    options = MigrateOptions(
        dsn=args.dsn,
        dry_run=args.dry_run,
        restart=args.restart,
        verify=args.verify,
        verify_only=args.verify_only,
        sample_size=args.sample_size,
        fetch_size=args.fetch_size,
        checkpoint_rows=args.checkpoint_rows,
        source_timezone=args.source_timezone,
        allow_nonempty_target=args.allow_nonempty_target,
        scan_segments=args.scan_segments,
    )
    console = Console(stderr=True)
    report_path = Path(args.report) if args.report else None
    return asyncio.run(run_command(options, settings, console=console, report_path=report_path))


async def run_command(
    options: MigrateOptions, settings: Settings, *, console: Console, report_path: Path | None
) -> int:
    """The command's body: run, print and write the report, return the exit code."""
    import psycopg

    from snaketron.db.errors import DatabaseError
    from snaketron.migrate.progress import RichProgress
    from snaketron.migrate.report import print_report
    from snaketron.migrate.runner import MigrationRefused

    try:
        with RichProgress(console) as progress:
            report = await migrate_from_postgres(options, settings, progress=progress)
    except MigrationRefused as exc:
        console.print(f"[red]refused[/red]: {exc}")
        return EXIT_REFUSED
    except (psycopg.Error, DatabaseError) as exc:
        console.print(f"[red]failed[/red] ({type(exc).__name__}): {exc}")
        console.print("nothing is lost: run the same command again to resume from the last checkpoint")
        return EXIT_REFUSED
    if report_path:
        report.write(report_path)
    print_report(report, console, report_path=report_path)
    return EXIT_OK if report.ok else EXIT_MISMATCH


@contextlib.asynccontextmanager
async def open_target(settings: Settings) -> AsyncIterator[DynamoDatabase]:
    """The DynamoDB tables to migrate into, refusing the in-memory embedded endpoint."""
    from snaketron.db import open_database
    from snaketron.migrate.runner import MigrationRefused

    if not settings.effective_dynamodb_endpoint and settings.embedded_db:
        raise MigrationRefused(
            "no DynamoDB endpoint is configured, and the embedded endpoint keeps data in memory only: set "
            "AWS_ENDPOINT_URL_DYNAMODB (e.g. LocalStack), or SNAKETRON_EMBEDDED_DB=0 to use AWS"
        )
    async with open_database(settings) as db:
        yield db


async def migrate_from_postgres(
    options: MigrateOptions,
    settings: Settings,
    *,
    progress: ProgressSink | None = None,
    target: DynamoDatabase | None = None,
) -> MigrationReport:
    """Run one migration. `target`: an open database to write into (tests pass theirs);
    by default the tables `settings` name are opened (not for a dry run)."""
    from snaketron.migrate.runner import MigrationRun
    from snaketron.migrate.source import PostgresSource

    async with contextlib.AsyncExitStack() as stack:
        if target is None and not options.dry_run:
            target = await stack.enter_async_context(open_target(settings))
        source = await stack.enter_async_context(
            PostgresSource.open(options.dsn, timezone=options.source_timezone, fetch_size=options.fetch_size)
        )
        run = MigrationRun(options, source, None if options.dry_run else target, progress=progress)
        return await run.run()
