"""One migration run: plan the renames, raise the id counters, copy table by table, verify.

Order of a run, and why:
1. The username plan (case collisions) is computed from the whole source and its
   digest compared with the one the migration started with: a resumed run must
   hand out exactly the same names, or it refuses.
2. The id counters are raised above the highest legacy ids *before* any item is
   written, so a server started meanwhile never allocates a legacy id.
3. Phases in dependency order (users before the players that name them), each
   streamed after its checkpoint, written through the batch writer, with the
   checkpoint moved only once the items before it are durable. Last, the current
   season's finished games are recorded onto the boards and histories
   (`snaketron.migrate.results`), one game at a time as a server records one.
4. Verification (counts and a sample compared field by field).

A run against a target that already holds accounts of a running server, and no
checkpoint of ours, is refused: new ids there would collide with legacy ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
import psycopg
import psycopg.conninfo

from snaketron.db import items
from snaketron.db.codec import to_item
from snaketron.db.errors import Conflict
from snaketron.db.tables import TableNames
from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.leaderboard.seasons import season_at
from snaketron.logs import get_logger
from snaketron.migrate import mapping
from snaketron.migrate.checkpoint import CheckpointStore, PhaseCheckpoint, RunState
from snaketron.migrate.legacy import LegacyGame, LegacyLobby, LegacyPlayer, LegacySpectator, LegacyUser
from snaketron.migrate.progress import ProgressSink, SilentProgress
from snaketron.migrate.report import MigrationReport
from snaketron.migrate.results import legacy_result
from snaketron.migrate.source import PostgresSource, SourceCounts
from snaketron.migrate.usernames import (
    CandidatesExhausted,
    RenamedAccount,
    candidates_for,
    nonconforming,
    plan_renames,
)
from snaketron.migrate.verify import verify_migration

if TYPE_CHECKING:
    from snaketron.db.dynamo import DynamoDatabase

log = get_logger("snaketron.migrate")

PHASES = ("users", "games", "players", "spectators", "lobbies", "leaderboards")
# Counters of entities whose legacy ids are carried over (servers: migrated games name them).
COUNTERS = ("USER", "GAME", "SERVER")

Row = TypeVar("Row")
PlainItem = tuple[str, dict[str, Any]]  # (table name, item as plain values)


class MigrationRefused(Exception):
    """The run would be unsafe; nothing was written. The message says what to do."""


class MigrateOptions(msgspec.Struct, kw_only=True):
    dsn: str
    dry_run: bool = False
    restart: bool = False  # forget checkpoints and rewrite everything
    verify: bool = True
    verify_only: bool = False
    sample_size: int = 200
    fetch_size: int = 2_000  # rows per server-side cursor fetch
    checkpoint_rows: int = 5_000  # rows between checkpoints
    source_timezone: str = "UTC"
    allow_nonempty_target: bool = False
    scan_segments: int = 4  # parallel scan segments for the verification counts


@dataclass
class _Phase(Generic[Row]):
    name: str
    total: Callable[[SourceCounts], int]
    rows: Callable[[tuple[int, ...]], AsyncIterator[Row]]
    key_of: Callable[[Row], tuple[int, ...]]
    to_items: Callable[[Row], list[PlainItem]]
    entities: tuple[str, ...]  # what one row becomes, for the report's counts


def plan_digest(renames: list[RenamedAccount]) -> str:
    return hashlib.sha256(msgspec.json.encode(renames)).hexdigest()


def _redact(dsn: str) -> str:
    """The DSN without a password, for the report."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(unparsable dsn)"
    parts.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **parts)


