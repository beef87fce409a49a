"""What a migration run did, as one document: written to a JSON file and printed.

Every account the case-collision policy renamed is listed, as is every name that
today's rules would refuse, so no player is lost or changed without a trace.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

from snaketron.migrate.usernames import NonconformingName, RenamedAccount

ENTITIES = ("users", "usernames", "games", "players", "spectators", "lobbies", "game_codes")


class EntityCounts(msgspec.Struct, kw_only=True):
    users: int = 0
    usernames: int = 0
    games: int = 0
    players: int = 0
    spectators: int = 0
    lobbies: int = 0
    game_codes: int = 0
    leaderboard_games: int = 0  # finished games of the current season seeded onto boards and histories


class Mismatch(msgspec.Struct, kw_only=True):
    entity: str
    key: str  # e.g. "user 42", "game 7 player 3", "count"
    field: str
    expected: str
    actual: str


class Verification(msgspec.Struct, kw_only=True):
    source: EntityCounts  # what PostgreSQL holds (that is carried over)
    target: EntityCounts  # what DynamoDB holds of it
    sampled: int  # records compared field by field
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches


class MigrationReport(msgspec.Struct, kw_only=True):
    source: str  # the DSN without its password
    dry_run: bool
    started_at_ms: int
    finished_at_ms: int = 0
    written: EntityCounts = msgspec.field(default_factory=EntityCounts)  # items sent this run
    resumed_from: dict[str, str] = msgspec.field(default_factory=dict)  # phase -> checkpoint key
    counters: dict[str, int] = msgspec.field(default_factory=dict)  # entity -> counter value after the run
    renamed: list[RenamedAccount] = msgspec.field(default_factory=list)
    nonconforming_names: list[NonconformingName] = msgspec.field(default_factory=list)
    skipped: list[str] = msgspec.field(default_factory=list)  # rows that could not be mapped, and why
    verification: Verification | None = None

    @property
    def ok(self) -> bool:
        return not self.skipped and (self.verification is None or self.verification.ok)

    def write(self, path: Path) -> None:
        path.write_bytes(msgspec.json.format(msgspec.json.encode(self), indent=2) + b"\n")


def print_report(report: MigrationReport, console: Console, *, report_path: Path | None, list_limit: int = 50) -> None:
    title = "Dry run: nothing written" if report.dry_run else "Migration"
    counts = Table(title=title)
    counts.add_column("entity")
    counts.add_column("written" if not report.dry_run else "would write", justify="right")
    if report.verification:
        counts.add_column("PostgreSQL", justify="right")
        counts.add_column("DynamoDB", justify="right")
    for entity in ENTITIES:
        row = [entity, str(getattr(report.written, entity))]
        if report.verification:
            source, target = getattr(report.verification.source, entity), getattr(report.verification.target, entity)
            row += [str(source), str(target) if source == target else f"[red]{target}[/red]"]
        counts.add_row(*row)
    console.print(counts)
    if report.counters:
        console.print("id counters: " + ", ".join(f"{k}={v}" for k, v in sorted(report.counters.items())))

    if report.renamed:
        renamed = Table(title=f"{len(report.renamed)} accounts renamed (their name was taken in another letter case)")
        for column in ("user id", "old name", "new name", "name kept by user id"):
            renamed.add_column(column)
        for r in report.renamed[:list_limit]:
            renamed.add_row(str(r.user_id), r.old_username, r.new_username, str(r.name_kept_by_user_id))
        console.print(renamed)
    if report.nonconforming_names:
        kept = Table(
            title=f"{len(report.nonconforming_names)} accounts keep names today's rules refuse (they can still log in)"
        )
        for column in ("user id", "name", "problems"):
            kept.add_column(column)
        for n in report.nonconforming_names[:list_limit]:
            kept.add_row(str(n.user_id), n.username, "; ".join(n.problems))
        console.print(kept)
    truncated = max(len(report.renamed), len(report.nonconforming_names), len(report.skipped)) > list_limit
    if report_path and truncated:
        console.print(f"only the first {list_limit} of each list are shown: {report_path} lists every account")
    for line in report.skipped[:list_limit]:
        console.print(f"[red]skipped[/red] {line}")

    if report.verification:
        v = report.verification
        if v.ok:
            console.print(f"[green]verified[/green]: counts match, {v.sampled} records compared field by field")
        else:
            console.print(f"[red]verification failed[/red]: {len(v.mismatches)} mismatches")
            for m in v.mismatches[:list_limit]:
                console.print(f"  {m.entity} {m.key}: {m.field} expected {m.expected!r}, found {m.actual!r}")
    if report_path:
        console.print(f"report: {report_path}")
