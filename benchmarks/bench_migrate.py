"""Throughput of `snaketron migrate from-postgres`, and its memory as the source grows.

Starts a throwaway PostgreSQL (tests/support/postgres.py: Debian's binaries, a
temp dir, 127.0.0.1), seeds it like an earlier deployment, and prints:

1. reading + mapping only (a dry run, in process): rows/s per table;
2. the full copy into an embedded DynamoDB endpoint (moto in a child process,
   in memory): rows/s and items/s per table, then the verification time;
3. peak RSS of `snaketron migrate from-postgres --dry-run` run as a process on
   a small and a 10x larger source: flat memory means the streams stream.

    python benchmarks/bench_migrate.py [--users 40000] [--games 16000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from snaketron.db import open_database  # noqa: E402
from snaketron.db.client import DynamoClient  # noqa: E402
from snaketron.db.embedded import EmbeddedEndpoint  # noqa: E402
from snaketron.db.tables import ensure_tables  # noqa: E402
from snaketron.migrate import migrate_from_postgres  # noqa: E402
from snaketron.migrate.runner import MigrateOptions  # noqa: E402
from support.dynamo_settings import make_settings  # noqa: E402
from support.postgres import PostgresCluster, SeedSpec, seed_legacy_data  # noqa: E402

ITEMS_PER_ROW = {"users": 2, "games": 1, "players": 1, "spectators": 1, "lobbies": 2}


class PhaseClock:
    """A progress sink that times each phase."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.rows: dict[str, int] = {}

    def start_phase(self, phase: str, *, total: int, completed: int) -> None:
        self.started[phase] = time.perf_counter()
        self.rows[phase] = 0

    def advance(self, phase: str, rows: int) -> None:
        self.rows[phase] += rows

    def finish_phase(self, phase: str) -> None:
        self.seconds[phase] = time.perf_counter() - self.started[phase]


def print_phases(clock: PhaseClock, *, with_items: bool) -> None:
    header = "| table | rows | seconds | rows/s |" + (" items/s |" if with_items else "")
    print(header)
    print("|---|---|---|---|" + ("---|" if with_items else ""))
    total_rows = total_items = 0
    total_s = 0.0
    for phase, seconds in clock.seconds.items():
        rows = clock.rows[phase]
        items = rows * ITEMS_PER_ROW[phase]
        total_rows, total_items, total_s = total_rows + rows, total_items + items, total_s + seconds
        line = f"| {phase} | {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} |"
        print(line + (f" {items / seconds:,.0f} |" if with_items else ""))
    line = f"| all | {total_rows:,} | {total_s:.2f} | {total_rows / total_s:,.0f} |"
    print(line + (f" {total_items / total_s:,.0f} |" if with_items else ""))


async def dry_run(dsn: str) -> PhaseClock:
    clock = PhaseClock()
    options = MigrateOptions(dsn=dsn, dry_run=True)
    await migrate_from_postgres(options, make_settings("http://unused", "unused"), progress=clock)
    return clock


async def full_copy(dsn: str, endpoint: str) -> tuple[PhaseClock, float, bool]:
    # The embedded endpoint answers a scan page of a large table slowly: long timeouts.
    settings = make_settings(
        endpoint,
        "bench",
        batch_max_in_flight=8,
        batch_flush_ms=20,
        db_read_timeout=120.0,
        db_deadline_ms=300_000,
    )
    async with DynamoClient(settings, endpoint) as admin:
        await ensure_tables(admin, "bench")
    clock = PhaseClock()
    async with open_database(settings) as db:
        options = MigrateOptions(dsn=dsn, verify=False, checkpoint_rows=10_000)
        await migrate_from_postgres(options, settings, progress=clock, target=db)
        start = time.perf_counter()
        checked = await migrate_from_postgres(
            MigrateOptions(dsn=dsn, verify_only=True, sample_size=40, scan_segments=1), settings, target=db
        )
        return clock, time.perf_counter() - start, checked.ok


_DRY_RUN_REPORTING_RSS = """
import resource, sys
from snaketron.cli import main
code = main(["migrate", "from-postgres", "--dsn", sys.argv[1], "--dry-run", "--report", ""])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def peak_rss_mib_of_dry_run(dsn: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _DRY_RUN_REPORTING_RSS, dsn],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "SNAKETRON_LOG_LEVEL": "warning"},
    )
    return int(done.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40_000)
    parser.add_argument("--games", type=int, default=16_000)
    args = parser.parse_args()
    print(f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")
    cluster = PostgresCluster().start()
    try:
        spec = SeedSpec(users=args.users, games=args.games, lobbies=args.games // 20)
        dsn = cluster.create_database("bench")
        start = time.perf_counter()
        seeded = seed_legacy_data(dsn, spec)
        print(f"seeded {seeded.counts} in {time.perf_counter() - start:.1f}s\n")

        print("## 1. read + map (dry run)")
        print_phases(asyncio.run(dry_run(dsn)), with_items=False)

        print("\n## 2. full copy into the embedded endpoint")
        with EmbeddedEndpoint() as endpoint:
            clock, verify_s, ok = asyncio.run(full_copy(dsn, endpoint.url))
        print_phases(clock, with_items=True)
        print(f"verification (counts by scan + 70 sampled records): {verify_s:.1f}s, {'ok' if ok else 'MISMATCH'}")

        print("\n## 3. peak RSS of a dry run, as the source grows 10x")
        small = cluster.create_database("bench_small")
        seed_legacy_data(small, SeedSpec(users=args.users // 10, games=args.games // 10, lobbies=args.games // 200))
        small_rss = peak_rss_mib_of_dry_run(small)
        large_rss = peak_rss_mib_of_dry_run(dsn)
        print(f"| source | peak RSS |\n|---|---|\n| {args.users // 10:,} users | {small_rss:.0f} MiB |")
        print(f"| {args.users:,} users | {large_rss:.0f} MiB |")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