class MigrationRun:
    def __init__(
        self,
        options: MigrateOptions,
        source: PostgresSource,
        target: DynamoDatabase | None,
        *,
        progress: ProgressSink | None = None,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        if target is None and not options.dry_run:
            raise ValueError("a target is needed unless dry_run")
        self.options = options
        self.source = source
        self.target = target
        self.progress = progress or SilentProgress()
        self._now_ms = now_ms
        self.report = MigrationReport(source=_redact(options.dsn), dry_run=options.dry_run, started_at_ms=now_ms())
        self._names: dict[int, str] = {}  # user id -> new name, for renamed accounts only

    # --- the run ------------------------------------------------------------------------

    async def run(self) -> MigrationReport:
        renames = await self._plan_usernames()
        self._names = {r.user_id: r.new_username for r in renames}
        self.report.renamed = renames
        self.report.nonconforming_names = [
            problem
            for user_id, name in await self.source.names_to_check()
            if user_id not in self._names and (problem := nonconforming(user_id, name))
        ]
        if not self.options.verify_only:
            now_ms = self.report.started_at_ms
            counts = await self.source.counts(now_ms=now_ms)
            store = await self._prepare(renames) if self.target else None
            for phase in self._phases(now_ms):
                await self._run_phase(phase, counts, store)
            await self._seed_leaderboards(store, now_ms)
            if store:
                state = await store.load_run()
                assert state is not None
                state.completed_at_ms = self._now_ms()
                await store.save_run(state)
        if self.target and (self.options.verify or self.options.verify_only):
            self.report.verification = await verify_migration(
                self.source,
                self.target,
                renamed=self._names,
                now_ms=self._now_ms(),
                sample_size=self.options.sample_size,
                scan_segments=self.options.scan_segments,
            )
        self.report.finished_at_ms = self._now_ms()
        return self.report

    async def _plan_usernames(self) -> list[RenamedAccount]:
        groups = await self.source.case_collision_groups()
        spare = 4
        while True:
            checked = candidates_for(groups, spare=spare)
            taken = await self.source.taken_names(checked)
            try:
                return plan_renames(groups, taken=taken, checked=checked)
            except CandidatesExhausted:
                spare *= 8  # legacy accounts hold most of the names tried: look further

    async def _prepare(self, renames: list[RenamedAccount]) -> CheckpointStore:
        assert self.target is not None
        store = CheckpointStore(self.target.client, self.target.tables.main)
        digest = plan_digest(renames)
        state = await store.load_run()
        if state is not None and self.options.restart:
            # Our own earlier run raised the counters: starting over is safe.
            await store.clear(PHASES)
            state = RunState(plan_digest=digest, started_at_ms=self.report.started_at_ms)
            await store.save_run(state)
        if state is None:
            if not self.options.allow_nonempty_target and await self._target_has_allocated_ids():
                raise MigrationRefused(
                    "the target tables already hold accounts or games of a running server and no checkpoint of "
                    "this migration: their ids would collide with the legacy ids. Migrate into empty tables "
                    "before opening the new servers (or pass --allow-nonempty-target if you know they are ours)."
                )
            state = RunState(plan_digest=digest, started_at_ms=self.report.started_at_ms)
            await store.save_run(state)
        elif state.plan_digest != digest:
            raise MigrationRefused(
                "the legacy usernames changed since this migration started, so accounts would get other names "
                "than the ones already written. Re-run with --restart to carry everything over again."
            )
        await self._raise_counters()
        return store

    async def _target_has_allocated_ids(self) -> bool:
        assert self.target is not None
        for entity in ("USER", "GAME"):
            response = await self.target.client.call(
                "get_item",
                TableName=self.target.tables.main,
                Key={"pk": {"S": "COUNTER"}, "sk": {"S": entity}},
                ConsistentRead=True,
            )
            if "Item" in response:
                return True
        return False

    async def _raise_counters(self) -> None:
        """Counters (last id handed out, see snaketron.db.ids) to at least the highest legacy id."""
        assert self.target is not None
        highest = await self.source.max_ids()
        for entity, value in (("USER", highest.user), ("GAME", highest.game), ("SERVER", highest.server)):
            key = {"pk": {"S": "COUNTER"}, "sk": {"S": entity}}
            try:
                await self.target.client.call(
                    "update_item",
                    TableName=self.target.tables.main,
                    Key=key,
                    UpdateExpression="SET #v = :v",
                    ConditionExpression="attribute_not_exists(#v) OR #v < :v",
                    ExpressionAttributeNames={"#v": "value"},
                    ExpressionAttributeValues={":v": {"N": str(value)}},
                )
            except Conflict:
                pass  # already at or above: counters never go down
            current = await self.target.client.call(
                "get_item", TableName=self.target.tables.main, Key=key, ConsistentRead=True
            )
            self.report.counters[entity.lower()] = int(current["Item"]["value"]["N"])

    # --- phases -------------------------------------------------------------------------

    def _username(self, user_id: int, legacy_name: str) -> str:
        return self._names.get(user_id, legacy_name)

    def _user_items(self, row: LegacyUser) -> list[PlainItem]:
        user = mapping.user_record(row, self._username(row.user_id, row.username))
        tables = self._tables
        return [(tables.main, items.user_item(user)), (tables.usernames, items.username_item(user))]

    def _lobby_items(self, row: LegacyLobby) -> list[PlainItem]:
        lobby = mapping.lobby_record(row)
        code = items.game_code_item(
            lobby.game_code,
            lobby.game_id,
            is_private=mapping.lobby_is_private(row),
            status=lobby.state,
            ttl=lobby.expires_at_ms // 1000,
        )
        return [(self._tables.main, items.lobby_item(lobby)), (self._tables.game_codes, code)]

    @property
    def _tables(self) -> TableNames:
        # A dry run maps rows exactly as a real one, into tables of a placeholder prefix.
        return self.target.tables if self.target else TableNames.for_prefix("dry-run")

    def _phases(self, now_ms: int) -> list[_Phase[Any]]:
        src = self.source
        main = self._tables.main

        users: _Phase[LegacyUser] = _Phase(
            "users",
            lambda c: c.users,
            lambda after: src.users(after=after[0] if after else 0),
            lambda r: (r.user_id,),
            self._user_items,
            ("users", "usernames"),
        )
        games: _Phase[LegacyGame] = _Phase(
            "games",
            lambda c: c.games,
            lambda after: src.games(after=after[0] if after else 0),
            lambda r: (r.game_id,),
            lambda r: [(main, items.game_item(mapping.game_record(r)))],
            ("games",),
        )
        players: _Phase[LegacyPlayer] = _Phase(
            "players",
            lambda c: c.players,
            lambda after: src.players(after=(after[0], after[1]) if after else (0, 0)),
            lambda r: (r.game_id, r.user_id),
            lambda r: [(main, items.player_item(mapping.player_record(r, self._username(r.user_id, r.username))))],
            ("players",),
        )
        spectators: _Phase[LegacySpectator] = _Phase(
            "spectators",
            lambda c: c.spectators,
            lambda after: src.spectators(after=(after[0], after[1]) if after else (0, 0)),
            lambda r: (r.game_id, r.user_id),
            lambda r: [(main, items.spectator_item(mapping.spectator_record(r)))],
            ("spectators",),
        )
        lobbies: _Phase[LegacyLobby] = _Phase(
            "lobbies",
            lambda c: c.lobbies,
            lambda after: src.lobbies(now_ms=now_ms, after=after[0] if after else 0),
            lambda r: (r.lobby_id,),
            self._lobby_items,
            ("lobbies", "game_codes"),
        )
        return [users, games, players, spectators, lobbies]

    async def _run_phase(self, phase: _Phase[Any], counts: SourceCounts, store: CheckpointStore | None) -> None:
        checkpoint = await store.load(phase.name) if store else PhaseCheckpoint(phase=phase.name)
        if checkpoint.after:
            self.report.resumed_from[phase.name] = "/".join(map(str, checkpoint.after))
        self.progress.start_phase(phase.name, total=phase.total(counts), completed=checkpoint.rows)
        if checkpoint.done:
            self.progress.finish_phase(phase.name)
            return
        pending: list[Awaitable[None]] = []
        since_checkpoint = 0
        last_key = checkpoint.after
        async for row in phase.rows(checkpoint.after):
            last_key = phase.key_of(row)
            since_checkpoint += 1
            try:
                written = phase.to_items(row)
            except mapping.UnmappableRow as exc:
                self.report.skipped.append(str(exc))
                written = []
            if written:
                for entity in phase.entities:
                    setattr(self.report.written, entity, getattr(self.report.written, entity) + 1)
            if self.target:
                for table, plain in written:
                    pending.append(await self.target.writer.put(table, to_item(plain)))
            self.progress.advance(phase.name, 1)
            if since_checkpoint >= self.options.checkpoint_rows:
                await self._save(store, checkpoint, pending, last_key, since_checkpoint, done=False)
                pending, since_checkpoint = [], 0
        await self._save(store, checkpoint, pending, last_key, since_checkpoint, done=True)
        self.progress.finish_phase(phase.name)

    async def _seed_leaderboards(self, store: CheckpointStore | None, now_ms: int) -> None:
        """The current season's boards, wins, losses and histories from its finished
        games, each recorded as the server records a game (`LeaderboardRecorder`: a
        recorded game is never counted twice, so a resumed or repeated run is safe)."""
        months = self.target.settings.season_months if self.target else 1
        season = season_at(now_ms, months)
        checkpoint = await store.load("leaderboards") if store else PhaseCheckpoint(phase="leaderboards")
        if checkpoint.done:
            return
        recorder = (
            LeaderboardRecorder(self.target.client, self.target.tables.main, season_months=months)
            if self.target
            else None
        )
        since_checkpoint = 0
        after = checkpoint.after[0] if checkpoint.after else 0
        async for row in self.source.finished_games(since_ms=season.start_ms, after=after):
            checkpoint.after = (row.game_id,)
            since_checkpoint += 1
            result = legacy_result(row, self._username)
            if result is not None:
                self.report.written.leaderboard_games += 1
                if recorder is not None:
                    await recorder.record(result)
            if since_checkpoint >= self.options.checkpoint_rows:
                await self._save(store, checkpoint, [], checkpoint.after, since_checkpoint, done=False)
                since_checkpoint = 0
        await self._save(store, checkpoint, [], checkpoint.after, since_checkpoint, done=True)

    async def _save(
        self,
        store: CheckpointStore | None,
        checkpoint: PhaseCheckpoint,
        pending: list[Awaitable[None]],
        last_key: tuple[int, ...],
        rows: int,
        *,
        done: bool,
    ) -> None:
        # Every item before the checkpoint must be durable before the checkpoint moves;
        # a failed item raises here and the checkpoint stays where it was.
        await asyncio.gather(*pending)
        checkpoint.after, checkpoint.rows, checkpoint.done = last_key, checkpoint.rows + rows, done
        if store:
            await store.save(checkpoint)
            log.debug(
                "migration checkpoint", phase=checkpoint.phase, after=list(last_key), rows=checkpoint.rows, done=done
            )
